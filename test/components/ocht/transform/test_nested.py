import polars as pl
import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import frame

ROWS = frame(
    [
        {"id": 1, "tags": ["a", "b"], "n": [1, 2], "who": {"name": "Ann", "age": 3}},
        {"id": 2, "tags": [], "n": [], "who": {"name": "Bo", "age": None}},
        {"id": 3, "tags": None, "n": None, "who": None},
    ]
)


def test_explode_keeps_rows_with_empty_or_null_lists(steps) -> None:
    out = steps.run({"kind": "explode", "columns": "tags"}, ROWS)
    assert out["id"].to_list() == [1, 1, 2, 3]
    assert out["tags"].to_list() == ["a", "b", None, None]


def test_explode_several_columns_together(steps) -> None:
    out = steps.run({"kind": "explode", "columns": ["tags", "n"]}, ROWS)
    assert out.select("tags", "n").rows()[:2] == [("a", 1), ("b", 2)]


def test_explode_needs_a_list(steps) -> None:
    with pytest.raises(InvalidPipeline, match="not a list") as err:
        steps.build({"kind": "explode", "columns": ["tags", "who"]}, ROWS)
    assert err.value.code == "invalid-type"
    assert err.value.issues[0].path == "steps[3].columns[1]"
    with pytest.raises(UnknownColumn):
        steps.build({"kind": "explode", "columns": "tag"}, ROWS)


def test_unnest(steps) -> None:
    out = steps.run({"kind": "unnest", "columns": "who"}, ROWS)
    assert out.columns == ["id", "tags", "n", "name", "age"]
    assert out["name"].to_list() == ["Ann", "Bo", None]


def test_unnest_with_separator(steps) -> None:
    out = steps.run({"kind": "unnest", "columns": ["who"], "separator": "."}, ROWS)
    assert out.columns == ["id", "tags", "n", "who.name", "who.age"]


def test_unnest_needs_a_struct_and_free_names(steps) -> None:
    with pytest.raises(InvalidPipeline, match="not a struct") as err:
        steps.build({"kind": "unnest", "columns": "tags"}, ROWS)
    assert err.value.code == "invalid-type"
    clash = ROWS.with_columns(pl.lit("x").alias("name"))
    with pytest.raises(InvalidPipeline, match="'name' that already exists") as err:
        steps.build({"kind": "unnest", "columns": "who"}, clash)
    assert err.value.issues[0].path == "steps[3].columns[0]"
    out = steps.run({"kind": "unnest", "columns": "who", "separator": "_"}, clash)
    assert "who_name" in out.columns
