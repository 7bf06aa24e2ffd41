"""Lineage from the command line: OpenLineage events from `ocht run`, `ocht lineage RUN_ID`."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"


def _ocht(*args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocht.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


def test_a_run_sends_start_and_complete_and_keeps_its_graph(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("out"))
    events = tmp_path / "lineage.ndjson"
    env = {"OCHT_LINEAGE_FILE": str(events), "OCHT_HOME": str(tmp_path / ".ocht")}
    done = _ocht("run", "examples/orders_clean.yaml", "--json", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    run_id = json.loads(done.stdout)["run_id"]
    sent = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["eventType"] for e in sent] == ["START", "COMPLETE"]
    assert sent[0]["job"]["name"] == "orders_clean"
    assert sent[0]["inputs"][0]["name"].endswith("examples/data/orders.csv")
    assert {f["name"] for f in sent[1]["outputs"][0]["facets"]["schema"]["fields"]} >= {"vat"}

    shown = _ocht("lineage", run_id[:12], cwd=tmp_path, env=env)
    assert shown.returncode == 0, shown.stderr
    assert "input  orders" in shown.stdout and "step   paid" in shown.stdout
    assert "(2,000 rows)" in shown.stdout and "out/orders_clean.parquet" in shown.stdout


def test_a_failed_run_sends_fail(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(
        "name: broken\n"
        "inputs: {i: {type: csv, path: in.csv, schema: {a: int64}}}\n"
        "outputs: {o: {type: parquet, path: o.parquet}}\n"
    )
    (tmp_path / "in.csv").write_text("a\n1\nx\n")
    events = tmp_path / "lineage.ndjson"
    done = _ocht("run", "p.yaml", cwd=tmp_path, env={"OCHT_LINEAGE_FILE": str(events)})
    assert done.returncode == 1
    sent = [json.loads(line) for line in events.read_text().splitlines()]
    assert [e["eventType"] for e in sent] == ["START", "FAIL"]
    assert "errorMessage" in sent[1]["run"]["facets"]
