"""``ocht trace`` explains a run: a few rows each step dropped, changed, dead-lettered."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ocht.cli.main import cli
from ocht.errors import OchtError
from ocht.executor import read_trace, trace_text
from ocht.registry import Registry
from ocht.testkit import run_pipeline

ROWS = [
    {"id": 1, "amount": 5, "note": "small"},
    {"id": 2, "amount": None, "note": "missing"},
    {"id": 3, "amount": 70, "note": "big"},
    {"id": 4, "amount": 30, "note": "mid"},
]


def _pipeline(rows: list[dict[str, Any]], *extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "explained",
        "inputs": {"i": {"type": "memory", "rows": rows}},
        "steps": [
            {
                "kind": "check",
                "id": "qc",
                "checks": [{"type": "not_null", "column": "amount", "action": "dead_letter"}],
            },
            {"kind": "filter", "id": "big", "where": "amount > 10"},
            {"kind": "derive", "id": "vat", "columns": {"amount": "amount * 2", "tax": "1"}},
            *extra,
        ],
        "outputs": {"o": {"type": "memory", "key": "o"}},
    }


def _trace_cli(home: Path, run_id: str, *args: str) -> Any:
    out = CliRunner().invoke(cli, ["trace", run_id, *args], env={"OCHT_HOME": str(home)})
    assert out.exit_code == 0, out.output
    return out


def test_trace_shows_the_dropped_the_changed_and_the_dead_lettered_rows(
    tmp_path: Path, registry: Registry
) -> None:
    home = tmp_path / "home"
    result = run_pipeline(_pipeline(ROWS), registry=registry, home=home)
    rows = json.loads(_trace_cli(home, result.run_id, "--json").stdout)
    by_step = {r["step"]: r for r in rows}
    assert all(r["status"] == "succeeded" for r in rows)

    dead = by_step["qc"]["samples"]["dead_lettered"]
    assert len(dead) == 1 and json.loads(dead[0]["record"])["id"] == 2
    assert "amount" in dead[0]["reason"] and dead[0]["check"] == "not_null_amount"

    assert by_step["big"]["samples"] == {"dropped": [{"id": 1, "amount": 5, "note": "small"}]}

    changed = by_step["vat"]["samples"]["changed"]
    assert [c["before"]["id"] for c in changed] == [3, 4]
    first = changed[0]
    assert first["before"] == {"id": 3, "amount": 70, "note": "big"}
    assert first["after"] == {"id": 3, "amount": 140, "note": "big", "tax": 1}
    assert first["columns"] == ["amount", "tax"]  # only what changed is highlighted

    table = _trace_cli(home, result.run_id).output
    assert "dropped, e.g.:" in table and "{id: 1, amount: 5, note: 'small'}" in table
    assert "amount: 70 -> 140" in table and "tax: (new) -> 1" in table
    assert "dead-lettered, e.g.:" in table and "[not_null_amount]" in table


def test_samples_are_bounded_and_can_be_turned_off(tmp_path: Path, registry: Registry) -> None:
    many = [{"id": i, "amount": i % 20, "note": "n"} for i in range(500)]
    home = tmp_path / "home"
    result = run_pipeline(_pipeline(many), registry=registry, home=home, trace_samples=3)
    trace = read_trace(home, result.run_id)
    samples = {r["step"]: json.loads(r["samples"] or "{}") for r in trace.iter_rows(named=True)}
    assert len(samples["big"]["dropped"]) == 3 and len(samples["vat"]["changed"]) == 3
    assert trace.filter(trace["step"] == "big")["dropped"].item() == 275  # counts stay exact

    off = run_pipeline(_pipeline(many), registry=registry, home=home, trace_samples=0)
    assert read_trace(home, off.run_id)["samples"].null_count() == 3


def test_a_failed_run_keeps_its_trace_with_the_samples_gathered(
    tmp_path: Path, registry: Registry
) -> None:
    home = tmp_path / "home"
    failing = {"kind": "check", "id": "gate", "checks": [{"type": "unique", "column": "note"}]}
    rows = [*ROWS, {"id": 5, "amount": 90, "note": "big"}]
    with pytest.raises(OchtError) as caught:
        run_pipeline(_pipeline(rows, failing), registry=registry, home=home, run_id="r-failed")
    assert caught.value.code == "check-failed"

    trace = read_trace(home, "r-failed")
    assert set(trace["status"]) == {"failed"} and "gate" in trace["error"][0]
    assert trace.select("step", "rows_in", "rows_out").rows() == [
        ("qc", 5, 4),
        ("big", 4, 3),
        ("vat", 3, 3),
        ("gate", 3, 3),
    ]
    text = "\n".join(trace_text(trace))
    assert "{id: 1, amount: 5, note: 'small'}" in text  # dropped before the failure
    out = _trace_cli(home, "r-failed").output
    assert "failed" in out and "check 'unique_note' failed" in out


def test_a_secret_in_a_value_is_masked_in_every_sample(
    tmp_path: Path, registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = "canary-5ecr3t-7781"
    monkeypatch.setenv("OCHT_TRACE_CANARY", canary)
    rows = [
        {"id": 1, "amount": 5, "note": canary},
        {"id": 2, "amount": None, "note": canary},
        {"id": 3, "amount": 70, "note": f"x {canary} y"},
    ]
    spec = _pipeline(
        rows, {"kind": "derive", "id": "tag", "columns": {"t": "'${env:OCHT_TRACE_CANARY}'"}}
    )
    home = tmp_path / "home"
    result = run_pipeline(spec, registry=registry, home=home)
    dead = (home / "runs" / result.run_id / "dead_letters.ndjson").read_text()
    assert canary in dead  # the record itself is data, written as it came

    shown = (
        _trace_cli(home, result.run_id, "--json").stdout + _trace_cli(home, result.run_id).output
    )
    assert canary not in shown
    rows_out = {
        r["step"]: r["samples"]
        for r in json.loads(_trace_cli(home, result.run_id, "--json").stdout)
    }
    assert rows_out["big"]["dropped"][0]["note"] == "***"
    assert rows_out["tag"]["changed"][0]["after"]["t"] == "***"
    assert "***" in rows_out["qc"]["dead_lettered"][0]["record"]
