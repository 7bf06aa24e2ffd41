"""The ``sql`` fixture: run a sink the way the executor does, read a table back."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

from ocht.connector_sql import SqlSink, SqlSource
from ocht.pipeline_model import SqlConnector
from ocht.registry import RunContext


def table_name(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def context(tmp_path: Path | None = None, **fields: Any) -> RunContext:
    return RunContext(
        f"run-{uuid.uuid4().hex[:6]}", "demo", base_dir=tmp_path or Path.cwd(), **fields
    )


def spec(url: str, **kw: Any) -> SqlConnector:
    return SqlConnector.model_validate({"type": "sql", "url": url, **kw})


def load(
    url: str, table: str, *batches: pl.DataFrame, ctx: RunContext | None = None, **kw: Any
) -> SqlSink:
    """open, write each batch, commit: what the executor does."""
    sink = SqlSink(spec(url, table=table, **kw), name="out", context=ctx or context())
    sink.open()
    try:
        for batch in batches:
            sink.write(batch)
        sink.commit()
    except BaseException:
        sink.abort()
        raise
    return sink


def read(url: str, table: str, ctx: RunContext | None = None, **kw: Any) -> pl.DataFrame:
    """The table through the source."""
    src = SqlSource(spec(url, table=table, **kw), name="in", context=ctx or context())
    try:
        return src.scan().collect()
    finally:
        src.close()


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a query, straight through SQLAlchemy (independent of the connector)."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.exec_driver_sql(sql)]
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.exec_driver_sql(s)
    finally:
        engine.dispose()


def table_exists(url: str, table: str) -> bool:
    engine = sa.create_engine(url)
    try:
        return sa.inspect(engine).has_table(table)
    finally:
        engine.dispose()


class Sql:
    """The helpers above bound to one database URL (the ``sql`` fixture)."""

    def __init__(self, url: str, tmp_path: Path) -> None:
        self.url = url
        self.tmp_path = tmp_path
        self.dialect = sa.engine.make_url(url).get_backend_name()

    def table(self, prefix: str = "t") -> str:
        return table_name(prefix)

    def context(self, **options: Any) -> RunContext:
        return context(self.tmp_path, **options)

    def spec(self, **kw: Any) -> SqlConnector:
        return spec(self.url, **kw)

    def load(
        self, table: str, *batches: pl.DataFrame, ctx: RunContext | None = None, **kw: Any
    ) -> SqlSink:
        return load(self.url, table, *batches, ctx=ctx, **kw)

    def read(self, table: str, **kw: Any) -> pl.DataFrame:
        return read(self.url, table, **kw)

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return rows(self.url, sql)

    def execute(self, *statements: str) -> None:
        execute(self.url, *statements)

    def exists(self, table: str) -> bool:
        return table_exists(self.url, table)

    def source(self, ctx: RunContext | None = None, name: str = "in", **kw: Any) -> SqlSource:
        return SqlSource(self.spec(**kw), name=name, context=ctx or self.context())


@pytest.fixture
def sql(database_url: str, tmp_path: Path) -> Sql:
    """Helpers on a SQLite file, then on PostgreSQL (skipped when no server answers)."""
    return Sql(database_url, tmp_path)


@pytest.fixture
def sql_pg(postgres_url: str, tmp_path: Path) -> Sql:
    """Helpers on PostgreSQL only."""
    return Sql(postgres_url, tmp_path)
