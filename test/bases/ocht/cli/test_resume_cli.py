"""``ocht run --resume``: a failed or killed multi-file run continues where it stopped."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import yaml
from click.testing import CliRunner

from ocht.cli import cli
from ocht.store import Store


def project(root, *, files, mode="append", bad=None):
    (root / "in").mkdir()
    for i in range(files):
        body = f"id,v\n{2 * i},a{i}\n{2 * i + 1},b{i}\n"
        if i == bad:
            body += "99,x,too,many\n"
        (root / "in" / f"part{i:04d}.csv").write_text(body)
    out = {"type": "sql", "url": f"sqlite:///{root / 'out.db'}", "table": "items", "mode": mode}
    if mode == "upsert":
        out["primary_key"] = ["id"]
    doc = {
        "name": "parts",
        "inputs": {"parts": {"type": "csv", "path": "in/*.csv"}},
        "outputs": {"out": out},
    }
    (root / "pipeline.yaml").write_text(yaml.safe_dump(doc))


def ids(db):
    con = sqlite3.connect(db)
    try:
        return [r[0] for r in con.execute("SELECT id FROM items ORDER BY id")]
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def test_resume_after_a_bad_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OCHT_STORE_URL", raising=False)
    project(tmp_path, files=3, bad=1)
    runner = CliRunner()

    res = runner.invoke(cli, ["run", "pipeline.yaml", "--resume", "-q"])
    assert res.exit_code != 0
    assert ids(tmp_path / "out.db") == [0, 1]

    project_file = tmp_path / "in" / "part0001.csv"
    project_file.write_text("id,v\n2,a1\n3,b1\n")
    res = runner.invoke(cli, ["run", "pipeline.yaml", "--resume", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["inputs"] == {"parts": 4}
    assert ids(tmp_path / "out.db") == [0, 1, 2, 3, 4, 5]
    with Store(base_dir=tmp_path) as store:
        assert [r.status for r in store.runs(pipeline="parts")] == ["succeeded", "partial"]
        assert store.load_checkpoint("parts", "input:parts") is None


def test_resume_refuses_a_file_output_with_its_code(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project(tmp_path, files=2)
    doc = yaml.safe_load((tmp_path / "pipeline.yaml").read_text())
    doc["outputs"]["out"] = {"type": "parquet", "path": "out.parquet"}
    (tmp_path / "pipeline.yaml").write_text(yaml.safe_dump(doc))
    res = CliRunner().invoke(cli, ["--debug", "run", "pipeline.yaml", "--resume"])
    assert res.exit_code != 0
    assert "resume-unsupported" in res.output
    assert not (tmp_path / "out.parquet").exists()


def test_resume_with_no_store_is_a_usage_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    project(tmp_path, files=2)
    res = CliRunner().invoke(cli, ["run", "pipeline.yaml", "--resume", "--no-store"])
    assert res.exit_code == 2 and "--no-store" in res.output


def _done(store_db):
    if not store_db.exists():
        return 0
    con = sqlite3.connect(store_db)
    try:
        row = con.execute(
            "SELECT position FROM ocht_checkpoints WHERE pipeline = 'parts'"
        ).fetchone()
    except sqlite3.OperationalError:
        return 0
    finally:
        con.close()
    return len(json.loads(row[0])["done"]) if row else 0


@pytest.mark.timeout(60)
def test_sigkill_mid_run_then_resume_writes_every_row_once(tmp_path):
    files = 150
    project(tmp_path, files=files, mode="upsert")
    env = {k: v for k, v in os.environ.items() if k != "OCHT_STORE_URL"}
    argv = [sys.executable, "-c", "from ocht.cli import cli; cli()", "run", "pipeline.yaml"]
    proc = subprocess.Popen(
        [*argv, "--resume", "-q"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while _done(tmp_path / ".ocht" / "ocht.db") < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL
    written = ids(tmp_path / "out.db")
    assert 6 <= len(written) < 2 * files  # killed part-way, earlier files committed

    done = subprocess.run([*argv, "--resume", "--json"], cwd=tmp_path, env=env, capture_output=True)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["inputs"]["parts"] < 2 * files  # the committed files were not read again
    assert ids(tmp_path / "out.db") == list(range(2 * files))
    with Store(base_dir=tmp_path) as store:
        statuses = [r.status for r in store.runs(pipeline="parts")]
        assert statuses == ["succeeded", "abandoned"]


def test_a_run_without_resume_starts_from_scratch(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OCHT_STORE_URL", raising=False)
    project(tmp_path, files=2)
    with Store(base_dir=tmp_path) as store:
        store.save_checkpoint("parts", "input:parts", {"done": ["in/part0000.csv"]})
    res = CliRunner().invoke(cli, ["run", "pipeline.yaml", "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["inputs"] == {"parts": 4}
    assert ids(tmp_path / "out.db") == [0, 1, 2, 3]
    with Store(base_dir=tmp_path) as store:
        assert store.load_checkpoint("parts", "input:parts") is None
