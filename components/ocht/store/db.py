"""Where the run store's SQL runs: sqlite3 for a SQLite file, SQLAlchemy for any other URL.

:class:`ocht.store.Store` writes its statements once, as SQL text with ``:name``
parameters (the style both sqlite3 and SQLAlchemy's ``text()`` take), and runs them in a
:class:`Transaction` of one of two databases:

- :class:`SqliteDatabase`: the standard library's ``sqlite3``, for the default store (a
  SQLite file). Importing SQLAlchemy costs more than the run of a small pipeline, and
  every ``ocht run`` opens the store, so the common path does without it.
- :class:`AlchemyDatabase`: a SQLAlchemy engine, for PostgreSQL (or any other URL).

Both store and read values alike: the JSON columns (:data:`JSON_COLUMNS`) as SQLAlchemy's
``JSON`` type does (``json.dumps`` text on SQLite, ``JSONB`` on PostgreSQL), the times
(:data:`TIME_COLUMNS`) as its ``DateTime`` does (on SQLite, UTC as
``YYYY-MM-DD HH:MM:SS.ffffff`` text), so the bricks that read the store's tables through
SQLAlchemy (the catalog, the scheduler) see the same rows whichever path wrote them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import sqlalchemy as sa

#: Columns of the run store's tables holding JSON (runs, state, checkpoints, schemas).
JSON_COLUMNS = frozenset(
    {
        "rows_read",
        "rows_written",
        "step_rows",
        "cursors_before",
        "cursors_after",
        "extra",
        "value",
        "position",
        "columns",
    }
)
#: Columns of those tables holding a time (timezone-aware in Python, UTC in the database).
TIME_COLUMNS = frozenset({"started_at", "ended_at", "updated_at", "recorded_at"})
#: How SQLAlchemy's ``DateTime`` writes a time on SQLite.
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


class Transaction(Protocol):
    """One transaction: statements with ``:name`` parameters."""

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """The rows a query returns, as dicts (JSON decoded, times as datetimes)."""
        ...

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement; how many rows it changed."""
        ...


class Database(Protocol):
    """A connection to the store's database."""

    #: the driver's errors (a :class:`ocht.store.StoreError` is raised for them)
    errors: tuple[type[Exception], ...]

    def transaction(self) -> AbstractContextManager[Transaction]:
        """A transaction: committed when the block ends, rolled back if it raises."""
        ...

    def close(self) -> None:
        """Release the connection(s)."""
        ...


class SqliteDatabase:
    """A SQLite file through ``sqlite3``: one connection, transactions one at a time.

    The connection is set up as :func:`ocht.sql_engine.create_engine` sets up SQLite for
    the store: foreign keys on, WAL with ``synchronous=NORMAL``, a 30 s busy timeout, and
    explicit ``BEGIN`` so a failed statement leaves nothing half done.

    Raises:
        sqlite3.Error: the file cannot be opened as a database.
        OSError: its folder cannot be created.
    """

    errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, path: str) -> None:
        Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.conn = sqlite3.connect(
            Path(path).expanduser(), timeout=30, isolation_level=None, check_same_thread=False
        )
        self._lock = threading.Lock()  # a run may record its end from a worker thread
        try:
            self.conn.execute("PRAGMA foreign_keys=ON")
            self.conn.execute("PRAGMA journal_mode=WAL")
            self.conn.execute("PRAGMA synchronous=NORMAL")
        except sqlite3.Error:
            self.conn.close()
            raise

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction on the connection (other threads wait for it to end)."""
        with self._lock:
            self.conn.execute("BEGIN")
            try:
                yield _SqliteTransaction(self.conn)
            except BaseException:
                if self.conn.in_transaction:
                    self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        self.conn.close()


class _SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        cursor = self._conn.execute(sql, _sqlite_params(params))
        names = [d[0] for d in cursor.description]
        return [
            {name: _sqlite_value(name, value) for name, value in zip(names, row, strict=True)}
            for row in cursor.fetchall()
        ]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        return int(self._conn.execute(sql, _sqlite_params(params)).rowcount)


def _sqlite_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in (params or {}).items():
        if name in JSON_COLUMNS:
            value = json.dumps(value)
        elif isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(UTC).replace(tzinfo=None)
            value = value.strftime(_SQLITE_TIME)
        out[name] = value
    return out


def _sqlite_value(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in JSON_COLUMNS and isinstance(value, str | bytes):
        return json.loads(value)
    if name in TIME_COLUMNS and isinstance(value, str):
        return datetime.fromisoformat(value)
    return value


class AlchemyDatabase:
    """Any database SQLAlchemy reaches (PostgreSQL in practice), through ``engine``."""

    def __init__(self, engine: sa.Engine) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        self.engine = engine
        self.errors: tuple[type[Exception], ...] = (SQLAlchemyError,)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A transaction on a pooled connection."""
        with self.engine.begin() as conn:
            yield _AlchemyTransaction(conn)

    def close(self) -> None:
        """Close the pool's connections."""
        self.engine.dispose()


class _AlchemyTransaction:
    def __init__(self, conn: sa.Connection) -> None:
        self._conn = conn

    def _statement(self, sql: str, params: Mapping[str, Any]) -> sa.TextClause:
        import sqlalchemy as sa

        from ocht.store.tables import Json

        time = sa.DateTime(timezone=True)
        binds = [
            sa.bindparam(name, type_=Json if name in JSON_COLUMNS else time)
            for name in params
            if name in JSON_COLUMNS or name in TIME_COLUMNS
        ]
        return sa.text(sql).bindparams(*binds)

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        import sqlalchemy as sa

        from ocht.store.tables import Json

        given = dict(params or {})
        time = sa.DateTime(timezone=True)
        types: dict[str, Any] = dict.fromkeys(JSON_COLUMNS, Json)
        types.update(dict.fromkeys(TIME_COLUMNS, time))
        query = self._statement(sql, given).columns(**types)
        return [dict(r) for r in self._conn.execute(query, given).mappings()]

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        given = dict(params or {})
        return int(self._conn.execute(self._statement(sql, given), given).rowcount)
