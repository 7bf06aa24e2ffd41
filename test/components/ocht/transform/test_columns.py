from datetime import date

import polars as pl
import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import assert_same_rows, frame

ROWS = frame(
    [
        {"id": 1, "amount": "12.5", "day": "2024-01-02", "paid": "yes"},
        {"id": 2, "amount": "x", "day": "2024-01-03", "paid": "no"},
    ]
)


def test_select_keeps_and_orders_columns(steps) -> None:
    out = steps.run({"kind": "select", "columns": ["paid", "id"]}, ROWS)
    assert out.columns == ["paid", "id"]
    assert out["id"].to_list() == [1, 2]


def test_select_mapping_computes_columns(steps) -> None:
    out = steps.run({"kind": "select", "columns": {"key": "id * 10", "upper": "upper(paid)"}}, ROWS)
    assert_same_rows(out, frame([{"key": 10, "upper": "YES"}, {"key": 20, "upper": "NO"}]))


def test_select_mapping_with_a_function_that_needs_types(steps) -> None:
    events = frame([{"ts": "2024-01-02 10:30:00"}]).with_columns(pl.col("ts").str.to_datetime())
    out = steps.run(
        {"kind": "select", "columns": {"day": "date_trunc('day', ts)", "ts": "ts"}}, events
    )
    assert out.columns == ["day", "ts"]
    assert str(out["day"].item()) == "2024-01-02 00:00:00"


def test_select_unknown_column_names_the_list_position(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "select", "columns": ["id", "amout"]}, ROWS)
    issue = err.value.issues[0]
    assert issue.path == "steps[3].columns[1]"
    assert issue.hint == "did you mean 'amount'?"
    assert err.value.details["nearest"] == "amount"


def test_select_twice_the_same_column_is_refused(steps) -> None:
    with pytest.raises(InvalidPipeline, match="listed twice") as err:
        steps.build({"kind": "select", "columns": ["id", "id"]}, ROWS)
    assert err.value.issues[0].path == "steps[3].columns[1]"


def test_select_bad_expression(steps) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "select", "columns": {"x": "id +* 2"}}, ROWS)
    assert err.value.code == "invalid-expression"
    assert err.value.issues[0].path == "steps[3].columns.x"


def test_drop(steps) -> None:
    assert steps.run({"kind": "drop", "columns": "paid"}, ROWS).columns == ["id", "amount", "day"]
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "drop", "columns": ["pad"]}, ROWS)
    assert err.value.issues[0].path == "steps[3].columns[0]"
    assert err.value.details["nearest"] == "paid"


def test_rename(steps) -> None:
    out = steps.run({"kind": "rename", "columns": {"id": "order_id", "paid": "is_paid"}}, ROWS)
    assert out.columns == ["order_id", "amount", "day", "is_paid"]


def test_rename_swap_is_allowed(steps) -> None:
    out = steps.run({"kind": "rename", "columns": {"id": "paid", "paid": "id"}}, ROWS)
    assert out["paid"].to_list() == [1, 2]


def test_rename_unknown_old_name(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "rename", "columns": {"ammount": "total"}}, ROWS)
    assert err.value.issues[0].path == "steps[3].columns.ammount"
    assert err.value.issues[0].hint == "did you mean 'amount'?"


def test_rename_onto_an_existing_column(steps) -> None:
    with pytest.raises(InvalidPipeline, match="two columns named 'day'") as err:
        steps.build({"kind": "rename", "columns": {"amount": "day"}}, ROWS)
    assert err.value.code == "invalid-value"
    assert err.value.issues[0].path == "steps[3].columns.amount"


def test_cast_parses_strings(steps) -> None:
    out = steps.run(
        {
            "kind": "cast",
            "strict": False,
            "columns": {"amount": "float64", "day": "date", "paid": "bool", "id": "string"},
        },
        ROWS,
    )
    assert out.schema == pl.Schema(
        {"id": pl.String, "amount": pl.Float64, "day": pl.Date, "paid": pl.Boolean}
    )
    assert out.rows() == [("1", 12.5, date(2024, 1, 2), True), ("2", None, date(2024, 1, 3), False)]


def test_strict_cast_fails_at_run_time_on_a_bad_value(steps) -> None:
    with pytest.raises(pl.exceptions.InvalidOperationError):
        steps.run({"kind": "cast", "columns": {"amount": "float64"}}, ROWS)


def test_cast_bad_type_name(steps) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "cast", "columns": {"amount": "flaot64"}}, ROWS)
    assert err.value.code == "invalid-type"
    assert err.value.issues[0].path == "steps[3].columns.amount"
    assert err.value.issues[0].hint == "did you mean 'float64'?"


def test_cast_unknown_column(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "cast", "columns": {"ID": "int64"}}, ROWS)
    assert err.value.details["nearest"] == "id"


def test_cast_list_to_scalar_is_refused(steps) -> None:
    tags = frame([{"tags": [1, 2]}])
    with pytest.raises(InvalidPipeline, match="cannot be cast") as err:
        steps.build({"kind": "cast", "columns": {"tags": "int64"}}, tags)
    assert err.value.code == "invalid-type"
    out = steps.run({"kind": "cast", "columns": {"tags": "list[float64]"}}, tags)
    assert out["tags"].dtype == pl.List(pl.Float64)
