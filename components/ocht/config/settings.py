"""Process-wide settings from the environment (``OCHT_*``) and redaction of secrets."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ocht.config.project import project_home

ENV_PREFIX = "OCHT_"


class Settings(BaseModel):
    """Settings read from ``OCHT_*`` environment variables.

    Attributes:
        profile: the default profile (``OCHT_PROFILE``) when ``--profile`` is not given.
        log_format: ``console``, ``json`` or ``auto`` (console on a terminal).
        log_level: ``debug``, ``info``, ``warning``, ``error``.
        store_url: run store URL (``OCHT_STORE_URL``; default ``ocht.db`` in the project home).
        home: the folder for run data (``OCHT_HOME``); unset, each pipeline's project home
            is used (see :func:`ocht.config.project_home`).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    profile: str | None = None
    log_format: Literal["console", "json", "auto"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "warning"
    store_url: str | None = Field(default=None, repr=False)
    home: str | None = None

    def home_for(self, pipeline: str | Path | None = None) -> Path:
        """The run-data folder for ``pipeline``: ``home`` if set, else its project home."""
        if self.home:
            return Path(self.home).expanduser().resolve()
        return project_home(pipeline, env={})

    def store_url_for(self, home: Path) -> str:
        """The run store's URL: ``store_url`` if set, else ``ocht.db`` under ``home``."""
        return self.store_url or f"sqlite:///{home / 'ocht.db'}"

    @model_validator(mode="before")
    @classmethod
    def _from_environment(cls, data: Any) -> Any:
        # explicit values win; the rest come from OCHT_<NAME> (read at construction, so a
        # test's monkeypatched environment is seen). Plain os.environ keeps `ocht` fast to
        # start: pydantic-settings alone costs a tenth of a second to import.
        given = dict(data) if isinstance(data, dict) else {}
        for name in cls.model_fields:
            value = os.environ.get(f"{ENV_PREFIX}{name.upper()}")
            if name not in given and value not in (None, ""):
                given[name] = value.lower() if name in ("log_format", "log_level") else value
        return given


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (longest first) replaced by ``***``.

    Example:
        >>> redact("postgres://u:hunter2@h/db", {"hunter2"})
        'postgres://u:***@h/db'
    """
    for secret in sorted((s for s in secrets if len(s) >= 3), key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
