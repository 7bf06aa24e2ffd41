"""The project home: state found from any working directory; the loader's exit codes."""

import sqlite3
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ocht.cli import cli
from ocht.config import project_home

CORPUS = Path(__file__).parents[3] / "corpus" / "pipelines"


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.delenv("OCHT_HOME", raising=False)
    monkeypatch.delenv("OCHT_STORE_URL", raising=False)
    root = tmp_path / "proj"
    (root / "pipelines").mkdir(parents=True)
    db = root / "shop.db"
    with sqlite3.connect(db) as con:
        con.execute("create table orders (id integer primary key, ts integer, amount integer)")
        con.executemany("insert into orders values (?, ?, ?)", [(1, 1, 10), (2, 2, 20)])
    (root / "pipelines" / "inc.yaml").write_text(
        f"""\
name: inc
inputs:
  orders: {{type: sql, url: "sqlite:///{db}", table: orders, cursor: ts}}
outputs:
  out: {{type: csv, path: out.csv}}
"""
    )
    return root


def _run(runner, pipeline, cwd, monkeypatch, *args):
    monkeypatch.chdir(cwd)
    return runner.invoke(cli, ["run", str(pipeline), *args])


def test_init_then_state_found_from_any_folder(runner, project, tmp_path, monkeypatch):
    monkeypatch.chdir(project)
    res = runner.invoke(cli, ["init"])
    assert res.exit_code == 0, res.output
    assert (project / "ocht.toml").is_file()
    pipeline = project / "pipelines" / "inc.yaml"

    first = _run(runner, pipeline, project, monkeypatch)
    assert first.exit_code == 0, first.output
    assert "no incremental state for orders" in first.output
    assert (project / ".ocht" / "ocht.db").is_file()
    assert not (project / "pipelines" / ".ocht").exists()

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    second = _run(runner, pipeline, elsewhere, monkeypatch)
    assert second.exit_code == 0, second.output
    assert "no incremental state" not in second.output  # the first run's cursor was found
    assert not (elsewhere / ".ocht").exists()

    res = runner.invoke(cli, ["init", str(project)])
    assert res.exit_code == 2 and "already an Ocht project" in res.output


def test_without_ocht_toml_the_home_is_next_to_the_pipeline(runner, project, tmp_path, monkeypatch):
    pipeline = project / "pipelines" / "inc.yaml"
    res = _run(runner, pipeline, tmp_path, monkeypatch)
    assert res.exit_code == 0, res.output
    assert (project / "pipelines" / ".ocht" / "ocht.db").is_file()
    assert project_home(pipeline) == project / "pipelines" / ".ocht"


def test_ocht_home_overrides(runner, project, tmp_path, monkeypatch):
    home = tmp_path / "custom"
    monkeypatch.setenv("OCHT_HOME", str(home))
    res = _run(runner, project / "pipelines" / "inc.yaml", tmp_path, monkeypatch)
    assert res.exit_code == 0, res.output
    assert (home / "ocht.db").is_file()
    assert not (project / "pipelines" / ".ocht").exists()


def test_full_refresh_says_nothing_about_state(runner, project, tmp_path, monkeypatch):
    res = _run(runner, project / "pipelines" / "inc.yaml", tmp_path, monkeypatch, "--full-refresh")
    assert res.exit_code == 0, res.output
    assert "no incremental state" not in res.output


EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_corpus_document_exits_2_with_its_code(runner, name):
    res = runner.invoke(cli, ["validate", str(CORPUS / name)])
    assert res.exit_code == 2, res.output
    code = EXPECTED[name]
    # the code heads the answer, or is one of its problems (listed with the others)
    assert f"error[{code}]" in res.output or f"  {code}  " in res.output, res.output
    assert "Traceback" not in res.output and "internal" not in res.output


def test_missing_directory_and_fifo_pipelines_exit_2(runner, tmp_path):
    fifo = tmp_path / "fifo.yaml"
    import os

    os.mkfifo(fifo)
    for target, code in (
        (tmp_path / "nope.yaml", "pipeline-not-found"),
        (tmp_path, "pipeline-unreadable"),
        (fifo, "pipeline-unreadable"),
    ):
        for command in ("run", "validate"):
            res = runner.invoke(cli, [command, str(target)])
            assert res.exit_code == 2, (command, target, res.output)
            assert f"error[{code}]" in res.output


def test_unused_set_names_are_warned_about(runner, project, tmp_path):
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "name: p\nvars: {min: 1}\ninputs:\n  i: {type: csv, path: a.csv}\n"
        "steps:\n  - {kind: filter, where: 'amount > ${min}'}\noutputs:\n  o: {type: console}\n"
    )
    (tmp_path / "a.csv").write_text("amount\n1\n2\n")
    res = runner.invoke(cli, ["validate", str(pipeline), "--set", "mni=5", "--set", "min=0"])
    assert res.exit_code == 0, res.output
    assert "warning[unused-variable]" in res.output and "mni" in res.output
    assert "did you mean 'min'?" in res.output
    assert "--set min=" not in res.output


def _csv_project(tmp_path):
    (tmp_path / "a.csv").write_text("id,amount\n1,5\n2,50\n")
    pipeline = tmp_path / "a_pipeline_with_a_rather_long_name.yaml"
    pipeline.write_text(
        "name: a_pipeline_with_a_rather_long_name_to_push_the_table_wide\n"
        "inputs:\n  i: {type: csv, path: a.csv}\n"
        "steps:\n  - {kind: filter, where: amount > 10, id: keep_the_big_orders_only_please}\n"
        "outputs:\n  o: {type: csv, path: out/a_rather_long_output_file_name_too.csv}\n"
    )
    return pipeline


def test_piped_run_logs_its_lifecycle_as_json_lines(runner, tmp_path, monkeypatch):
    import json

    monkeypatch.delenv("OCHT_HOME", raising=False)
    monkeypatch.delenv("OCHT_LOG_LEVEL", raising=False)
    pipeline = _csv_project(tmp_path)
    res = runner.invoke(cli, ["run", str(pipeline), "--quiet"])
    assert res.exit_code == 0, res.output
    events = [json.loads(line) for line in res.stderr.splitlines() if line.startswith("{")]
    names = [e["event"] for e in events]
    assert names[0] == "run started" and names[-1] == "run succeeded"
    assert "output written" in names
    assert all("timestamp" in e and "level" in e for e in events)


def test_piped_tables_keep_run_ids_whole(runner, tmp_path, monkeypatch):
    monkeypatch.delenv("OCHT_HOME", raising=False)
    pipeline = _csv_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["run", str(pipeline), "--json"])
    assert res.exit_code == 0, res.output
    import json

    run_id = json.loads(res.stdout)["run_id"]
    listing = runner.invoke(cli, ["runs"])
    assert listing.exit_code == 0, listing.output
    assert run_id in listing.stdout
    assert "a_pipeline_with_a_rather_long_name_to_push_the_table_wide" in listing.stdout
    assert "…" not in listing.stdout

    summary = runner.invoke(cli, ["run", str(pipeline)])
    assert "out/a_rather_long_output_file_name_too.csv" in summary.stdout
    assert "keep_the_big_orders_only_please" in summary.stdout


def test_trace_takes_a_unique_prefix(runner, tmp_path, monkeypatch):
    import json

    monkeypatch.delenv("OCHT_HOME", raising=False)
    pipeline = _csv_project(tmp_path)
    monkeypatch.chdir(tmp_path)
    first = json.loads(runner.invoke(cli, ["run", str(pipeline), "--json"]).stdout)["run_id"]
    second = json.loads(runner.invoke(cli, ["run", str(pipeline), "--json"]).stdout)["run_id"]
    common = next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)
    res = runner.invoke(cli, ["trace", second[: common + 1], "--json"])
    assert res.exit_code == 0, res.output
    assert {row["step"] for row in json.loads(res.stdout)} == {"keep_the_big_orders_only_please"}
    if common > 0:
        ambiguous = runner.invoke(cli, ["trace", first[:common]])
        assert ambiguous.exit_code == 2 and "matches 2 runs" in ambiguous.output
