"""Reading: chunks, projections, filters, queries, schema without data, failures."""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import ValidationError

from ocht.connector_sql import SqlUnreachable
from ocht.errors import ConnectorError, InvalidPipeline, SourceUnreachable
from ocht.pipeline_model import SqlConnector
from ocht.testkit import assert_same_rows, orders


@pytest.fixture
def orders_table(sql) -> str:
    table = sql.table("orders")
    sql.load(table, orders(500))
    return table


def test_chunked_read_equals_one_shot_read(sql, orders_table: str) -> None:
    one_shot = sql.read(orders_table, chunk_size=1_000_000)
    src = sql.source(table=orders_table, chunk_size=37)
    chunks = list(src._generate(None, None, None, None))
    assert len(chunks) >= 500 // 37
    assert max(c.height for c in chunks) <= 37
    chunked = src.scan().collect()
    assert chunked.height == 500
    assert_same_rows(chunked, one_shot)
    assert_same_rows(pl.concat(chunks), orders(500))


def test_projection_filter_and_limit_reach_the_reader(sql, orders_table: str) -> None:
    src = sql.source(table=orders_table, chunk_size=50)
    got = src.scan().filter(pl.col("country") == "DE").select("order_id", "amount").collect()
    want = orders(500).filter(pl.col("country") == "DE").select("order_id", "amount")
    assert_same_rows(got, want)
    assert src.scan().head(7).collect().height == 7


def test_query_input(sql, orders_table: str) -> None:
    src = sql.source(query=f"SELECT country, COUNT(*) AS n FROM {orders_table} GROUP BY country;")
    got = src.scan().collect().sort("country")
    want = orders(500).group_by("country").len("n").sort("country")
    assert got["country"].to_list() == want["country"].to_list()
    assert got["n"].to_list() == want["n"].to_list()
    assert src.schema()["n"].is_integer()


def test_query_params_are_bound_not_spliced(sql, orders_table: str) -> None:
    query = f"SELECT order_id, country, amount FROM {orders_table} WHERE country = :country"
    src = sql.source(query=query, params={"country": "DE"})
    got = src.scan().collect()
    want = orders(500).filter(pl.col("country") == "DE").select("order_id", "country", "amount")
    assert got.height > 0
    assert_same_rows(got, want)
    assert src.schema()["amount"].is_float()
    # spliced into the text, this value would turn the WHERE into `... OR '1'='1'`
    hostile = sql.source(query=query, params={"country": "DE' OR '1'='1"})
    assert hostile.scan().collect().height == 0


def test_query_params_with_an_incremental_cursor(sql, orders_table: str, tmp_path) -> None:
    query = (
        f"SELECT order_id, country, amount FROM {orders_table} "
        "WHERE amount >= :floor AND country <> :skip"
    )
    src = sql.source(
        query=query, params={"floor": 10.5, "skip": "FR"}, cursor="order_id", chunk_size=40
    )
    got = src.scan().collect()
    want = orders(500).filter((pl.col("amount") >= 10.5) & (pl.col("country") != "FR"))
    assert_same_rows(got, want.select("order_id", "country", "amount"))
    assert src.state() is not None and src.state()["value"] == want["order_id"].max()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"table": "t", "params": {"a": 1}}, "give a `query`"),
        ({"query": "SELECT 1 WHERE 1 = :a", "params": {"b": 1}}, "do not appear in the query"),
        ({"query": "SELECT 1 WHERE 1 = :a", "params": {"a-b": 1}}, "are not placeholders"),
        ({"query": "SELECT 1 WHERE x = '::ab'", "params": {"ab": 1}}, "do not appear"),
    ],
)
def test_query_params_are_checked(fields: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        SqlConnector.model_validate({"type": "sql", "url": "sqlite://", **fields})
    assert message in str(info.value)


def test_schema_known_without_reading_rows(sql, orders_table: str) -> None:
    src = sql.source(table=orders_table)
    assert dict(src.schema()) == {
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "country": pl.String,
        "amount": pl.Float64,
        "ts": pl.Datetime("us"),
        "status": pl.String,
    }
    sql.execute(f"DELETE FROM {orders_table}")  # an empty table still has its schema
    empty = sql.source(table=orders_table).scan().collect()
    assert empty.height == 0 and empty.columns == list(src.schema())


def test_schema_dot_table_and_unknown_cursor(sql, orders_table: str) -> None:
    with pytest.raises(InvalidPipeline) as info:
        sql.source(table=orders_table, cursor="nope").schema()
    assert "nope" in str(info.value)


def test_unreachable_server_fails_cleanly_without_password(tmp_path) -> None:
    from ocht.connector_sql import SqlSource
    from ocht.pipeline_model import SqlConnector
    from ocht.registry import RunContext

    spec = SqlConnector(
        type="sql", url="postgresql://loader:hunter2@127.0.0.1:1/shop", table="orders"
    )
    src = SqlSource(spec, name="in", context=RunContext("r", "p", base_dir=tmp_path))
    assert "hunter2" not in src.describe()
    assert "loader:***@127.0.0.1:1" in src.describe()
    with pytest.raises(SourceUnreachable) as info:
        src.scan()
    assert isinstance(info.value, SqlUnreachable)
    assert info.value.code == "source-unreachable"
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in repr(info.value.to_dict())


def test_password_never_in_describe(sql_pg) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(sql_pg.url).set(password="hunter2").render_as_string(hide_password=False)
    table = sql_pg.table()
    sql_pg.load(table, pl.DataFrame({"a": [1]}))
    from ocht.connector_sql import SqlSink, SqlSource
    from ocht.pipeline_model import SqlConnector

    spec = SqlConnector(type="sql", url=url, table=table)
    ctx = sql_pg.context()
    for obj in (SqlSource(spec, name="i", context=ctx), SqlSink(spec, name="o", context=ctx)):
        assert "hunter2" not in obj.describe()
        assert "***" in obj.describe()
    # a failing query through a URL with a password: the error does not hold it either
    bad = SqlSource(
        SqlConnector(type="sql", url=url, query="SELECT * FROM no_such_table"),
        name="i",
        context=ctx,
    )
    with pytest.raises(ConnectorError) as info:
        bad.scan().collect()
    assert "hunter2" not in str(info.value)
