import json
import subprocess
import sys

import polars as pl
import pytest
from click.testing import CliRunner

from ocht.cli import cli

ORDERS = "order_id,amount,status\n1,5,paid\n2,50,paid\n3,70,refunded\n"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def project(workspace):
    workspace.write_text("data/orders.csv", ORDERS)
    workspace.write_pipeline(
        {
            "name": "cli_test",
            "inputs": {"orders": {"type": "csv", "path": "data/orders.csv"}},
            "steps": [{"kind": "filter", "where": "amount > ${min:-10}"}],
            "outputs": {"out": {"type": "parquet", "path": "out/o.parquet"}},
        }
    )
    return workspace


def test_run_writes_output_and_summary(runner, project, monkeypatch):
    monkeypatch.chdir(project.root)
    res = runner.invoke(cli, ["run", "pipeline.yaml"])
    assert res.exit_code == 0, res.output
    assert pl.read_parquet(project.path("out/o.parquet"))["order_id"].to_list() == [2, 3]
    assert "filter_1" in res.output and "succeeded" in res.output


def test_run_json_and_set(runner, project, monkeypatch):
    monkeypatch.chdir(project.root)
    res = runner.invoke(cli, ["run", "pipeline.yaml", "--set", "min=60", "--json"])
    assert res.exit_code == 0, res.output
    result = json.loads(res.output)
    assert result["outputs"][0]["rows"] == 1 and result["inputs"] == {"orders": 3}


def test_invalid_pipeline_exit_2_without_traceback(runner, project):
    bad = project.write_text(
        "bad.yaml",
        "name: x\ninputs:\n  i: {type: csv, path: a.csv}\n"
        "steps:\n  - kind: fliter\n    where: a\n"
        "outputs:\n  o: {type: console}\n",
    )
    res = runner.invoke(cli, ["validate", str(bad)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "unknown-step" in res.output or "source-unreachable" in res.output


def test_unknown_column_message(runner, project):
    path = project.write_pipeline(
        {
            "name": "c",
            "inputs": {"orders": {"type": "csv", "path": "data/orders.csv"}},
            "steps": [{"kind": "filter", "where": "amout > 1"}],
            "outputs": {"o": {"type": "console"}},
        },
        "col.yaml",
    )
    res = runner.invoke(cli, ["run", str(path)])
    assert res.exit_code == 2
    assert "unknown column 'amout'" in res.output and "did you mean 'amount'" in res.output
    assert "col.yaml:" in res.output


def test_missing_input_file_exit_code(runner, project):
    path = project.write_pipeline(
        {
            "name": "m",
            "inputs": {"orders": {"type": "csv", "path": "data/nope.csv"}},
            "outputs": {"o": {"type": "parquet", "path": "out/m.parquet"}},
        },
        "missing.yaml",
    )
    res = runner.invoke(cli, ["run", str(path)])
    assert res.exit_code in (1, 2)
    assert "source-unreachable" in res.output
    assert not project.path("out/m.parquet").exists()


def test_not_yaml(runner, project):
    path = project.write_text("broken.yaml", "name: [unclosed\n")
    res = runner.invoke(cli, ["run", str(path)])
    assert res.exit_code == 2 and "invalid-yaml" in res.output


def test_dry_run_and_explain(runner, project, monkeypatch):
    monkeypatch.chdir(project.root)
    res = runner.invoke(cli, ["run", "pipeline.yaml", "--dry-run"])
    assert res.exit_code == 0 and not project.path("out/o.parquet").exists()
    res = runner.invoke(cli, ["run", "pipeline.yaml", "--explain"])
    assert res.exit_code == 0 and "FILTER" in res.output.upper()


def test_list_and_schema(runner):
    res = runner.invoke(cli, ["list", "steps"])
    assert res.exit_code == 0 and "aggregate" in res.output
    res = runner.invoke(cli, ["list", "connectors"])
    assert res.exit_code == 0 and "kafka" in res.output
    res = runner.invoke(cli, ["schema"])
    assert json.loads(res.output)["title"] == "Ocht pipeline"


def test_help_does_not_import_polars():
    code = (
        "import sys; from ocht.cli.main import cli\n"
        "try:\n    cli(['--help'], prog_name='ocht')\nexcept SystemExit:\n    pass\n"
        "assert 'polars' not in sys.modules, 'polars imported'\n"
        "assert 'pydantic' not in sys.modules, 'pydantic imported'\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


def test_runs_are_recorded_and_listed(runner, project, monkeypatch):
    monkeypatch.chdir(project.root)
    assert runner.invoke(cli, ["run", "pipeline.yaml", "-q"]).exit_code == 0
    bad = project.write_text(
        "bad_data.yaml",
        "name: cli_test\ninputs:\n"
        "  orders: {type: csv, path: data/orders.csv}\nsteps:\n"
        "  - kind: cast\n    columns: {status: int64}\n"
        "outputs:\n  out: {type: parquet, path: out/b.parquet}\n",
    )
    assert runner.invoke(cli, ["run", str(bad), "-q"]).exit_code == 1
    res = runner.invoke(cli, ["runs", "--json"])
    records = json.loads(res.output)
    assert [r["status"] for r in records] == ["failed", "succeeded"]
    assert records[0]["error_code"] == "cast-failed"
    res = runner.invoke(cli, ["runs", "--status", "failed"])
    assert res.exit_code == 0 and "failed" in res.output
    res = runner.invoke(cli, ["runs", "show", records[1]["run_id"]])
    assert res.exit_code == 0 and "filter_1" in res.output, res.output
    res = runner.invoke(cli, ["runs", "show", records[1]["run_id"][:-1], "--json"])
    assert json.loads(res.output)["run_id"] == records[1]["run_id"]  # a unique prefix will do
    res = runner.invoke(cli, ["runs", "show", "nope-not-a-run"])
    assert res.exit_code == 1 and "run-not-found" in res.output
    res = runner.invoke(cli, ["run", "pipeline.yaml", "-q", "--no-store"])
    assert res.exit_code == 0
    assert len(json.loads(runner.invoke(cli, ["runs", "--json"]).output)) == 2


def test_state_show_and_reset(runner, project, monkeypatch):
    monkeypatch.chdir(project.root)
    res = runner.invoke(cli, ["state", "show", "cli_test"])
    assert res.exit_code == 0 and "no state" in res.output
    res = runner.invoke(cli, ["state", "reset", "cli_test", "--yes"])
    assert res.exit_code == 0 and "removed 0" in res.output


def test_a_preparation_failure_is_listed_as_a_failed_run(runner, project, monkeypatch):
    monkeypatch.chdir(project.root)
    project.write_pipeline(
        {
            "name": "prep",
            "inputs": {"orders": {"type": "csv", "path": "data/nope.csv"}},
            "outputs": {"o": {"type": "parquet", "path": "out/p.parquet"}},
        },
        "prep.yaml",
    )
    res = runner.invoke(cli, ["run", "prep.yaml", "-q"])
    assert res.exit_code == 1 and "source-unreachable" in res.output
    records = json.loads(runner.invoke(cli, ["runs", "--json"]).output)
    assert [(r["pipeline"], r["status"], r["error_code"]) for r in records] == [
        ("prep", "failed", "source-unreachable")
    ]
    res = runner.invoke(cli, ["runs", "--status", "cancelled"])
    assert res.exit_code == 0  # a status the store knows


def test_two_outputs_on_one_file_are_refused_by_validate(runner, project):
    path = project.write_pipeline(
        {
            "name": "dup",
            "inputs": {"orders": {"type": "csv", "path": "data/orders.csv"}},
            "outputs": {
                "a": {"type": "csv", "path": "out/x.csv"},
                "b": {"type": "csv", "path": "out/x.csv"},
            },
        },
        "dup.yaml",
    )
    res = runner.invoke(cli, ["validate", str(path)])
    assert res.exit_code == 2 and "duplicate-output-target" in res.output
