"""Reading a table or a query in chunks, as a Polars lazy frame (an IO plugin)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, cast

import polars as pl
import sqlalchemy as sa
from polars.io.plugins import register_io_source
from sqlalchemy.exc import SQLAlchemyError

from ocht.connector_sql.convert import rows_to_frame
from ocht.connector_sql.errors import InvalidSqlSpec, SqlUnreachable
from ocht.connector_sql.incremental import Tracker
from ocht.connector_sql.postgres import SqlColumn, copy_out, pg_type_name, select_list
from ocht.connector_sql.types import dtype_from_sql
from ocht.connector_sql.urls import create_engine, parse_url, reason, redact_url, with_retries
from ocht.errors import ConnectorError, Issue
from ocht.observability import get_logger
from ocht.pipeline_model import Retry, SqlConnector
from ocht.registry import RunContext, Source
from ocht.resilience import RetriesExhausted

_SAMPLE = 1000


def split_table(table: str, schema: str | None) -> tuple[str | None, str]:
    """``schema.table`` written in ``table`` (when ``schema`` is not given) split in two."""
    if schema is None and table.count(".") == 1 and '"' not in table:
        left, right = table.split(".")
        return left, right
    return schema, table


def is_db_error(exc: BaseException) -> bool:
    """An error raised by SQLAlchemy or by the driver underneath it."""
    return isinstance(exc, SQLAlchemyError) or type(exc).__module__.split(".")[0] in (
        "psycopg",
        "sqlite3",
        "pymysql",
        "MySQLdb",
    )


#: connecting when the pipeline gives no ``retry:``: three tries within a few seconds
CONNECT_POLICY = Retry(attempts=3, initial=0.25, max_delay=4.0, jitter=0.1, timeout=30.0)


class SqlBase:
    """What the source and the sink share: the URL, the engine, descriptions."""

    spec: SqlConnector
    name: str
    context: RunContext

    def _setup(self) -> None:
        try:
            self.url = parse_url(self.spec.url)
        except ValueError as exc:
            raise InvalidSqlSpec(str(exc), issues=[Issue("invalid-value", str(exc))]) from None
        self._engine: sa.Engine | None = None
        self.dialect = self.url.get_backend_name()
        self.db_schema: str | None = self.spec.schema_
        self.table: str | None = None
        if self.spec.table:
            self.db_schema, self.table = split_table(self.spec.table, self.spec.schema_)

    @property
    def engine(self) -> sa.Engine:
        if self._engine is None:
            self._engine = create_engine(self.url, base_dir=self.context.base_dir)
        return self._engine

    def quote(self, name: str) -> str:
        return str(self.engine.dialect.identifier_preparer.quote_identifier(name))

    def table_sql(self) -> str:
        assert self.table is not None
        if self.db_schema:
            return f"{self.quote(self.db_schema)}.{self.quote(self.table)}"
        return self.quote(self.table)

    def target(self) -> str:
        if self.table is not None:
            return f"{self.db_schema}.{self.table}" if self.db_schema else self.table
        return "query"

    def describe(self) -> str:
        """``sql <redacted url> <table or query>``: never the password."""
        return f"sql {redact_url(self.url)} {self.target()}"

    def connect(self, unreachable: Callable[[str], Exception]) -> sa.Connection:
        """A connection, after bounded retries; ``unreachable(message)`` is raised otherwise."""
        where = redact_url(self.url)
        policy = self.spec.retry or CONNECT_POLICY
        try:
            return with_retries(self.engine.connect, policy, what=f"connect to {where}")
        except RetriesExhausted as exc:
            last = exc.__cause__ if exc.__cause__ is not None else exc
            raise unreachable(
                f"cannot connect to {where} ({exc.attempts} attempts): {reason(last)}"
            ) from None
        except SQLAlchemyError as exc:
            raise unreachable(f"cannot connect to {where}: {reason(exc)}") from None

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


class SqlSource(SqlBase, Source):
    """A table or query read in chunks of ``chunk_size`` rows, lazily.

    ``scan()`` registers a Polars IO plugin: nothing is read until the frame is collected;
    column projections and row limits reach the SQL; filters are applied chunk by chunk.
    On PostgreSQL the rows travel as ``COPY ... TO STDOUT`` CSV parsed by Polars.

    Incremental (``cursor`` set): the stored state comes from
    ``context.state_of(input name)`` (nothing with ``context.full_refresh``);
    after a successful run the executor calls :meth:`state` and stores what it returns.

    Example:
        >>> from ocht.pipeline_model import SqlConnector
        >>> from ocht.registry import RunContext
        >>> spec = SqlConnector(type="sql", url="sqlite://", query="SELECT 1 AS one")
        >>> SqlSource(spec, name="src", context=RunContext("r", "p")).scan().collect().item()
        1
    """

    spec: SqlConnector

    def __init__(self, spec: SqlConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._setup()
        self._columns: list[SqlColumn] | None = None
        self._lock = threading.Lock()
        self._new_state: dict[str, Any] | None = None
        self._read_complete = False
        self._prior = self._prior_state()

    # -- the seam --------------------------------------------------------------------------
    def schema(self) -> pl.Schema:
        """The columns and their Polars types, without reading the rows."""
        return pl.Schema({c.name: c.dtype for c in self.columns()})

    def scan(self) -> pl.LazyFrame:
        """The input as a lazy frame read in chunks when collected."""
        schema = self.schema()
        return register_io_source(
            self._generate,
            schema=schema,
            explain_name="ocht-sql",
            explain_detail=self.describe(),
        )

    def state(self) -> dict[str, Any] | None:
        """The incremental state to store after a successful run, or ``None``.

        ``None`` when the input is not incremental or no complete read happened (a read
        cut short by a row limit never moves the cursor).
        """
        with self._lock:
            if not self.spec.cursor or not self._read_complete:
                return None
            return dict(self._new_state) if self._new_state is not None else None

    def close(self) -> None:
        """Release the connection pool."""
        self.dispose()

    # -- schema ----------------------------------------------------------------------------
    def columns(self) -> list[SqlColumn]:
        """The columns as read (name, database type, Polars dtype); cached."""
        if self._columns is None:
            with self.connect(SqlUnreachable) as conn:
                try:
                    self._columns = self._discover(conn)
                except Exception as exc:
                    if not is_db_error(exc):
                        raise
                    raise ConnectorError(
                        f"cannot read the columns of {self.describe()}: {reason(exc)}",
                        code="source-unreadable",
                    ) from None
            names = [c.name for c in self._columns]
            for key in [self.spec.cursor, *(self.spec.primary_key or [])]:
                if key and key not in names:
                    raise InvalidSqlSpec(
                        f"input '{self.name}': column '{key}' is not in {self.target()} "
                        f"(columns: {', '.join(names)})",
                        issues=[
                            Issue("unknown-column", f"no column '{key}'", f"inputs.{self.name}")
                        ],
                    )
        return self._columns

    def from_sql(self) -> str:
        if self.spec.query is not None:
            return f"({self.spec.query.strip().rstrip(';')}) AS q"
        return f"{self.table_sql()} AS q"

    def _discover(self, conn: sa.Connection) -> list[SqlColumn]:
        probe = f"SELECT * FROM {self.from_sql()} LIMIT 0"
        if self.dialect == "postgresql":
            raw = conn.connection.driver_connection
            assert raw is not None
            # the DBAPI cursor's description carries PostgreSQL's type oids
            result = self._execute(conn, probe)
            out = []
            # DBAPI's description: (name, type_code, display_size, size, precision, scale, ...)
            for name, type_code, _, _, precision, scale, *_ in result.cursor.description or []:
                kind = pg_type_name(raw, cast(int, type_code))
                dtype = dtype_from_sql(kind, dialect="postgresql", precision=precision, scale=scale)
                out.append(SqlColumn(name, kind, dtype))
            result.close()
            return out
        declared = self._declared_types(conn)
        names = list(self._execute(conn, probe).keys())
        unknown = [n for n in names if not declared.get(n)]
        sampled = self._sample_types(conn, unknown) if unknown else {}
        return [
            SqlColumn(
                n,
                declared.get(n) or "",
                sampled.get(n) or dtype_from_sql(declared.get(n) or "", dialect=self.dialect),
            )
            for n in names
        ]

    def _declared_types(self, conn: sa.Connection) -> dict[str, str]:
        if self.dialect == "sqlite":
            target = self.table_sql() if self.table else None
            trans = conn.begin()
            try:
                if target is None and self.spec.params:
                    return {}  # a view takes no bound values: the types come from a sample
                if target is None:  # a query: its temporary view knows the declared types
                    conn.exec_driver_sql(f"CREATE TEMP VIEW _ocht_probe AS {self.spec.query or ''}")
                    target = "_ocht_probe"
                elif self.db_schema and self.table:
                    target = f"{self.quote(self.db_schema)}.table_info({self.quote(self.table)})"
                pragma = (
                    f"PRAGMA {target}" if "table_info" in target else f"PRAGMA table_info({target})"
                )
                return {r[1]: str(r[2] or "") for r in conn.exec_driver_sql(pragma)}
            finally:
                trans.rollback()
        if self.table is None:
            return {}
        cols = sa.inspect(conn).get_columns(self.table, schema=self.db_schema)
        return {c["name"]: str(c["type"].compile(dialect=conn.dialect)) for c in cols}

    def _sample_types(self, conn: sa.Connection, names: Sequence[str]) -> dict[str, pl.DataType]:
        rows = self._execute(conn, f"SELECT * FROM {self.from_sql()} LIMIT {_SAMPLE}")
        keys = list(rows.keys())
        data = rows.fetchall()
        out: dict[str, pl.DataType] = {}
        for name in names:
            i = keys.index(name)
            series = pl.Series(name, [r[i] for r in data], strict=False)
            dtype = series.dtype
            out[name] = pl.String() if dtype in (pl.Null, pl.Object) else dtype
        return out

    def _execute(self, conn: sa.Connection, sql: str) -> sa.CursorResult[Any]:
        """``sql`` run with the spec's ``params`` bound (as driver SQL when there are none)."""
        if not self.spec.params:
            return conn.exec_driver_sql(sql)
        values = {k: self._bind(v) for k, v in self.spec.params.items()}
        return conn.execute(sa.text(sql), values)

    # -- reading ---------------------------------------------------------------------------
    def _prior_state(self) -> dict[str, Any] | None:
        if not self.spec.cursor:
            return None
        prior = self.context.state_of(self.name)
        if not isinstance(prior, dict) or "value" not in prior:
            return None
        if prior.get("cursor") != self.spec.cursor or list(prior.get("primary_key") or []) != list(
            self.spec.primary_key or []
        ):
            get_logger().warning(
                "stored incremental state is for another cursor or key: reading everything",
                input=self.name,
                stored_cursor=prior.get("cursor"),
                cursor=self.spec.cursor,
            )
            return None
        return prior

    def _generate(
        self,
        with_columns: list[str] | None,
        predicate: pl.Expr | None,
        n_rows: int | None,
        batch_size: int | None,
    ) -> Iterator[pl.DataFrame]:
        columns = self.columns()
        by_name = {c.name: c for c in columns}
        wanted = list(with_columns) if with_columns is not None else list(by_name)
        tracker = None
        if self.spec.cursor:
            schema = pl.Schema({c.name: c.dtype for c in columns})
            tracker = Tracker(
                self.spec.cursor,
                list(self.spec.primary_key or []),
                schema,
                self._prior,
                self.spec.lookback,
            )
        extra = [self.spec.cursor, *(self.spec.primary_key or [])] if tracker else []
        needed = [by_name[n] for n in dict.fromkeys([*wanted, *[e for e in extra if e]])]
        chunk = self.spec.chunk_size
        low = tracker.lower_bound() if tracker else None
        left = n_rows
        complete = True
        for frame in self._frames(needed, low, n_rows, chunk):
            if tracker is not None:
                frame = tracker.filter(frame)
                tracker.observe(frame)
            out = frame.select(wanted)
            if predicate is not None:
                out = out.filter(predicate)
            if left is not None:
                out = out.head(left)
                left -= out.height
            yield out
            if left is not None and left <= 0:
                complete = False
                break
        if n_rows is not None:
            complete = False
        with self._lock:
            if complete:
                self._read_complete = True
                self._new_state = tracker.result() if tracker else None

    def _frames(
        self, columns: list[SqlColumn], low: Any, limit: int | None, chunk: int
    ) -> Iterator[pl.DataFrame]:
        # COPY takes no bound values: a query with params reads through the cursor
        pg_copy = self.dialect == "postgresql" and self.spec.fast_path and not self.spec.params
        if self.dialect == "postgresql":
            select = select_list(columns, self.quote, copy=pg_copy)
        else:
            select = ", ".join(f"q.{self.quote(c.name)}" for c in columns)
        conn = self.connect(SqlUnreachable)
        try:
            params = {k: self._bind(v) for k, v in (self.spec.params or {}).items()}
            where = ""
            if low is not None:
                assert self.spec.cursor is not None
                bound = ":_ocht_low"
                if pg_copy:  # COPY takes no parameters: a literal, quoted by psycopg
                    from psycopg import sql as pgsql

                    bound = pgsql.Literal(low).as_string(conn.connection.driver_connection)
                else:
                    params["_ocht_low"] = self._bind(low)
                where = f" WHERE q.{self.quote(self.spec.cursor)} >= {bound}"
            tail = f" LIMIT {int(limit)}" if limit is not None else ""
            sql = f"SELECT {select} FROM {self.from_sql()}{where}{tail}"
            if pg_copy:
                yield from self._copy_frames(conn, sql, columns, chunk)
                return
            schema = pl.Schema({c.name: c.dtype for c in columns})
            names = [c.name for c in columns]
            result = conn.execution_options(stream_results=True, yield_per=chunk).execute(
                sa.text(sql), params
            )
            for rows in result.partitions(chunk):
                yield rows_to_frame(rows, names, schema)
        except SQLAlchemyError as exc:
            raise ConnectorError(
                f"reading {self.describe()} failed: {reason(exc)}",
                code="source-read-failed",
            ) from None
        except ValueError as exc:
            raise ConnectorError(
                f"reading {self.describe()} failed: {exc}", code="source-read-failed"
            ) from None
        finally:
            conn.close()

    def _copy_frames(
        self, conn: sa.Connection, sql: str, columns: list[SqlColumn], chunk: int
    ) -> Iterator[pl.DataFrame]:
        raw = conn.connection.driver_connection
        assert raw is not None
        with conn.begin():
            conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
            conn.exec_driver_sql("SET LOCAL DateStyle = 'ISO, YMD'")
            try:
                yield from copy_out(raw, sql, columns, chunk)
            except Exception as exc:
                if is_db_error(exc):
                    raise ConnectorError(
                        f"reading {self.describe()} failed: {reason(exc)}",
                        code="source-read-failed",
                    ) from None
                raise

    def _bind(self, value: Any) -> Any:
        if self.dialect != "sqlite":
            return value
        if isinstance(value, datetime):  # the text form the sink (and SQLAlchemy) store
            if value.tzinfo is not None:
                return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00:00")
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return str(value)
        return value
