from datetime import datetime

import polars as pl
import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.transform import bind, compile_column, compile_expr, unknown_column

SCHEMA = pl.Schema({"ts": pl.Datetime("us"), "amount": pl.Int64})


def test_compile_expr_reports_typed_functions_clearly() -> None:
    with pytest.raises(InvalidPipeline, match="needs the column types") as err:
        compile_expr("sum(date_trunc('day', ts))", SCHEMA, step="a", path="steps[0].aggs.x")
    assert err.value.issues[0].path == "steps[0].aggs.x"


def test_compile_column_falls_back_to_a_query() -> None:
    col = compile_column("date_trunc('month', ts)", SCHEMA, step="s", path="p")
    assert col.expr is None
    assert col.dtype == pl.Datetime("us")
    plain = compile_column("amount + 1", SCHEMA, step="s", path="p")
    assert plain.expr is not None
    assert plain.dtype == pl.Int64

    frame = pl.LazyFrame({"ts": [datetime(2024, 3, 9)], "amount": [1]})
    bound, exprs, helpers = bind(frame, [plain, col])
    out = bound.select(exprs[0].alias("a"), exprs[1].alias("m")).collect()
    assert out.row(0) == (2, datetime(2024, 3, 1))
    assert len(helpers) == 1
    assert helpers[0] in bound.collect_schema()


def test_unknown_column_without_a_near_name_lists_the_columns() -> None:
    err = unknown_column("zzz", SCHEMA, step="s", path="p")
    assert err.issues[0].hint == "columns: ts, amount"
    assert err.details["nearest"] is None


def test_unknown_column_in_another_frame_names_it() -> None:
    with pytest.raises(UnknownColumn, match="unknown column 'x' in 'customers'"):
        raise unknown_column("x", SCHEMA, step="s", path="p", within="customers")
