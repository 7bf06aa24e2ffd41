"""The accounting invariant holds for pipelines that are graphs, not chains."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ocht.executor import check_accounting
from ocht.testkit import run_pipeline


def _inputs(tmp_path: Path) -> dict:
    pl.DataFrame({"id": range(10), "cust": [i % 3 for i in range(10)]}).write_parquet(
        tmp_path / "orders.parquet"
    )
    pl.DataFrame({"cust": [0, 1, 2], "seg": ["a", "b", "c"]}).write_parquet(
        tmp_path / "customers.parquet"
    )
    return {
        "orders": {"type": "parquet", "path": str(tmp_path / "orders.parquet")},
        "customers": {"type": "parquet", "path": str(tmp_path / "customers.parquet")},
    }


def test_a_join_counts_its_lookup_side(tmp_path: Path) -> None:
    result = run_pipeline(
        {
            "name": "join",
            "inputs": _inputs(tmp_path),
            "steps": [
                {"id": "j", "input": "orders", "kind": "join", "with": "customers", "on": "cust"}
            ],
            "outputs": {"o": {"type": "parquet", "path": str(tmp_path / "o.parquet")}},
        },
        home=tmp_path / ".ocht",
    )
    acc = check_accounting(result)  # raises when it does not balance
    assert acc.read == 13 and acc.written == 10 and acc.dropped == 3
    assert result.steps[0].rows_other == 3


def test_fan_out_and_an_unwritten_route_branch(tmp_path: Path) -> None:
    result = run_pipeline(
        {
            "name": "fan",
            "inputs": {"orders": _inputs(tmp_path)["orders"]},
            "steps": [{"id": "r", "kind": "route", "routes": {"low": "id < 4"}, "default": "rest"}],
            "outputs": {  # `low` written twice, `rest` never
                "a": {"from": "r.low", "type": "parquet", "path": str(tmp_path / "a.parquet")},
                "b": {"from": "r.low", "type": "csv", "path": str(tmp_path / "b.csv")},
            },
        },
        home=tmp_path / ".ocht",
    )
    acc = check_accounting(result)
    # `low` is counted again for its second reader; `rest`, read by nobody, is never
    # computed: its rows are the route's dropped rows
    assert acc.written == 8 and result.fanout == 4 and acc.dropped == 6


def test_bad_lines_skipped_by_an_input_are_counted_and_balance(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(
        "id,amount\n1,5\n2,x\n3\n4,8,extra\n5,9\n6,10\n", encoding="utf-8"
    )
    result = run_pipeline(
        {
            "name": "skip",
            "inputs": {
                "a": {
                    "type": "csv",
                    "path": str(tmp_path / "a.csv"),
                    "on_bad_lines": "skip",
                    "schema_overrides": {"amount": "int64"},
                }
            },
            "steps": [{"kind": "filter", "where": "amount > 5"}],
            "outputs": {"o": {"type": "parquet", "path": str(tmp_path / "o.parquet")}},
        },
        home=tmp_path / ".ocht",
    )
    assert result.skipped == {"a": 3}  # a value that is not a number, a short and a long row
    acc = check_accounting(result)
    assert (acc.read, acc.written, acc.dropped, acc.skipped) == (6, 2, 1, 3)
    assert "skipped bad lines 3" in acc.describe()
