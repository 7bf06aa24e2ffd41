"""SQL databases in and out (SQLAlchemy 2): tables or queries read in chunks, incremental
loads by a cursor column, and transactional writes (append, replace, upsert) with a
schema-drift policy; in stream mode one transaction per micro-batch, with the stream's
offsets and state in it (exactly once). SQLite and PostgreSQL are tested; PostgreSQL uses COPY both ways.

Example:
    >>> import tempfile, polars as pl
    >>> from ocht.pipeline_model import SqlConnector
    >>> from ocht.registry import RunContext
    >>> url = f"sqlite:///{tempfile.mkdtemp()}/shop.db"
    >>> ctx = RunContext("run-1", "demo")
    >>> sink = SqlSink(SqlConnector(type="sql", url=url, table="t"), name="out", context=ctx)
    >>> sink.open(); sink.write(pl.DataFrame({"id": [1, 2]})); sink.commit()
    >>> src = SqlSource(SqlConnector(type="sql", url=url, table="t"), name="in", context=ctx)
    >>> src.scan().collect()["id"].to_list()
    [1, 2]
"""

from ocht.connector_sql.drift import Drift, TableColumn
from ocht.connector_sql.errors import (
    InvalidSqlSpec,
    SchemaDriftError,
    SqlUnreachable,
    SqlWriteError,
)
from ocht.connector_sql.incremental import BOUNDARY_CAP
from ocht.connector_sql.sink import SqlSink
from ocht.connector_sql.source import SqlSource
from ocht.connector_sql.stream import SqlOutput, SqlStreamSink
from ocht.connector_sql.types import dtype_from_sql, sql_type_for
from ocht.connector_sql.urls import redact_url
from ocht.pipeline_model import SqlConnector
from ocht.registry import ConnectorType

SQL = ConnectorType(
    "sql",
    SqlConnector,
    SqlSource,
    SqlOutput,
    batch=True,
    stream=True,
    summary="SQL tables and queries (SQLAlchemy): chunked, incremental, transactional writes.",
)

CONNECTORS: tuple[ConnectorType, ...] = (SQL,)

__all__ = [
    "BOUNDARY_CAP",
    "CONNECTORS",
    "SQL",
    "Drift",
    "InvalidSqlSpec",
    "SchemaDriftError",
    "SqlConnector",
    "SqlOutput",
    "SqlSink",
    "SqlSource",
    "SqlStreamSink",
    "SqlUnreachable",
    "SqlWriteError",
    "TableColumn",
    "dtype_from_sql",
    "redact_url",
    "sql_type_for",
]
