"""The store's URL: an explicit one, ``$OCHT_STORE_URL``, or SQLite under the base folder.

Engines are made by :mod:`ocht.sql_engine` and every text the store keeps goes through
the one redaction (:func:`ocht.observability.redact`). SQLAlchemy is imported only for a
URL that is not a plain SQLite file (:func:`sqlite_file`), or when an engine is asked for.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from ocht.observability import redact

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL

ENV_URL = "OCHT_STORE_URL"
DEFAULT_PATH = Path(".ocht") / "ocht.db"
_SQLITE = "sqlite:///"


def redact_text(text: str) -> str:
    """``text`` without secrets (the one redaction of :mod:`ocht.observability`).

    Example:
        >>> redact_text("postgresql://bob:s3cret@db/x failed")
        'postgresql://bob:***@db/x failed'
    """
    return redact(text)


def sqlite_file(url: str | None, base_dir: Path | None) -> str | None:
    """The file of the store when it is a plain SQLite file, else ``None``.

    Plain: no URL (``<base_dir>/.ocht/ocht.db``) or ``sqlite:///PATH`` without a driver,
    query, in-memory database or characters a URL would encode; anything else is for
    SQLAlchemy to read (:func:`resolve_url`).

    Example:
        >>> sqlite_file("sqlite:////srv/ocht.db", None)
        '/srv/ocht.db'
        >>> sqlite_file("postgresql://db/ocht", None) is None
        True
    """
    text = url or os.environ.get(ENV_URL)
    if not text:
        return str((base_dir or Path.cwd()) / DEFAULT_PATH)
    if not text.startswith(_SQLITE):
        return None
    path = text.removeprefix(_SQLITE)
    if not path or path == ":memory:" or path.startswith("file:") or any(c in path for c in "?%:#"):
        return None
    return path


def sqlite_url_text(path: str) -> str:
    """The URL of a SQLite file, as :func:`sqlite_file` read it."""
    return _SQLITE + path


def resolve_url(url: str | None, base_dir: Path | None) -> URL:
    """The store's URL: ``url``, else ``$OCHT_STORE_URL``, else ``<base_dir>/.ocht/ocht.db``.

    Raises:
        ValueError: the URL cannot be parsed (the message never quotes its password).
    """
    from sqlalchemy.engine import URL

    from ocht.sql_engine import parse_url

    text = url or os.environ.get(ENV_URL)
    if not text:
        path = (base_dir or Path.cwd()) / DEFAULT_PATH
        return URL.create("sqlite", database=str(path))
    return parse_url(text)


def create_engine(url: URL) -> sa.Engine:
    """An engine for ``url``; SQLite gets real transactions (DDL included), foreign keys and
    WAL (a run's few small commits do not each wait on an fsync)."""
    from ocht.sql_engine import create_engine as _create_engine

    return _create_engine(url, foreign_keys=True, wal=True)
