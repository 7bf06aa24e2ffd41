from datetime import datetime

import polars as pl
import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import assert_same_rows, frame

EVENTS = frame(
    [
        {"id": 1, "ts": datetime(2024, 1, 1, 9, 30), "amount": 5},
        {"id": 2, "ts": datetime(2024, 1, 2, 23, 59), "amount": None},
        {"id": 3, "ts": datetime(2024, 1, 2, 0, 1), "amount": 20},
    ]
)


def test_filter_treats_null_as_false(steps) -> None:
    out = steps.run({"kind": "filter", "where": "amount > 1"}, EVENTS)
    assert out["id"].to_list() == [1, 3]


def test_filter_with_a_function_that_needs_types(steps) -> None:
    out = steps.run({"kind": "filter", "where": "date_trunc('day', ts) = '2024-01-02'"}, EVENTS)
    assert out["id"].to_list() == [2, 3]
    assert out.columns == EVENTS.columns


def test_filter_condition_must_be_boolean(steps) -> None:
    with pytest.raises(InvalidPipeline, match="must be true or false") as err:
        steps.build({"kind": "filter", "where": "amount + 1"}, EVENTS)
    assert err.value.code == "invalid-expression"
    assert err.value.issues[0].path == "steps[3].where"


def test_filter_unknown_column(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "filter", "where": "amont > 1"}, EVENTS)
    assert err.value.issues[0].path == "steps[3].where"
    assert err.value.details["nearest"] == "amount"


def test_unknown_column_inside_a_typed_function(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "filter", "where": "date_trunc('day', tss) = '2024-01-02'"}, EVENTS)
    assert err.value.details["column"] == "tss"
    assert err.value.details["nearest"] == "ts"


def test_typed_function_on_the_wrong_type_is_caught_at_build_time(steps) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "derive", "columns": {"d": "date_trunc('day', id)"}}, EVENTS)
    assert err.value.code == "invalid-expression"
    assert err.value.issues[0].path == "steps[3].columns.d"


def test_derive_later_columns_use_earlier_ones(steps) -> None:
    out = steps.run(
        {
            "kind": "derive",
            "columns": {
                "double": "amount * 2",
                "quad": "double * 2",
                "amount": "coalesce(amount, 0)",
            },
        },
        EVENTS,
    )
    assert out.columns == ["id", "ts", "amount", "double", "quad"]
    assert out["quad"].to_list() == [20, None, 80]
    assert out["amount"].to_list() == [5, 0, 20]


def test_derive_mixes_typed_functions_and_plain_expressions(steps) -> None:
    out = steps.run(
        {
            "kind": "derive",
            "columns": {
                "day": "date_trunc('day', ts)",
                "next_day": "day + interval '1 day'",
                "ts": "date_trunc('hour', ts)",
            },
        },
        EVENTS,
    )
    assert out.columns == ["id", "ts", "amount", "day", "next_day"]
    expected = EVENTS.with_columns(
        day=pl.col("ts").dt.truncate("1d"),
        next_day=pl.col("ts").dt.truncate("1d") + pl.duration(days=1),
        ts=pl.col("ts").dt.truncate("1h"),
    )
    assert_same_rows(out, expected)


def test_derive_bad_expression(steps) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "derive", "columns": {"x": "no_such_fn(amount)"}}, EVENTS)
    assert err.value.code == "invalid-expression"
    assert err.value.issues[0].path == "steps[3].columns.x"
