"""Writing batches to a table in one transaction: append, replace or upsert."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from ocht.connector_sql.convert import for_driver
from ocht.connector_sql.drift import Drift, TableColumn, compare
from ocht.connector_sql.errors import InvalidSqlSpec, SchemaDriftError, SqlWriteError
from ocht.connector_sql.postgres import copy_in
from ocht.connector_sql.source import SqlBase, is_db_error
from ocht.connector_sql.types import dtype_from_sql, sql_type_for
from ocht.connector_sql.urls import reason
from ocht.errors import Issue
from ocht.observability import get_logger
from ocht.pipeline_model import SqlConnector
from ocht.registry import RunContext, Sink


class SqlSink(SqlBase, Sink):
    """Writes batches to a table; everything happens in one transaction.

    - ``append`` inserts; ``replace`` deletes the table's rows first (same transaction:
      readers see the old rows until commit; the table's definition, indexes and grants
      stay); ``upsert`` inserts or updates by ``primary_key`` (``INSERT ... ON CONFLICT``;
      rows repeated within the load: the last wins), so the same load twice changes nothing.
    - A missing table is created from the first batch's schema (``create``), with
      ``primary_key`` as its PRIMARY KEY.
    - Drift between the data and the table follows ``on_schema_drift`` (see
      :mod:`ocht.connector_sql.drift`).
    - On PostgreSQL rows travel with ``COPY ... FROM STDIN`` (upserts through a temporary
      staging table).
    - Batches are buffered up to ``chunk_size`` rows per statement.

    Any failure rolls the transaction back: the table is exactly as before.
    """

    spec: SqlConnector
    atomic: ClassVar[bool] = True

    def __init__(self, spec: SqlConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._setup()
        if spec.table is None:
            msg = f"output '{name}': a sql output writes a `table` (a `query` is for inputs)"
            raise InvalidSqlSpec(msg, issues=[Issue("invalid-value", msg, f"outputs.{name}")])
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | None = None
        self._columns: list[TableColumn] | None = None
        self._buffer: list[pl.DataFrame] = []
        self._buffered = 0
        self._plans: dict[
            tuple[tuple[str, str], ...], tuple[list[str], dict[str, pl.DataType]]
        ] = {}
        self._written: dict[str, str] = {}
        self._stage: tuple[str, tuple[str, ...]] | None = None
        self._schema: pl.Schema | None = None
        self.rows = 0
        self.log = get_logger().bind(output=name, target=self.target())

    # -- the seam --------------------------------------------------------------------------
    def open(self) -> None:
        """Connect, begin the transaction, look at the table (and empty it for ``replace``)."""
        conn = self.connect(lambda m: SqlWriteError(m, code="output-unreachable"))
        self._conn = conn
        self._guard(self._begin)

    def plan(self, frame: pl.LazyFrame) -> pl.LazyFrame | None:
        """Remember the columns written (an empty result still creates its table); the
        rows come batch by batch through :meth:`write`."""
        self._schema = frame.collect_schema()
        return None

    def write(self, batch: pl.DataFrame) -> None:
        """Buffer ``batch``; send the buffer when it holds ``chunk_size`` rows."""
        if self._conn is None:
            raise SqlWriteError(f"{self.describe()}: write() before open()")
        self._buffer.append(batch)
        self._buffered += batch.height
        if self._buffered >= self.spec.chunk_size:
            self._guard(self._flush)

    def prepare(self) -> None:
        """Send what is buffered and check deferred constraints now (PostgreSQL), so the
        commit that follows has nothing left that could fail on the data."""
        if self._conn is None or self._tx is None:
            raise SqlWriteError(f"{self.describe()}: prepare() without open()")
        self._guard(self._flush)
        if self.dialect == "postgresql":
            self._guard(lambda: self.conn.exec_driver_sql("SET CONSTRAINTS ALL IMMEDIATE"))

    def commit(self) -> None:
        """Send what is buffered and commit."""
        if self._conn is None or self._tx is None:
            raise SqlWriteError(f"{self.describe()}: commit() without open()")
        self._guard(self._flush)
        if not self._plans and self._schema is not None:
            # no row came: still create (or check) the table, so readers find its columns
            self._guard(lambda: self._prepare(pl.DataFrame(schema=self._schema)))
        self._guard(self._tx.commit)
        self._close()

    def written_columns(self) -> dict[str, str] | None:
        """The columns written by the last commit, recorded in the run store."""
        return dict(self._written) if self._written else None

    def abort(self) -> None:
        """Roll back: the table is as it was before :meth:`open`."""
        self._buffer, self._buffered = [], 0
        try:
            if self._tx is not None and self._tx.is_active:
                self._tx.rollback()
        finally:
            self._close()

    def describe(self) -> str:
        return f"{super().describe()} ({self.spec.mode})"

    # -- internals -------------------------------------------------------------------------
    def _guard(self, action: Any) -> None:
        try:
            action()
        except (SchemaDriftError, SqlWriteError):
            self.abort()
            raise
        except Exception as exc:
            self.abort()
            if is_db_error(exc):
                raise SqlWriteError(
                    f"writing {self.describe()} failed, nothing was written: {reason(exc)}"
                ) from None
            raise

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
        self._conn, self._tx = None, None
        self.dispose()

    @property
    def conn(self) -> sa.Connection:
        assert self._conn is not None
        return self._conn

    def _begin(self) -> None:
        self._tx = self.conn.begin()
        if self.dialect == "postgresql":
            self.conn.exec_driver_sql("SET LOCAL TimeZone = 'UTC'")
        self._columns = self._reflect()
        if self._columns is not None and self.spec.mode == "upsert":
            self._check_unique_key()
        if self._columns is not None and self.spec.mode == "replace":
            self.conn.exec_driver_sql(f"DELETE FROM {self.table_sql()}")

    def _reflect(self) -> list[TableColumn] | None:
        assert self.table is not None
        if self.dialect == "sqlite":
            prefix = f"{self.quote(self.db_schema)}." if self.db_schema else ""
            rows = self.conn.exec_driver_sql(
                f"PRAGMA {prefix}table_info({self.quote(self.table)})"
            ).all()
            if not rows:
                return None
            return [
                TableColumn(
                    r[1],
                    str(r[2] or ""),
                    dtype_from_sql(str(r[2] or ""), dialect="sqlite"),
                    nullable=not r[3] or bool(r[5]),
                    has_default=r[4] is not None,
                )
                for r in rows
            ]
        insp = sa.inspect(self.conn)
        if not insp.has_table(self.table, schema=self.db_schema):
            return None
        out = []
        for c in insp.get_columns(self.table, schema=self.db_schema):
            kind = str(c["type"].compile(dialect=self.conn.dialect))
            out.append(
                TableColumn(
                    c["name"],
                    kind,
                    dtype_from_sql(kind, dialect=self.dialect),
                    nullable=bool(c.get("nullable", True)),
                    has_default=c.get("default") is not None
                    or bool(c.get("autoincrement") is True),
                )
            )
        return out

    def _check_unique_key(self) -> None:
        assert self.table is not None
        key = set(self.spec.primary_key or [])
        if self.dialect == "sqlite":
            prefix = f"{self.quote(self.db_schema)}." if self.db_schema else ""
            if key == {
                r[1]
                for r in self.conn.exec_driver_sql(
                    f"PRAGMA {prefix}table_info({self.quote(self.table)})"
                )
                if r[5]
            }:
                return
        insp = sa.inspect(self.conn)
        sets = [
            set(
                insp.get_pk_constraint(self.table, schema=self.db_schema).get("constrained_columns")
                or []
            )
        ]
        sets += [
            set(u["column_names"])
            for u in insp.get_unique_constraints(self.table, schema=self.db_schema)
        ]
        sets += [
            {str(c) for c in i["column_names"]}
            for i in insp.get_indexes(self.table, schema=self.db_schema)
            if i.get("unique")
        ]
        if key not in sets:
            raise SqlWriteError(
                f"{self.describe()}: upsert needs a primary key or unique index on "
                f"({', '.join(self.spec.primary_key or [])}); the table has none",
                hint="add one (ALTER TABLE ... ADD PRIMARY KEY) or use mode: append/replace",
            )

    def _flush(self) -> None:
        if not self._buffer:
            return
        frame = (
            pl.concat(self._buffer, how="vertical_relaxed")
            if len(self._buffer) > 1
            else self._buffer[0]
        )
        self._buffer, self._buffered = [], 0
        frame = self._prepare(frame)
        if self.spec.mode == "upsert":
            frame = frame.unique(subset=self.spec.primary_key, keep="last", maintain_order=True)
        if frame.height == 0:
            return
        if self.dialect == "postgresql" and self.spec.fast_path:
            self._copy(frame)
        else:
            self._insert(frame)
        self.rows += frame.height

    def _prepare(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Create or evolve the table as the policy says; the frame shaped to fit it."""
        key = tuple((n, str(d)) for n, d in frame.schema.items())
        if key not in self._plans:
            self._plans[key] = self._plan(frame.schema)
        columns, casts = self._plans[key]
        out = frame.select(columns)
        if casts:
            try:
                out = out.with_columns([pl.col(n).cast(d, strict=True) for n, d in casts.items()])
            except pl.exceptions.PolarsError as exc:
                lines = [
                    f"~ {n}: cannot cast the data to the table's {d}" for n, d in casts.items()
                ]
                raise SchemaDriftError(
                    f"{self.describe()}: a value does not fit the table's column type, "
                    f"nothing was written:\n  " + "\n  ".join(lines) + f"\n  ({exc})",
                    diff=lines,
                    hint="cast the column in a step, or change the table",
                ) from None
        self._written = {n: str(d) for n, d in out.schema.items()}
        return out

    def _plan(self, schema: pl.Schema) -> tuple[list[str], dict[str, pl.DataType]]:
        absent = [k for k in self.spec.primary_key or [] if k not in schema]
        if absent and self.spec.mode == "upsert":
            raise SqlWriteError(
                f"{self.describe()}: the data has no primary_key column(s) "
                f"{', '.join(absent)} to upsert by"
            )
        if self._columns is None:
            if not self.spec.create:
                raise SqlWriteError(
                    f"{self.describe()}: the table does not exist",
                    hint="create it, or set `create: true`",
                )
            self._create(schema)
            return list(schema), {}
        drift = compare(schema, self._columns)
        policy = self.spec.on_schema_drift
        blocking = [c for c in drift.missing if not c.nullable and not c.has_default]
        if drift and (policy == "freeze" or blocking):
            self._refuse(drift, blocking)
        if drift:
            (
                self.log.warning
                if policy == "warn" or drift.changed or drift.missing
                else self.log.info
            )("schema drift", policy=policy, diff=drift.lines())
        keep = [n for n in schema if policy == "evolve" or n not in dict(drift.new)]
        if policy == "evolve" and drift.new:
            for name, dtype in drift.new:
                kind = sql_type_for(dtype, dialect=self.dialect)
                self.conn.exec_driver_sql(
                    f"ALTER TABLE {self.table_sql()} ADD COLUMN {self.quote(name)} {kind}"
                )
                self._columns.append(
                    TableColumn(name, kind, dtype_from_sql(kind, dialect=self.dialect))
                )
        casts = {name: table.dtype for name, _, table in drift.changed}
        return keep, casts

    def _refuse(self, drift: Drift, blocking: list[TableColumn]) -> None:
        lines = drift.lines()
        why = (
            f"column(s) {', '.join(c.name for c in blocking)} are NOT NULL without a default "
            "and missing from the data"
            if blocking and self.spec.on_schema_drift != "freeze"
            else "on_schema_drift is freeze"
        )
        raise SchemaDriftError(
            f"schema drift in output '{self.name}' ({self.target()}), {why}; nothing was "
            f"written:\n  " + "\n  ".join(lines),
            diff=lines,
            hint="change the data (select/cast in a step) or the table, or set "
            "on_schema_drift: evolve",
        )

    def _create(self, schema: pl.Schema) -> None:
        pk = list(self.spec.primary_key or [])
        missing = [k for k in pk if k not in schema]
        if missing:
            raise SqlWriteError(
                f"{self.describe()}: primary_key column(s) {', '.join(missing)} are not in the data"
            )
        cols = []
        for name, dtype in schema.items():
            kind = sql_type_for(dtype, dialect=self.dialect)
            cols.append(f"{self.quote(name)} {kind}{' NOT NULL' if name in pk else ''}")
        if pk:
            cols.append(f"PRIMARY KEY ({', '.join(self.quote(k) for k in pk)})")
        self.conn.exec_driver_sql(f"CREATE TABLE {self.table_sql()} ({', '.join(cols)})")
        self._columns = [
            TableColumn(
                n,
                sql_type_for(d, dialect=self.dialect),
                dtype_from_sql(sql_type_for(d, dialect=self.dialect), dialect=self.dialect),
                n not in pk,
            )
            for n, d in schema.items()
        ]

    def _insert(self, frame: pl.DataFrame) -> None:
        q = sa.sql.quoted_name  # always quoted, as in the DDL: keywords are valid names
        table = sa.table(
            q(self.table or "", True),
            *[sa.column(q(n, True)) for n in frame.columns],
            schema=q(self.db_schema, True) if self.db_schema else None,
        )
        rows = for_driver(frame, dialect=self.dialect).to_dicts()
        if self.spec.mode != "upsert":
            self.conn.execute(sa.insert(table), rows)
            return
        dialect_insert = postgresql.insert if self.dialect == "postgresql" else sqlite.insert
        stmt = dialect_insert(table)
        pk = list(self.spec.primary_key or [])
        others = {n: stmt.excluded[n] for n in frame.columns if n not in pk}
        stmt = (
            stmt.on_conflict_do_update(index_elements=pk, set_=others)
            if others
            else stmt.on_conflict_do_nothing(index_elements=pk)
        )
        self.conn.execute(stmt, rows)

    def _copy(self, frame: pl.DataFrame) -> None:
        raw = self.conn.connection.driver_connection
        cols = [self.quote(n) for n in frame.columns]
        if self.spec.mode != "upsert":
            copy_in(raw, self.table_sql(), cols, frame)
            return
        stage = self._staging(tuple(frame.columns))
        copy_in(raw, self.quote(stage), cols, frame)
        pk = list(self.spec.primary_key or [])
        updates = ", ".join(
            f"{c} = EXCLUDED.{c}" for n, c in zip(frame.columns, cols, strict=True) if n not in pk
        )
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        col_list = ", ".join(cols)
        self.conn.exec_driver_sql(
            f"INSERT INTO {self.table_sql()} ({col_list}) SELECT {col_list} FROM "
            f"{self.quote(stage)} ON CONFLICT ({', '.join(self.quote(k) for k in pk)}) {action}"
        )

    def _staging(self, columns: tuple[str, ...]) -> str:
        """A temporary table shaped like the target's ``columns`` (dropped at commit)."""
        if self._stage is not None and self._stage[1] == columns:
            self.conn.exec_driver_sql(f"TRUNCATE {self.quote(self._stage[0])}")
            return self._stage[0]
        if self._stage is not None:
            self.conn.exec_driver_sql(f"DROP TABLE {self.quote(self._stage[0])}")
        name = f"_ocht_stage_{uuid.uuid4().hex[:12]}"
        col_list = ", ".join(self.quote(c) for c in columns)
        self.conn.exec_driver_sql(
            f"CREATE TEMP TABLE {self.quote(name)} ON COMMIT DROP AS "
            f"SELECT {col_list} FROM {self.table_sql()} WITH NO DATA"
        )
        self._stage = (name, columns)
        return name
