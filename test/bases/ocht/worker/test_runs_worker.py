"""``ocht-worker runs`` on the embedded store: a local pool that empties the queue."""

from __future__ import annotations

import os
import subprocess
import sys

import yaml

from ocht.scheduler import LocalQueue, enqueue
from ocht.store import SchedulingStore, Store


def test_worker_runs_until_idle_on_sqlite(workspace, tmp_path) -> None:
    workspace.write_text("lake/a.csv", "id\n1\n2\n")
    doc = {
        "name": "w_runs",
        "inputs": {"i": {"type": "csv", "path": "lake/a.csv"}},
        "outputs": {"o": {"type": "csv", "path": "out/${tag}.csv"}},
    }
    source = workspace.write_text("w.yaml", yaml.safe_dump(doc))
    url = f"sqlite:///{tmp_path / 'ocht.db'}"
    with Store(url) as store:
        for tag in ("a", "b", "c"):
            enqueue(store, LocalQueue(), id=f"w-{tag}", pipeline="w_runs", source=str(source),
                    request={"variables": {"tag": tag}})  # fmt: skip
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from ocht.worker.main import main; main()",
            "runs",
            "--until-idle",
            "-c",
            "2",
        ],
        env={**os.environ, "OCHT_STORE_URL": url, "OCHT_LOG_FORMAT": "json"},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "ran 3 run(s)" in out.stderr
    with Store(url) as store:
        jobs = SchedulingStore(store).jobs(pipeline="w_runs")
    assert {j.status for j in jobs} == {"succeeded"}
    assert sorted(p.name for p in workspace.path("out").iterdir()) == ["a.csv", "b.csv", "c.csv"]


def test_worker_runs_help_lists_its_limits() -> None:
    out = subprocess.run(
        [sys.executable, "-c", "from ocht.worker.main import main; main()", "runs", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--concurrency", "--queue", "--stalled-after", "--until-idle"):
        assert option in out.stdout
