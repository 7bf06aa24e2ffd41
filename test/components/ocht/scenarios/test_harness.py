"""The scenario harness: expectations that hold pass, every kind of miss fails clearly."""

from __future__ import annotations

import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest
import yaml

from ocht.scenarios import (
    EXIT_FAILED,
    EXIT_NONE,
    EXIT_PASSED,
    InvalidScenario,
    cases,
    exit_code,
    run_case,
    write_junit,
)

PIPELINE = """
name: shop
vars: {min_amount: 20}
inputs:
  orders:
    type: csv
    path: data/orders.csv
    schema: {id: int64, amount: float64, status: string}
    on_bad_lines: dead_letter
steps:
  - id: quality
    kind: check
    checks:
      - {type: not_null, column: status, action: dead_letter}
  - id: big
    kind: filter
    where: amount >= ${min_amount}
  - kind: derive
    columns: {vat: "round(amount * 0.2, 2)"}
outputs:
  out:
    type: sql
    url: postgresql://nobody@db.invalid/shop
    table: orders
"""

ROWS = [
    {"id": 1, "amount": 50.0, "status": "paid"},
    {"id": 2, "amount": 10.0, "status": "paid"},
    {"id": 3, "amount": 30.0, "status": None},
]


def _suite(tmp_path: Path, scenarios: list[dict], pipeline: str = PIPELINE) -> Path:
    (tmp_path / "shop.yaml").write_text(textwrap.dedent(pipeline))
    path = tmp_path / "shop.ocht-test.yaml"
    path.write_text(
        yaml.safe_dump({"pipeline": "shop.yaml", "scenarios": scenarios}, sort_keys=False)
    )
    return path


def _run(path: Path, **kw):
    return [run_case(c, **kw) for c in cases(path)]


def test_a_correct_expectation_passes_without_touching_real_systems(tmp_path: Path) -> None:
    path = _suite(
        tmp_path,
        [
            {
                "name": "ok",
                "given": {"orders": {"rows": ROWS}},
                "expect": {"out": {"rows": [{"id": 1, "vat": 10.0}]}},
                "expect_dead_letters": {"count": 1, "rows": [{"step": "quality"}]},
            }
        ],
    )
    [outcome] = _run(path)
    assert outcome.passed, outcome.problems
    assert not (tmp_path / "data").exists()  # the real input was never read or written
    assert exit_code([outcome]) == EXIT_PASSED


@pytest.mark.parametrize(
    ("expect", "dead", "needle"),
    [
        ({"rows": [{"id": 1, "vat": 11.0}]}, None, "missing (expected, not produced)"),
        ({"rows": [{"id": 1, "vat": 10.0}, {"id": 9, "vat": 1.0}]}, None, '{"id": 9, "vat": 1.0}'),
        ({"rows": []}, None, "unexpected (produced, not expected)"),
        ({"rows": [{"idx": 1}]}, None, "no column 'idx'"),
        ({"count": 3}, None, "1 rows, expected 3"),
        ({"rows": [{"id": 1, "vat": 10.0}]}, {"count": 0}, "dead letters: 1, expected 0"),
        ({"rows": [{"id": 1, "vat": 10.0}]}, {"rows": [{"step": "big"}]}, "none matches"),
    ],
)
def test_every_miss_fails_with_a_readable_diff(
    tmp_path: Path, expect: dict, dead: dict | None, needle: str
) -> None:
    scenario = {"name": "miss", "given": {"orders": {"rows": ROWS}}, "expect": {"out": expect}}
    if dead is not None:
        scenario["expect_dead_letters"] = dead
    [outcome] = _run(_suite(tmp_path, [scenario]))
    assert not outcome.passed
    text = "\n".join(outcome.problems)
    assert needle in text, text


def test_float_tolerance_and_order(tmp_path: Path) -> None:
    rows = [{"id": i, "amount": 20.0 + i, "status": "paid"} for i in range(3)]
    path = _suite(
        tmp_path,
        [
            {
                "name": "close enough",
                "given": {"orders": {"rows": rows}},
                "expect": {
                    "out": {
                        "rows": [{"vat": 4.0}, {"vat": 4.2}, {"vat": 4.4}],
                        "ordered": True,
                        "tolerance": 0.01,
                    }
                },
            },
            {
                "name": "wrong order",
                "given": {"orders": {"rows": rows}},
                "expect": {"out": {"rows": [{"id": 2}, {"id": 1}, {"id": 0}], "ordered": True}},
            },
            {
                "name": "subset",
                "given": {"orders": {"rows": rows}},
                "expect": {"out": {"rows": [{"id": 2}], "subset": True}},
            },
        ],
    )
    ok, wrong, subset = _run(path)
    assert ok.passed, ok.problems
    assert "row 1 differs" in wrong.problems[0]
    assert subset.passed


def test_raw_text_meets_the_real_reader(tmp_path: Path) -> None:
    path = _suite(
        tmp_path,
        [
            {
                "name": "a short and a long line are dead letters, as in a real run",
                "given": {
                    "orders": {
                        "text": "id,amount,status\n1,50,paid\n2,60\n3,70,paid,extra\n4,x,paid\n"
                    }
                },
                "expect": {"out": {"rows": [{"id": 1}]}},
                "expect_dead_letters": {"count": 3},
            }
        ],
    )
    [outcome] = _run(path)
    assert outcome.passed, outcome.problems


def test_expected_errors_and_wrong_error_codes(tmp_path: Path) -> None:
    broken = PIPELINE.replace("amount >= ${min_amount}", "amount_x >= 1")
    path = _suite(
        tmp_path,
        [
            {
                "name": "right code",
                "given": {"orders": {"rows": ROWS}},
                "expect_error": "unknown-column",
            },
            {
                "name": "wrong code",
                "given": {"orders": {"rows": ROWS}},
                "expect_error": "check-failed",
            },
        ],
        pipeline=broken,
    )
    right, wrong = _run(path)
    assert right.passed
    assert "unknown-column" in wrong.problems[0] and "expected check-failed" in wrong.problems[0]


def test_a_misspelt_input_is_named(tmp_path: Path) -> None:
    path = _suite(
        tmp_path,
        [{"name": "typo", "given": {"order": {"rows": ROWS}}, "expect": {"out": {"count": 1}}}],
    )
    [outcome] = _run(path)
    assert outcome.problems == ["given: the pipeline has no input 'order'"]


def test_an_invalid_scenario_file_names_the_field(tmp_path: Path) -> None:
    path = _suite(tmp_path, [{"name": "bad", "given": {"orders": {"rowz": []}}}])
    with pytest.raises(InvalidScenario) as err:
        list(cases(path))
    assert any("scenarios[0].given.orders" in i.path for i in err.value.issues)


def test_multi_run_incremental_sql_input(tmp_path: Path) -> None:
    pipeline = """
    name: inc
    inputs:
      src: {type: sql, url: "postgresql://x@db.invalid/a", table: events, cursor: id, primary_key: [id]}
    outputs:
      out: {type: parquet, path: out.parquet}
    """
    path = _suite(
        tmp_path,
        [
            {
                "name": "second run reads only new rows",
                "runs": [
                    {
                        "given": {"src": {"rows": [{"id": 1}, {"id": 2}]}},
                        "expect": {"out": {"rows": [{"id": 1}, {"id": 2}]}},
                    },
                    {
                        "given": {"src": {"rows": [{"id": 3}]}},
                        "expect": {"out": {"rows": [{"id": 3}]}},
                    },
                    {"full_refresh": True, "expect": {"out": {"count": 3}}},
                ],
            }
        ],
        pipeline=pipeline,
    )
    [outcome] = _run(path)
    assert outcome.passed, outcome.problems


def test_update_writes_golden_files_that_then_pass(tmp_path: Path) -> None:
    path = _suite(
        tmp_path,
        [
            {
                "name": "golden",
                "given": {"orders": {"rows": ROWS}},
                "expect": {"out": {"golden": "golden/out.ndjson"}},
            }
        ],
    )
    [missing] = _run(path)
    assert "golden file golden/out.ndjson is missing" in missing.problems[0]
    [updated] = _run(path, update=True)
    assert updated.passed
    assert pl.read_ndjson(tmp_path / "golden" / "out.ndjson")["id"].to_list() == [1]
    [again] = _run(path)
    assert again.passed
    (tmp_path / "golden" / "out.ndjson").write_text(
        '{"id": 1, "amount": 50.0, "status": "paid", "vat": 99.0}\n'
    )
    [changed] = _run(path)
    assert "missing" in changed.problems[0]


def test_junit_report_and_exit_codes(tmp_path: Path) -> None:
    path = _suite(
        tmp_path,
        [
            {"name": "pass", "given": {"orders": {"rows": ROWS}}, "expect": {"out": {"count": 1}}},
            {"name": "fail", "given": {"orders": {"rows": ROWS}}, "expect": {"out": {"count": 2}}},
        ],
    )
    outcomes = _run(path)
    assert exit_code(outcomes) == EXIT_FAILED and exit_code([]) == EXIT_NONE
    report = tmp_path / "junit.xml"
    write_junit(outcomes, report)
    suite = ET.parse(report).getroot().find("testsuite")
    assert suite is not None and suite.get("tests") == "2" and suite.get("failures") == "1"
    failure = suite.find("testcase[@name='fail[batch]']/failure")
    assert failure is not None and "expected 2" in (failure.text or "")
