"""The run store: manifests, incremental state, checkpoints and schema history.

Its statements are SQL text run by :mod:`ocht.store.db`: through ``sqlite3`` for a SQLite
file (no SQLAlchemy, no Alembic on the path of a run), through SQLAlchemy otherwise.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ocht.store import stream_runs
from ocht.store.db import AlchemyDatabase, Database, SqliteDatabase, Transaction
from ocht.store.engine import redact_text, sqlite_file, sqlite_url_text
from ocht.store.errors import InvalidStoreValue, RunNotFound, StoreError, StoreUnavailable
from ocht.store.records import (
    FINAL_STATUSES,
    RUN_STATUSES,
    Checkpoint,
    RunRecord,
    RunStatus,
    SchemaRecord,
)

if TYPE_CHECKING:
    import sqlalchemy as sa
    from sqlalchemy.engine import URL

    from ocht.store.partitions import PartitionCheckpoints

_URL_HINT = (
    "give a SQLAlchemy URL such as sqlite:///.ocht/ocht.db or postgresql://... "
    "(a password with '@', '/' or ':' percent-encoded)"
)
_RUN_COLUMNS = (
    "run_id, pipeline, content_hash, profile, mode, status, started_at, ended_at, pid, host, "
    "rows_read, rows_written, step_rows, dead_letters, error_code, error_message, "
    "cursors_before, cursors_after, extra"
)


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite: they were written as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def _json(value: Any, what: str) -> Any:
    """``value`` made plain JSON (redacted strings), or :class:`InvalidStoreValue`."""
    try:
        text = json.dumps(value, default=_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidStoreValue(f"{what} is not JSON-serialisable: {exc}") from None
    return json.loads(redact_text(text))


def _reason(exc: Exception) -> str:
    """The driver's message without SQLAlchemy's statement dump."""
    return str(getattr(exc, "orig", None) or exc).strip()


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def columns_hash(columns: Mapping[str, str]) -> str:
    """SHA-256 of a schema (names and types, in order)."""
    blob = json.dumps(list(columns.items()), separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


def pid_alive(pid: int) -> bool:
    """Whether a process with ``pid`` exists on this host."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    except OSError:
        return False
    return True


class Store:
    """Where Ocht keeps what it ran and what it loaded last time.

    A SQLite file ``<base_dir>/.ocht/ocht.db`` by default (``base_dir`` defaults to the
    working directory); ``$OCHT_STORE_URL`` or ``url`` point it elsewhere, e.g. at
    PostgreSQL. Opening a store creates or migrates its tables: a new SQLite file, or one
    already at the newest revision, is opened with the standard library alone
    (:mod:`ocht.store.sqlite_schema`); any other database is upgraded by Alembic.

    Example:
        >>> import tempfile
        >>> store = Store(base_dir=Path(tempfile.mkdtemp()))
        >>> run = store.start_run(pipeline="orders", content_hash="abc")
        >>> store.finish_run(run.run_id, "succeeded", rows_written={"out": 3}).status
        'succeeded'
        >>> store.close()

    Raises:
        StoreUnavailable: the database cannot be reached, created or migrated.
    """

    def __init__(
        self, url: str | None = None, *, base_dir: Path | None = None, auto_migrate: bool = True
    ) -> None:
        self._engine: sa.Engine | None = None
        self._url: URL | None = None
        path = sqlite_file(url, base_dir)
        if path is not None:
            self._url_text = sqlite_url_text(path)
            self._db: Database = self._open_sqlite(path, auto_migrate=auto_migrate)
            return
        try:
            from ocht.store.engine import resolve_url

            self._url = resolve_url(url, base_dir)
        except Exception as exc:  # the message never quotes a password (ocht.sql_engine)
            raise StoreUnavailable(
                f"the store URL cannot be used: {redact_text(str(exc))}", hint=_URL_HINT
            ) from None
        self._url_text = self._url.render_as_string(hide_password=True)
        self._db = AlchemyDatabase(self.engine)
        if auto_migrate:
            self._migrate()

    def _open_sqlite(self, path: str, *, auto_migrate: bool) -> Database:
        from ocht.store import sqlite_schema

        try:
            db = SqliteDatabase(path)
        except (OSError, sqlite3.Error) as exc:
            raise self._unavailable(exc) from None
        if not auto_migrate:
            return db
        try:
            at_head = sqlite_schema.ensure(db.conn)
        except db.errors as exc:
            db.close()
            raise self._unavailable(exc) from None
        if not at_head:  # an older revision: Alembic upgrades it
            try:
                self._migrate()
            except StoreUnavailable:
                db.close()
                raise
        return db

    def _migrate(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        from ocht.store import migrate

        try:
            migrate.upgrade(self.engine)
        except SQLAlchemyError as exc:
            self.engine.dispose()
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        return StoreUnavailable(
            f"cannot open the store at {self.url}: {redact_text(_reason(exc))}",
            hint=f"check {self.url} is reachable, or set OCHT_STORE_URL",
        )

    # -- lifecycle -------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The store's URL, password hidden."""
        return self._url_text

    @property
    def engine(self) -> sa.Engine:
        """A SQLAlchemy engine on the store's database (made, and SQLAlchemy imported, when
        first asked for: the catalog, API keys and the scheduler use it; runs do not)."""
        if self._engine is None:
            from ocht.store.engine import create_engine, resolve_url

            if self._url is None:
                self._url = resolve_url(self._url_text, None)
            self._engine = create_engine(self._url)
        return self._engine

    def describe(self) -> str:
        """A short description for logs and ``ocht`` output (no secrets)."""
        return f"store {self.url}"

    def close(self) -> None:
        """Release the connections."""
        self._db.close()
        if self._engine is not None:
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[Transaction]:
        try:
            with self._db.transaction() as tx:
                yield tx
        except self._db.errors as exc:
            raise StoreError(
                f"store operation failed: {redact_text(_reason(exc))}",
                hint=f"store at {self.url}",
            ) from None

    # -- runs ------------------------------------------------------------------------------
    def start_run(
        self,
        *,
        pipeline: str,
        content_hash: str = "",
        profile: str | None = None,
        mode: str = "batch",
        run_id: str | None = None,
        cursors_before: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """Write a run's manifest with status ``running`` (first marking dead runs abandoned).

        Args:
            pipeline: the pipeline's name.
            content_hash: the pipeline's content hash.
            profile: the profile applied, if any.
            mode: ``batch`` or ``stream``.
            run_id: the run's id (a new UUID4 hex when omitted).
            cursors_before: incremental state per input as the run starts.
            extra: anything else worth keeping (JSON; secrets redacted).
        """
        self.mark_abandoned()
        row = {
            "run_id": run_id or uuid.uuid4().hex,
            "pipeline": pipeline,
            "content_hash": content_hash,
            "profile": profile,
            "mode": mode,
            "status": "running",
            "started_at": _now(),
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "rows_read": {},
            "rows_written": {},
            "step_rows": {},
            "dead_letters": 0,
            "cursors_before": _json(dict(cursors_before or {}), "cursors_before"),
            "cursors_after": {},
            "extra": _json(dict(extra or {}), "extra"),
        }
        names = ", ".join(row)
        values = ", ".join(f":{name}" for name in row)
        with self._tx() as tx:
            tx.execute(f"INSERT INTO ocht_runs ({names}) VALUES ({values})", row)
        return self.run(str(row["run_id"]))

    def finish_run(
        self,
        run_id: str,
        status: RunStatus,
        *,
        rows_read: Mapping[str, int] | None = None,
        rows_written: Mapping[str, int] | None = None,
        step_rows: Mapping[str, int] | None = None,
        dead_letters: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        cursors_after: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> RunRecord:
        """Record how a run ended; fields left ``None`` keep their value.

        Raises:
            InvalidStoreValue: ``status`` is not a final status.
            RunNotFound: no run has ``run_id``.
        """
        if status not in FINAL_STATUSES:
            raise InvalidStoreValue(
                f"'{status}' is not a final run status",
                hint=f"use one of {', '.join(FINAL_STATUSES)}",
            )
        values: dict[str, Any] = {"status": status, "ended_at": _now()}
        for name, given in (
            ("rows_read", rows_read),
            ("rows_written", rows_written),
            ("step_rows", step_rows),
            ("cursors_after", cursors_after),
        ):
            if given is not None:
                values[name] = _json(dict(given), name)
        if dead_letters is not None:
            values["dead_letters"] = int(dead_letters)
        if error_code is not None:
            values["error_code"] = error_code
        if error_message is not None:
            values["error_message"] = redact_text(error_message)
        if extra is not None:
            merged = {**self.run(run_id).extra, **_json(dict(extra), "extra")}
            values["extra"] = merged
        sets = ", ".join(f"{name} = :{name}" for name in values)
        with self._tx() as tx:
            done = tx.execute(
                f"UPDATE ocht_runs SET {sets} WHERE run_id = :run_id", {**values, "run_id": run_id}
            )
            if done == 0:
                raise RunNotFound(f"no run with id '{run_id}'")
        return self.run(run_id)

    def heartbeat(
        self,
        run_id: str,
        *,
        rows_read: Mapping[str, int],
        rows_written: Mapping[str, int],
        step_rows: Mapping[str, Any],
        dead_letters: int,
        extra: Mapping[str, Any],
    ) -> bool:
        """A running (stream) run's counts so far; see :mod:`ocht.store.stream_runs`."""
        with self._tx() as tx:
            return stream_runs.heartbeat(
                tx,
                run_id,
                rows_read=rows_read,
                rows_written=rows_written,
                step_rows=step_rows,
                dead_letters=dead_letters,
                extra=extra,
            )

    def mark_abandoned(self) -> list[str]:
        """Runs still ``running`` whose process is gone from this host become ``abandoned``.

        Runs started on other hosts are left alone (their processes cannot be seen).

        Returns:
            The ids of the runs marked.
        """
        host = socket.gethostname()
        with self._tx() as tx:
            rows = tx.rows(
                "SELECT run_id, pid FROM ocht_runs WHERE status = 'running' AND host = :host",
                {"host": host},
            )
            dead = [r["run_id"] for r in rows if r["pid"] is None or not pid_alive(int(r["pid"]))]
            for run_id in dead:
                tx.execute(
                    "UPDATE ocht_runs SET status = 'abandoned', ended_at = :ended_at, "
                    "error_code = 'abandoned', error_message = :error_message "
                    "WHERE run_id = :run_id AND status = 'running'",
                    {
                        "run_id": run_id,
                        "ended_at": _now(),
                        "error_message": "the process running it ended without finishing the run",
                    },
                )
        return dead

    def runs(
        self, pipeline: str | None = None, status: str | None = None, limit: int | None = 20
    ) -> list[RunRecord]:
        """Runs, newest first, optionally of one pipeline and/or one status."""
        if status is not None and status not in RUN_STATUSES:
            raise InvalidStoreValue(
                f"unknown run status '{status}'", hint=f"use one of {', '.join(RUN_STATUSES)}"
            )
        where: list[str] = []
        params: dict[str, Any] = {}
        if pipeline is not None:
            where.append("pipeline = :pipeline")
            params["pipeline"] = pipeline
        if status is not None:
            where.append("status = :status")
            params["status"] = status
        sql = f"SELECT {_RUN_COLUMNS} FROM ocht_runs"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY started_at DESC, run_id DESC"
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = int(limit)
        with self._tx() as tx:
            return [_run(r) for r in tx.rows(sql, params)]

    def run(self, run_id: str) -> RunRecord:
        """One run by id, or by a prefix of it that only one run has.

        Raises:
            RunNotFound: no run (or more than one) matches.
        """
        select = f"SELECT {_RUN_COLUMNS} FROM ocht_runs WHERE "
        with self._tx() as tx:
            found = tx.rows(select + "run_id = :run_id", {"run_id": run_id})
            if not found and run_id:
                like = run_id.replace("!", "!!").replace("%", "!%").replace("_", "!_")
                found = tx.rows(
                    select + "run_id LIKE :prefix ESCAPE '!' LIMIT 2", {"prefix": f"{like}%"}
                )
                if len(found) > 1:
                    raise RunNotFound(
                        f"more than one run starts with '{run_id}'", hint="give more of the id"
                    )
        if not found:
            raise RunNotFound(f"no run with id '{run_id}'", hint="see `ocht runs`")
        return _run(found[0])

    # -- incremental state -----------------------------------------------------------------
    def get_state(self, pipeline: str) -> dict[str, Any]:
        """The pipeline's state: key (an input's name) → JSON value."""
        with self._tx() as tx:
            rows = tx.rows(
                'SELECT "key", "value" FROM ocht_state WHERE pipeline = :pipeline ORDER BY "key"',
                {"pipeline": pipeline},
            )
        return {r["key"]: r["value"] for r in rows}

    def set_state(
        self, pipeline: str, values: Mapping[str, Any], *, run_id: str | None = None
    ) -> None:
        """Save several keys at once (one transaction); a ``None`` value deletes its key."""
        now = _now()
        with self._tx() as tx:
            for key, value in values.items():
                where = {"pipeline": pipeline, "key": key}
                tx.execute(
                    'DELETE FROM ocht_state WHERE pipeline = :pipeline AND "key" = :key', where
                )
                if value is not None:
                    tx.execute(
                        'INSERT INTO ocht_state (pipeline, "key", "value", run_id, updated_at) '
                        "VALUES (:pipeline, :key, :value, :run_id, :updated_at)",
                        {
                            **where,
                            "value": _json(value, f"state '{key}'"),
                            "run_id": run_id,
                            "updated_at": now,
                        },
                    )

    def reset_state(self, pipeline: str, key: str | None = None) -> int:
        """Forget the pipeline's state (or one key of it), checkpoints included.

        Returns:
            How many state keys were removed.
        """
        where = "pipeline = :pipeline" + (' AND "key" = :key' if key is not None else "")
        params = {"pipeline": pipeline, **({"key": key} if key is not None else {})}
        with self._tx() as tx:
            removed = tx.execute(f"DELETE FROM ocht_state WHERE {where}", params)
            tx.execute(f"DELETE FROM ocht_checkpoints WHERE {where}", params)
        return removed

    # -- checkpoints -----------------------------------------------------------------------
    @property
    def partitions(self) -> PartitionCheckpoints:
        """Per-partition checkpoints of stream runs (offsets and state)."""
        from ocht.store.partitions import PartitionCheckpoints

        return PartitionCheckpoints(self.engine)

    def save_checkpoint(
        self, pipeline: str, key: str, position: Any, *, run_id: str | None = None
    ) -> Checkpoint:
        """Save (replace) the resume position of ``key``."""
        now = _now()
        value = _json(position, f"checkpoint '{key}'")
        where = {"pipeline": pipeline, "key": key}
        with self._tx() as tx:
            tx.execute(
                'DELETE FROM ocht_checkpoints WHERE pipeline = :pipeline AND "key" = :key', where
            )
            tx.execute(
                'INSERT INTO ocht_checkpoints (pipeline, "key", "position", run_id, updated_at) '
                "VALUES (:pipeline, :key, :position, :run_id, :updated_at)",
                {**where, "position": value, "run_id": run_id, "updated_at": now},
            )
        return Checkpoint(pipeline, key, value, run_id, now)

    def load_checkpoint(self, pipeline: str, key: str) -> Checkpoint | None:
        """The saved position of ``key``, or ``None``."""
        with self._tx() as tx:
            rows = tx.rows(
                'SELECT pipeline, "key", "position", run_id, updated_at FROM ocht_checkpoints '
                'WHERE pipeline = :pipeline AND "key" = :key',
                {"pipeline": pipeline, "key": key},
            )
        if not rows:
            return None
        row = rows[0]
        return Checkpoint(
            row["pipeline"],
            row["key"],
            row["position"],
            row["run_id"],
            _utc(row["updated_at"]) or _now(),
        )

    def clear_checkpoints(self, pipeline: str, key: str | None = None) -> int:
        """Remove the pipeline's checkpoints (or one); returns how many."""
        where = "pipeline = :pipeline" + (' AND "key" = :key' if key is not None else "")
        params = {"pipeline": pipeline, **({"key": key} if key is not None else {})}
        with self._tx() as tx:
            return tx.execute(f"DELETE FROM ocht_checkpoints WHERE {where}", params)

    # -- schema history --------------------------------------------------------------------
    def record_schema(
        self,
        pipeline: str,
        output: str,
        columns: Mapping[str, str],
        *,
        run_id: str | None = None,
    ) -> SchemaRecord:
        """Record the schema written to an output, when it differs from the last one.

        Args:
            pipeline: the pipeline's name.
            output: the output's name.
            columns: column name → type name, in table order.
            run_id: the run that wrote it.

        Returns:
            The new record, or the last one when the schema did not change.
        """
        cols = {str(k): str(v) for k, v in columns.items()}
        digest = columns_hash(cols)
        last = self.last_schema(pipeline, output)
        if last is not None and last.columns_hash == digest:
            return last
        now = _now()
        with self._tx() as tx:
            tx.execute(
                "INSERT INTO ocht_schema_history "
                '(pipeline, output, "columns", columns_hash, recorded_at, run_id) '
                "VALUES (:pipeline, :output, :columns, :columns_hash, :recorded_at, :run_id)",
                {
                    "pipeline": pipeline,
                    "output": output,
                    "columns": cols,
                    "columns_hash": digest,
                    "recorded_at": now,
                    "run_id": run_id,
                },
            )
        return SchemaRecord(pipeline, output, cols, digest, now, run_id)

    def schema_history(
        self, pipeline: str, output: str, limit: int | None = None
    ) -> list[SchemaRecord]:
        """Schemas written to an output, oldest first (the last ``limit`` when given)."""
        sql = (
            'SELECT pipeline, output, "columns", columns_hash, recorded_at, run_id '
            "FROM ocht_schema_history WHERE pipeline = :pipeline AND output = :output "
            "ORDER BY id DESC"
        )
        params: dict[str, Any] = {"pipeline": pipeline, "output": output}
        if limit is not None:
            sql += " LIMIT :limit"
            params["limit"] = int(limit)
        with self._tx() as tx:
            rows = tx.rows(sql, params)
        return [
            SchemaRecord(
                r["pipeline"],
                r["output"],
                dict(r["columns"]),
                r["columns_hash"],
                _utc(r["recorded_at"]) or _now(),
                r["run_id"],
            )
            for r in reversed(rows)
        ]

    def last_schema(self, pipeline: str, output: str) -> SchemaRecord | None:
        """The schema last written to an output, or ``None``."""
        found = self.schema_history(pipeline, output, limit=1)
        return found[0] if found else None


def _run(row: Mapping[Any, Any]) -> RunRecord:
    started = _utc(row["started_at"])
    assert started is not None
    return RunRecord(
        run_id=row["run_id"],
        pipeline=row["pipeline"],
        content_hash=row["content_hash"],
        profile=row["profile"],
        mode=row["mode"],
        status=row["status"],
        started_at=started,
        ended_at=_utc(row["ended_at"]),
        pid=row["pid"],
        host=row["host"],
        rows_read=dict(row["rows_read"] or {}),
        rows_written=dict(row["rows_written"] or {}),
        step_rows=dict(row["step_rows"] or {}),
        dead_letters=int(row["dead_letters"] or 0),
        error_code=row["error_code"],
        error_message=row["error_message"],
        cursors_before=dict(row["cursors_before"] or {}),
        cursors_after=dict(row["cursors_after"] or {}),
        extra=dict(row["extra"] or {}),
    )
