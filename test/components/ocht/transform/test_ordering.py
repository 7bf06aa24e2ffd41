import polars as pl
import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import frame

ROWS = frame(
    [
        {"id": 1, "k": "a", "v": 3, "ts": 10},
        {"id": 2, "k": "b", "v": None, "ts": 5},
        {"id": 3, "k": "a", "v": 1, "ts": None},
        {"id": 4, "k": "b", "v": 2, "ts": 7},
        {"id": 5, "k": "a", "v": 3, "ts": 2},
    ]
)


def test_sort_is_stable_with_per_column_direction(steps) -> None:
    out = steps.run({"kind": "sort", "by": ["k", "v"], "descending": [False, True]}, ROWS)
    assert out["id"].to_list() == [1, 5, 3, 2, 4]


def test_sort_nulls_last(steps) -> None:
    first = steps.run({"kind": "sort", "by": "v"}, ROWS)["id"].to_list()
    last = steps.run({"kind": "sort", "by": "v", "nulls_last": True}, ROWS)["id"].to_list()
    assert first == [2, 3, 4, 1, 5]
    assert last == [3, 4, 1, 5, 2]


def test_sort_errors(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "sort", "by": ["k", "vv"]}, ROWS)
    assert err.value.issues[0].path == "steps[3].by[1]"
    with pytest.raises(InvalidPipeline, match="2 sort columns") as err2:
        steps.build({"kind": "sort", "by": ["k", "v"], "descending": [True]}, ROWS)
    assert err2.value.issues[0].path == "steps[3].descending"


def test_limit_with_offset(steps) -> None:
    assert steps.run({"kind": "limit", "n": 2}, ROWS)["id"].to_list() == [1, 2]
    assert steps.run({"kind": "limit", "n": 2, "offset": 3}, ROWS)["id"].to_list() == [4, 5]
    assert steps.run({"kind": "limit", "n": 0}, ROWS).height == 0


def test_dedupe_keep_first_and_last_in_input_order(steps) -> None:
    first = steps.run({"kind": "dedupe", "keys": "k"}, ROWS)
    last = steps.run({"kind": "dedupe", "keys": ["k"], "keep": "last"}, ROWS)
    assert first["id"].to_list() == [1, 2]
    assert sorted(last["id"].to_list()) == [4, 5]
    assert last.columns == ROWS.columns


def test_dedupe_keep_last_matches_polars_unique(steps) -> None:
    data = frame([{"k": i % 7, "j": i % 3, "v": i} for i in range(60)])
    out = steps.run({"kind": "dedupe", "keys": ["k", "j"], "keep": "last"}, data)
    expected = data.unique(["k", "j"], keep="last", maintain_order=True)
    assert out.equals(expected)


def test_dedupe_by_all_columns_by_default(steps) -> None:
    data = pl.concat([ROWS, ROWS.head(2)])
    out = steps.run({"kind": "dedupe"}, data)
    assert out.equals(ROWS)


def test_dedupe_by_order_column(steps) -> None:
    last = steps.run({"kind": "dedupe", "keys": "k", "keep": "last", "order_by": "ts"}, ROWS)
    first = steps.run({"kind": "dedupe", "keys": "k", "keep": "first", "order_by": "ts"}, ROWS)
    # a null ts never wins: row 3 has the largest-or-smallest id but no timestamp
    assert sorted(last["id"].to_list()) == [1, 4]
    assert sorted(first["id"].to_list()) == [2, 5]
    assert last.columns == ROWS.columns
    row = last.filter(pl.col("k") == "a").row(0, named=True)
    assert row == {"id": 1, "k": "a", "v": 3, "ts": 10}


def test_dedupe_order_ties_are_broken_by_input_order(steps) -> None:
    data = frame(
        [{"k": 1, "ts": 5, "id": 1}, {"k": 1, "ts": 5, "id": 2}, {"k": 1, "ts": 4, "id": 3}]
    )
    for keep, expected in (("first", [3]), ("last", [2])):
        out = steps.run({"kind": "dedupe", "keys": "k", "keep": keep, "order_by": "ts"}, data)
        assert out["id"].to_list() == expected, keep
    data = data.head(2)
    for keep, expected in (("first", [1]), ("last", [2])):
        out = steps.run({"kind": "dedupe", "keys": "k", "keep": keep, "order_by": "ts"}, data)
        assert out["id"].to_list() == expected, keep


def test_dedupe_unknown_columns(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "dedupe", "keys": ["kk"]}, ROWS)
    assert err.value.issues[0].path == "steps[3].keys[0]"
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "dedupe", "keys": ["k"], "order_by": ["tss"]}, ROWS)
    assert err.value.issues[0].path == "steps[3].order_by[0]"
