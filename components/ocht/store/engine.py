"""The store's URL: an explicit one, ``$OCHT_STORE_URL``, or SQLite under the base folder.

Engines are made by :mod:`ocht.sql_engine` and every text the store keeps goes through
the one redaction (:func:`ocht.observability.redact`).
"""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import URL

from ocht.observability import redact
from ocht.sql_engine import create_engine as _create_engine
from ocht.sql_engine import parse_url

ENV_URL = "OCHT_STORE_URL"
DEFAULT_PATH = Path(".ocht") / "ocht.db"


def redact_text(text: str) -> str:
    """``text`` without secrets (the one redaction of :mod:`ocht.observability`).

    Example:
        >>> redact_text("postgresql://bob:s3cret@db/x failed")
        'postgresql://bob:***@db/x failed'
    """
    return redact(text)


def resolve_url(url: str | None, base_dir: Path | None) -> URL:
    """The store's URL: ``url``, else ``$OCHT_STORE_URL``, else ``<base_dir>/.ocht/ocht.db``.

    Raises:
        ValueError: the URL cannot be parsed (the message never quotes its password).
    """
    text = url or os.environ.get(ENV_URL)
    if not text:
        path = (base_dir or Path.cwd()) / DEFAULT_PATH
        return URL.create("sqlite", database=str(path))
    return parse_url(text)


def create_engine(url: URL) -> sa.Engine:
    """An engine for ``url``; SQLite gets real transactions (DDL included), foreign keys and
    WAL (a run's few small commits do not each wait on an fsync)."""
    return _create_engine(url, foreign_keys=True, wal=True)
