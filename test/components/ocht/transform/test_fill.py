from datetime import date

import polars as pl
import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import frame

ROWS = frame(
    [
        {"a": 1, "b": None, "s": None, "d": None},
        {"a": None, "b": 2.5, "s": "x", "d": date(2024, 1, 1)},
        {"a": 4, "b": None, "s": None, "d": None},
    ],
    schema={"a": pl.Int64, "b": pl.Float64, "s": pl.String, "d": pl.Date},
)


def test_fill_per_column_converts_values_to_the_column_type(steps) -> None:
    out = steps.run(
        {"kind": "fill_null", "columns": {"a": 0, "s": "none", "d": "2000-01-01", "b": 1}}, ROWS
    )
    assert out.schema == ROWS.schema
    assert out["a"].to_list() == [1, 0, 4]
    assert out["b"].to_list() == [1.0, 2.5, 1.0]
    assert out["s"].to_list() == ["none", "x", "none"]
    assert out["d"].to_list() == [date(2000, 1, 1), date(2024, 1, 1), date(2000, 1, 1)]


def test_fill_one_value_on_every_column_it_fits(steps) -> None:
    out = steps.run({"kind": "fill_null", "value": 0}, ROWS)
    assert out["a"].to_list() == [1, 0, 4]
    assert out["b"].to_list() == [0.0, 2.5, 0.0]
    # 0 is not meant for text or dates: those keep their nulls
    assert out["s"].null_count() == 2
    assert out["d"].null_count() == 2


def test_fill_value_on_listed_columns(steps) -> None:
    out = steps.run({"kind": "fill_null", "value": 9, "columns": ["a"]}, ROWS)
    assert out["a"].to_list() == [1, 9, 4]
    assert out["b"].null_count() == 2


def test_fill_value_that_does_not_fit_a_listed_column(steps) -> None:
    with pytest.raises(InvalidPipeline, match="does not fit column 'b'") as err:
        steps.build({"kind": "fill_null", "value": "oops", "columns": ["b", "a"]}, ROWS)
    assert err.value.code == "invalid-value"
    assert err.value.issues[0].path == "steps[3].columns[0]"
    with pytest.raises(InvalidPipeline, match="does not fit") as err:
        steps.build({"kind": "fill_null", "columns": {"a": 1.5}}, ROWS)
    assert err.value.issues[0].path == "steps[3].columns.a"


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ("forward", [1, 1, 4]),
        ("backward", [1, 4, 4]),
        ("min", [1, 1, 4]),
        ("max", [1, 4, 4]),
        ("zero", [1, 0, 4]),
        ("one", [1, 1, 4]),
        ("mean", [1, 2, 4]),
    ],
)
def test_strategies(steps, strategy: str, expected: list[int]) -> None:
    out = steps.run({"kind": "fill_null", "strategy": strategy, "columns": ["a"]}, ROWS)
    assert out["a"].to_list() == expected


def test_strategy_on_all_columns_skips_columns_it_does_not_apply_to(steps) -> None:
    out = steps.run({"kind": "fill_null", "strategy": "zero"}, ROWS)
    assert out["a"].to_list() == [1, 0, 4]
    assert out["b"].to_list() == [0.0, 2.5, 0.0]
    assert out["s"].null_count() == 2


def test_strategy_that_does_not_apply_to_a_listed_column(steps) -> None:
    with pytest.raises(InvalidPipeline, match="does not apply to column 's'") as err:
        steps.build({"kind": "fill_null", "strategy": "mean", "columns": ["a", "s"]}, ROWS)
    assert err.value.issues[0].path == "steps[3].columns[1]"


def test_whole_data_strategies_are_refused_on_a_stream(steps) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "fill_null", "strategy": "forward"}, ROWS, mode="stream")
    assert err.value.code == "batch-only-step"
    assert err.value.issues[0].path == "steps[3].strategy"
    steps.build({"kind": "fill_null", "strategy": "zero"}, ROWS, mode="stream")


@pytest.mark.parametrize(
    ("options", "path"),
    [
        ({"columns": {"a": 1}, "value": 2}, "steps[3].value"),
        ({"columns": {"a": 1}, "strategy": "zero"}, "steps[3].strategy"),
        ({"value": 1, "strategy": "zero"}, "steps[3].value"),
        ({}, "steps[3]"),
    ],
)
def test_exactly_one_form(steps, options: dict, path: str) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "fill_null", **options}, ROWS)
    assert err.value.code == "invalid-value"
    assert err.value.issues[0].path == path


def test_unknown_column(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "fill_null", "columns": {"aa": 1}}, ROWS)
    assert err.value.issues[0].path == "steps[3].columns.aa"
    with pytest.raises(UnknownColumn):
        steps.build({"kind": "fill_null", "value": 1, "columns": ["zz"]}, ROWS)
