"""SQLAlchemy URLs and engines, written once for the store and the SQL connector.

- :func:`parse_url` refuses a URL whose credentials break it (a password with ``@``,
  ``/`` or ``:`` not percent-encoded) *before* anything connects, so no part of a
  password ever reaches a resolver; its error says to percent-encode.
- :func:`redact_url` renders a URL with its password and secret query values masked.
- :func:`create_engine` gives SQLite real transactions (DDL included) and PostgreSQL a
  connect timeout.
- :func:`reason` is a driver error's own message, redacted.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ocht.errors import missing_driver
from ocht.observability import MASK, add_secrets, redact, url_hint

_SECRET_KEYS = re.compile(
    r"^(password|passwd|pwd|secret|token|sslpassword|access_token|sslkey)$", re.IGNORECASE
)


def parse_url(url: str) -> URL:
    """``url`` parsed; ``postgresql://`` uses psycopg 3; its password is registered as a secret.

    Raises:
        ValueError: the URL cannot be parsed, or its credentials need percent-encoding;
            the message never quotes the password.

    Example:
        >>> parse_url("postgresql://u:pw1@db/shop").drivername
        'postgresql+psycopg'
        >>> parse_url("postgresql://u:a@b@db/shop")
        Traceback (most recent call last):
        ...
        ValueError: the URL postgresql://u:***@db/shop cannot be used: percent-encode the \
user and password in the URL (e.g. '@' as %40, '/' as %2F, ':' as %3A)
    """
    hint = url_hint(url) if not url.startswith("sqlite") else None
    if hint is not None:
        raise ValueError(f"the URL {redact(url)} cannot be used: {hint}")
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a SQLAlchemy URL: {redact(url)}") from None
    secrets = [parsed.password] + [v for k, v in parsed.query.items() if _SECRET_KEYS.match(k)]
    add_secrets(str(s) for s in secrets if isinstance(s, str))
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def redact_url(url: str | URL) -> str:
    """The URL with its password (and secret query parameters) replaced by ``***``.

    Example:
        >>> redact_url("postgresql://loader:s3cret@db:5432/shop?sslpassword=x")
        'postgresql://loader:***@db:5432/shop?sslpassword=***'
    """
    if isinstance(url, str):
        text = url
        try:
            url = make_url(text)
        except (ArgumentError, ValueError):
            return redact(text)
    query = {k: (MASK if _SECRET_KEYS.match(k) else v) for k, v in url.query.items()}
    text = url.set(query=query).render_as_string(hide_password=True)
    return text.replace("%2A%2A%2A", MASK)


def reason(exc: BaseException) -> str:
    """A driver error's own message (its first lines, no statement dump), redacted.

    Example:
        >>> reason(ValueError("login failed: password=abc\\nmore\\nmore\\nskipped"))
        'login failed: password=*** more more'
    """
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = str(inner).strip().splitlines()
    return redact(" ".join(line.strip() for line in first[:3]))


def create_engine(
    url: URL, *, base_dir: Path | None = None, foreign_keys: bool = False, wal: bool = False
) -> sa.Engine:
    """An engine for ``url``.

    Args:
        url: a parsed URL (:func:`parse_url`).
        base_dir: relative SQLite paths resolve against it (default: as given).
        foreign_keys: turn on SQLite's foreign-key enforcement.
        wal: SQLite in WAL mode with ``synchronous=NORMAL`` (commits without an fsync each).

    SQLite gets real transactions (DDL included) and its folder is created; PostgreSQL
    gets a 10 s connect timeout; every backend pings pooled connections before use.
    """
    backend = url.get_backend_name()
    if backend != "sqlite":
        connect_args: dict[str, Any] = {}
        if backend == "postgresql":
            connect_args["connect_timeout"] = 10
        try:
            return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
        except ModuleNotFoundError as exc:  # psycopg (or another driver) is an extra
            raise missing_driver(exc, what=f"a {backend} connection") from None
    db = url.database
    if db and db != ":memory:" and not db.startswith("file:"):
        path = Path(db).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        path.parent.mkdir(parents=True, exist_ok=True)
        url = url.set(database=str(path))
    engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
    sqlite_transactions(engine, foreign_keys=foreign_keys, wal=wal)
    return engine


def sqlite_transactions(
    engine: sa.Engine, *, foreign_keys: bool = False, wal: bool = False
) -> None:
    """Make the sqlite3 driver run every statement, DDL included, inside BEGIN ... COMMIT.

    Python's sqlite3 (before 3.12's ``autocommit``) does not begin a transaction before
    DDL, so a failed migration or load would leave half its tables; SQLAlchemy's
    documented recipe hands BEGIN to SQLAlchemy instead.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if foreign_keys:
            cursor.execute("PRAGMA foreign_keys=ON")
        if wal and engine.url.database and engine.url.database != ":memory:":
            # WAL + synchronous=NORMAL: a commit appends to the log without an fsync (the
            # log is synced at checkpoints), so the few small writes of a run do not each
            # wait on the disk; a crash of the process loses nothing, a power cut at most
            # the last commits
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")
