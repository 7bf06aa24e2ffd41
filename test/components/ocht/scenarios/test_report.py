"""A failing scenario prints the trace of its failing run."""

from __future__ import annotations

import textwrap
from pathlib import Path

import yaml

from ocht.scenarios import cases, failure_text, run_case

PIPELINE = """
name: shop
inputs:
  orders: {type: csv, path: data/orders.csv, schema: {id: int64, amount: float64, status: string}}
steps:
  - {id: quality, kind: check, checks: [{type: not_null, column: status, action: dead_letter}]}
  - {id: big, kind: filter, where: amount >= 20}
  - {id: vat, kind: derive, columns: {vat: "round(amount * 0.2, 2)"}}
outputs:
  out: {type: parquet, path: out/orders.parquet}
"""

ROWS = [
    {"id": 1, "amount": 50.0, "status": "paid"},
    {"id": 2, "amount": 10.0, "status": "paid"},
    {"id": 3, "amount": 30.0, "status": None},
]


def _suite(tmp_path: Path, scenario: dict, pipeline: str = PIPELINE) -> Path:
    (tmp_path / "shop.yaml").write_text(textwrap.dedent(pipeline))
    path = tmp_path / "shop.ocht-test.yaml"
    path.write_text(yaml.safe_dump({"pipeline": "shop.yaml", "scenarios": [scenario]}))
    return path


def test_a_failed_expectation_prints_each_steps_rows_and_samples(tmp_path: Path) -> None:
    path = _suite(
        tmp_path,
        {
            "name": "wrong",
            "given": {"orders": {"rows": ROWS}},
            "expect": {"out": {"rows": [{"id": 1, "vat": 99.0}]}},
        },
    )
    (outcome,) = [run_case(c) for c in cases(path)]
    text = failure_text(outcome)
    assert "trace of the last run:" in text
    assert "1 quality [check] 3 -> 2, dead letters 1" in text
    assert "2 big [filter] 2 -> 1, dropped 1" in text
    assert "{id: 2, amount: 10.0, status: 'paid'}" in text  # the row the filter dropped
    assert "*vat: (new) -> 10.0*" in text  # the derived column, marked as changed
    assert "status must not be null" in text  # the dead letter's reason


def test_a_failed_run_prints_the_trace_up_to_the_failure(tmp_path: Path) -> None:
    failing = PIPELINE.replace(
        "outputs:",
        "  - {id: gate, kind: check, checks: [{type: unique, column: status}]}\noutputs:",
    )
    rows = [*ROWS, {"id": 4, "amount": 80.0, "status": "paid"}]
    path = _suite(
        tmp_path,
        {"name": "breaks", "given": {"orders": {"rows": rows}}, "expect": {"out": {"rows": []}}},
        failing,
    )
    (outcome,) = [run_case(c) for c in cases(path)]
    text = failure_text(outcome)
    assert "the run failed: check-failed" in text
    assert "4 gate [check] 2 -> 2" in text and "dropped, e.g.:" in text
