"""Engines for the store: URL resolution, SQLite settings, redaction of secrets."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

ENV_URL = "OCHT_STORE_URL"
DEFAULT_PATH = Path(".ocht") / "ocht.db"

# scheme://user:password@  and  password=...  (key=value DSNs, query strings)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)(?=@)")
_KV_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|token|sslpassword)\s*=\s*)(?P<secret>[^\s&;,'\"]+)",
    re.IGNORECASE,
)


def redact_text(text: str) -> str:
    """``text`` with passwords in URLs and ``password=...`` pairs replaced by ``***``.

    Example:
        >>> redact_text("postgresql://bob:s3cret@db/x failed")
        'postgresql://bob:***@db/x failed'
    """
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}***", text)
    return _KV_PASSWORD.sub(lambda m: f"{m['head']}***", text)


def resolve_url(url: str | None, base_dir: Path | None) -> URL:
    """The store's URL: ``url``, else ``$OCHT_STORE_URL``, else ``<base_dir>/.ocht/ocht.db``."""
    text = url or os.environ.get(ENV_URL)
    if not text:
        path = (base_dir or Path.cwd()) / DEFAULT_PATH
        return URL.create("sqlite", database=str(path))
    parsed = make_url(text)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def create_engine(url: URL) -> sa.Engine:
    """An engine for ``url``; SQLite gets real transactions (DDL included) and WAL."""
    if url.get_backend_name() != "sqlite":
        connect_args: dict[str, Any] = {}
        if url.get_backend_name() == "postgresql":
            connect_args["connect_timeout"] = 10
        return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    sqlite_transactions(engine)
    return engine


def sqlite_transactions(engine: sa.Engine) -> None:
    """Make the sqlite3 driver run every statement, DDL included, inside BEGIN ... COMMIT.

    Python's sqlite3 (before 3.12's ``autocommit``) does not begin a transaction before DDL,
    so a failed migration or load would leave half its tables; SQLAlchemy's documented
    recipe hands BEGIN to SQLAlchemy instead.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # WAL + synchronous=NORMAL: a commit appends to the log without an fsync (the log
        # is synced at checkpoints), so the few small writes of a run do not each wait on
        # the disk; a crash of the process loses nothing, a power cut at most the last runs
        if engine.url.database and engine.url.database != ":memory:":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")
