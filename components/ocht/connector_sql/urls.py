"""URLs and engines: redaction, driver defaults, SQLite transactions, connecting with retries."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from ocht.errors import missing_driver

T = TypeVar("T")

#: connection attempts before giving up, and the first wait between them (seconds, doubling)
CONNECT_ATTEMPTS = 3
CONNECT_WAIT = 0.25

_SECRET_KEYS = re.compile(r"^(password|passwd|pwd|secret|token|sslpassword|access_token)$", re.I)
_URL_PASSWORD = re.compile(r"(?P<head>[a-zA-Z][\w+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)(?=@)")


def parse_url(url: str) -> URL:
    """``url`` parsed; ``postgresql://`` uses psycopg 3. Raises ``ValueError`` without echoing it."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a SQLAlchemy URL: {redact_url(url)}") from None
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
        try:
            url = make_url(url)
        except (ArgumentError, ValueError):
            return _URL_PASSWORD.sub(lambda m: f"{m['head']}***", str(url))
    query = {k: ("***" if _SECRET_KEYS.match(k) else v) for k, v in url.query.items()}
    text = url.set(query=query).render_as_string(hide_password=True)
    return text.replace("%2A%2A%2A", "***")


def scrub(text: str, url: str | URL | None = None) -> str:
    """``text`` without the URL's password or any ``user:password@`` it holds."""
    text = _URL_PASSWORD.sub(lambda m: f"{m['head']}***", text)
    if url is not None:
        try:
            parsed = make_url(url) if isinstance(url, str) else url
        except (ArgumentError, ValueError):
            return text
        secrets = [parsed.password] + [v for k, v in parsed.query.items() if _SECRET_KEYS.match(k)]
        for secret in secrets:
            if isinstance(secret, str) and secret:
                text = text.replace(secret, "***")
    return text


def reason(exc: BaseException, url: str | URL | None = None) -> str:
    """A driver error's own message (no statement dump), scrubbed of secrets."""
    inner = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    first = str(inner).strip().splitlines()
    return scrub(" ".join(line.strip() for line in first[:3]), url)


def create_engine(url: URL, *, base_dir: Path | None = None) -> sa.Engine:
    """An engine for ``url`` (relative SQLite paths resolve against ``base_dir``)."""
    backend = url.get_backend_name()
    if backend == "sqlite":
        db = url.database
        if db and db != ":memory:" and not db.startswith("file:"):
            path = Path(db).expanduser()
            if not path.is_absolute() and base_dir is not None:
                path = base_dir / path
            url = url.set(database=str(path))
        engine = sa.create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        _sqlite_transactions(engine)
        return engine
    connect_args: dict[str, Any] = {}
    if backend == "postgresql":
        connect_args["connect_timeout"] = 10
    try:
        return sa.create_engine(url, pool_pre_ping=True, connect_args=connect_args)
    except ModuleNotFoundError as exc:
        raise missing_driver(exc, what=f"a {backend} connection") from None


def _sqlite_transactions(engine: sa.Engine) -> None:
    """sqlite3 skips BEGIN before DDL: let SQLAlchemy emit it, so CREATE/ALTER roll back too."""

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")


def with_retries(action: Callable[[], T]) -> T:
    """Run ``action`` (a connect) with bounded retries on operational errors."""
    for attempt in Retrying(
        stop=stop_after_attempt(CONNECT_ATTEMPTS),
        wait=wait_exponential(multiplier=CONNECT_WAIT, max=4),
        retry=retry_if_exception_type(OperationalError),
        reraise=True,
    ):
        with attempt:
            return action()
    raise AssertionError("unreachable")  # pragma: no cover
