"""Process-wide settings from the environment (``OCHT_*``) and redaction of secrets."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings read from ``OCHT_*`` environment variables.

    Attributes:
        profile: the default profile (``OCHT_PROFILE``) when ``--profile`` is not given.
        log_format: ``console``, ``json`` or ``auto`` (console on a terminal).
        log_level: ``debug``, ``info``, ``warning``, ``error``.
        store_url: run store URL (``OCHT_STORE_URL``; default a SQLite file in ``.ocht/``).
        home: the folder for run data (``.ocht`` in the working directory by default).
    """

    model_config = SettingsConfigDict(env_prefix="OCHT_", extra="ignore", frozen=True)

    profile: str | None = None
    log_format: Literal["console", "json", "auto"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    store_url: str | None = Field(default=None, repr=False)
    home: str = ".ocht"


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first) replaced by ``***``.

    Example:
        >>> redact("postgres://u:hunter2@h/db", {"hunter2"})
        'postgres://u:***@h/db'
    """
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
