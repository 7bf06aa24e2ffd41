"""Writing: append, replace, upsert, creation, rollback on failure, drift policies."""

from __future__ import annotations

import polars as pl
import pytest
from structlog.testing import capture_logs

from ocht.connector_sql import SchemaDriftError, SqlSink, SqlWriteError
from ocht.errors import InvalidPipeline, OutputWriteError
from ocht.testkit import assert_same_rows

PEOPLE = pl.DataFrame({"id": [1, 2, 3], "name": ["ann", "bob", "cy"], "score": [1.5, 2.5, 3.5]})


def _table_rows(sql, table: str) -> list[tuple]:
    return sorted(sql.rows(f'SELECT * FROM "{table}"'), key=repr)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "driver"])
def test_append_creates_then_appends(sql, fast_path: bool) -> None:
    table = sql.table()
    assert not sql.exists(table)
    sql.load(table, PEOPLE.head(2), PEOPLE.tail(1), fast_path=fast_path, chunk_size=1)
    sql.load(table, PEOPLE, fast_path=fast_path)
    back = sql.read(table)
    assert back.height == 6
    assert_same_rows(back, pl.concat([PEOPLE, PEOPLE]))


def test_replace_swaps_rows_in_one_transaction(sql) -> None:
    table = sql.table()
    sql.load(table, PEOPLE)
    sink = SqlSink(sql.spec(table=table, mode="replace"), name="o", context=sql.context())
    sink.open()
    sink.write(PEOPLE.head(1).with_columns(name=pl.lit("zed")))
    assert len(_table_rows(sql, table)) == 3  # others still see the old rows
    sink.commit()
    assert _table_rows(sql, table) == [(1, "zed", 1.5)]
    sql.load(table, mode="replace")  # an empty result empties the table
    assert _table_rows(sql, table) == []


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "driver"])
def test_upsert_is_idempotent(sql, fast_path: bool) -> None:
    table = sql.table()
    kw = {"mode": "upsert", "primary_key": ["id"], "fast_path": fast_path, "chunk_size": 2}
    sql.load(table, PEOPLE, **kw)
    first = _table_rows(sql, table)
    sql.load(table, PEOPLE, **kw)
    assert _table_rows(sql, table) == first  # the same load twice changes nothing
    change = pl.DataFrame(
        {"id": [2, 4, 4], "name": ["BOB", "dee", "DEE"], "score": [9.0, 4.5, 5.5]}
    )
    sql.load(table, change, **kw)
    assert _table_rows(sql, table) == sorted(
        [(1, "ann", 1.5), (2, "BOB", 9.0), (3, "cy", 3.5), (4, "DEE", 5.5)], key=repr
    )


def test_upsert_with_only_key_columns(sql) -> None:
    table = sql.table()
    keys = pl.DataFrame({"id": [1, 2]})
    sql.load(table, keys, mode="upsert", primary_key=["id"])
    sql.load(table, keys, mode="upsert", primary_key=["id"])
    assert _table_rows(sql, table) == [(1,), (2,)]


def test_upsert_needs_a_unique_key_on_an_existing_table(sql) -> None:
    table = sql.table()
    sql.load(table, PEOPLE)  # created without a primary key
    with pytest.raises(SqlWriteError) as info:
        sql.load(table, PEOPLE, mode="upsert", primary_key=["id"])
    assert "primary key or unique index" in str(info.value)


def test_failure_mid_write_leaves_the_table_unchanged(sql) -> None:
    table = sql.table()
    sql.execute(
        f'CREATE TABLE "{table}" (id INTEGER PRIMARY KEY, name TEXT NOT NULL)',
        f"INSERT INTO \"{table}\" VALUES (100, 'kept')",
    )
    good = pl.DataFrame({"id": [1, 2], "name": ["a", "b"]})
    bad = pl.DataFrame({"id": [3, 4], "name": ["c", None]})  # NOT NULL violation
    for mode in ("append", "replace"):
        with pytest.raises(OutputWriteError) as info:
            sql.load(table, good, bad, mode=mode, chunk_size=1)
        assert info.value.code == "output-write-failed"
        assert _table_rows(sql, table) == [(100, "kept")]


def test_abort_after_batches_rolls_everything_back(sql) -> None:
    table = sql.table()
    sink = SqlSink(sql.spec(table=table, chunk_size=2), name="o", context=sql.context())
    sink.open()
    sink.write(PEOPLE)  # sent: the buffer was full
    sink.write(PEOPLE)
    sink.abort()  # e.g. the pipeline failed after the 2nd batch
    assert not sql.exists(table)  # even the CREATE TABLE is rolled back

    sql.load(table, PEOPLE)
    sink = SqlSink(
        sql.spec(table=table, mode="replace", on_schema_drift="evolve"),
        name="o",
        context=sql.context(),
    )
    sink.open()
    sink.write(PEOPLE.with_columns(extra=pl.lit(1)))  # adds a column, deletes rows
    sink.abort()
    assert _table_rows(sql, table) == sorted(PEOPLE.rows(), key=repr)
    assert sql.read(table).columns == ["id", "name", "score"]


def test_query_cannot_be_an_output(sql) -> None:
    with pytest.raises(InvalidPipeline):
        SqlSink(sql.spec(query="SELECT 1"), name="o", context=sql.context())


def test_create_false_on_a_missing_table(sql) -> None:
    with pytest.raises(SqlWriteError) as info:
        sql.load(sql.table(), PEOPLE, create=False)
    assert "does not exist" in str(info.value)


# -- drift ---------------------------------------------------------------------------------
def _drifted() -> pl.DataFrame:
    """PEOPLE with `score` missing, `email` new, and `name` unchanged."""
    return pl.DataFrame({"id": [4], "name": ["dee"], "email": ["d@x.io"]})


def test_drift_evolve_adds_columns_and_nulls_missing_ones(sql) -> None:
    table = sql.table()
    sql.load(table, PEOPLE)
    with capture_logs() as logs:
        sql.load(table, _drifted(), on_schema_drift="evolve")
    back = sql.read(table).sort("id")
    assert back.columns == ["id", "name", "score", "email"]
    assert back.row(3) == (4, "dee", None, "d@x.io")
    assert back["email"].to_list()[:3] == [None, None, None]
    assert any(e["event"] == "schema drift" for e in logs)


def test_drift_freeze_fails_before_writing_with_a_diff(sql) -> None:
    table = sql.table()
    sql.load(table, PEOPLE)
    with pytest.raises(SchemaDriftError) as info:
        sql.load(table, _drifted(), on_schema_drift="freeze")
    err = info.value
    assert err.code == "schema-drift"
    assert any(line.startswith("+ email") for line in err.diff)
    assert any(line.startswith("- score") for line in err.diff)
    assert "+ email" in str(err) and "- score" in str(err)
    assert _table_rows(sql, table) == sorted(PEOPLE.rows(), key=repr)
    # no drift, no error
    sql.load(table, PEOPLE, on_schema_drift="freeze")


def test_drift_warn_logs_and_writes_what_fits(sql) -> None:
    table = sql.table()
    sql.load(table, PEOPLE)
    with capture_logs() as logs:
        sql.load(table, _drifted(), on_schema_drift="warn")
    back = sql.read(table).sort("id")
    assert back.columns == ["id", "name", "score"]  # no new column
    assert back.row(3) == (4, "dee", None)
    warned = [e for e in logs if e["event"] == "schema drift"]
    assert warned and warned[0]["log_level"] == "warning"
    assert any("email" in line for line in warned[0]["diff"])


def test_changed_type_is_cast_or_refused(sql) -> None:
    table = sql.table()
    sql.load(table, PEOPLE)
    as_text = pl.DataFrame({"id": [5], "name": ["eve"], "score": ["4.25"]})
    sql.load(table, as_text, on_schema_drift="evolve")
    assert sql.read(table).filter(pl.col("id") == 5)["score"].to_list() == [4.25]
    nonsense = pl.DataFrame({"id": [6], "name": ["fay"], "score": ["lots"]})
    with pytest.raises(SchemaDriftError) as info:
        sql.load(table, nonsense, on_schema_drift="warn")
    assert "score" in str(info.value)
    assert sql.read(table).height == 4


def test_missing_not_null_column_is_refused_under_evolve(sql) -> None:
    table = sql.table()
    sql.execute(f'CREATE TABLE "{table}" (id INTEGER, name TEXT NOT NULL)')
    with pytest.raises(SchemaDriftError) as info:
        sql.load(table, pl.DataFrame({"id": [1]}), on_schema_drift="evolve")
    assert "NOT NULL" in str(info.value)


def test_the_sink_reports_the_columns_it_wrote(sql) -> None:
    table = sql.table()
    first = sql.load(table, PEOPLE)
    assert first.written_columns() == {"id": "Int64", "name": "String", "score": "Float64"}
    drifted = sql.load(table, _drifted())
    assert list(drifted.written_columns() or {}) == ["id", "name", "email"]


def test_sink_unreachable_without_password() -> None:
    from ocht.pipeline_model import SqlConnector
    from ocht.registry import RunContext

    spec = SqlConnector(type="sql", url="postgresql://w:hunter2@127.0.0.1:1/db", table="t")
    sink = SqlSink(spec, name="o", context=RunContext("r", "p"))
    with pytest.raises(OutputWriteError) as info:
        sink.open()
    assert "hunter2" not in str(info.value)
    assert "hunter2" not in sink.describe()


def test_upsert_without_the_key_in_the_data(sql) -> None:
    table = sql.table()
    sql.load(table, PEOPLE, mode="upsert", primary_key=["id"])
    with pytest.raises(SqlWriteError) as info:
        sql.load(table, PEOPLE.drop("id"), mode="upsert", primary_key=["id"])
    assert "no primary_key column" in str(info.value)
    assert len(_table_rows(sql, table)) == 3
