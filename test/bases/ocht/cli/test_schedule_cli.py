"""``ocht schedule``, ``ocht scheduler``, ``ocht backfill``, ``ocht runs --backfill`` and cancel."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from ocht.cli import cli


@pytest.fixture
def project(workspace, monkeypatch):
    monkeypatch.chdir(workspace.root)
    monkeypatch.delenv("OCHT_STORE_URL", raising=False)
    for day in ("2024-02-28", "2024-02-29", "2024-03-01"):
        workspace.write_text(f"lake/{day}.csv", f"id,amount\n1,{day[-2:]}\n")
    workspace.write_pipeline(
        {
            "name": "cli_daily",
            "inputs": {"i": {"type": "csv", "path": "lake/${period.start}.csv"}},
            "steps": [{"kind": "derive", "columns": {"day": "'${period.key}'"}}],
            "outputs": {"o": {"type": "csv", "path": "out/${period.key}.csv"}},
        }
    )
    return workspace


def test_schedule_add_list_pause_resume_remove(project) -> None:
    runner = CliRunner()
    res = runner.invoke(
        cli,
        ["schedule", "add", "nightly", "pipeline.yaml", "--cron", "0 2 * * *", "--tz", "Europe/Paris",
         "--overlap", "buffer-one", "--max-attempts", "3", "--backoff", "1m"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "cron 0 2 * * * (Europe/Paris)" in res.output and res.output.count("next") == 3
    listed = json.loads(runner.invoke(cli, ["schedule", "list", "--json", "--next", "2"]).output)
    assert [s["name"] for s in listed] == ["nightly"]
    assert listed[0]["spec"]["overlap"] == "buffer-one" and len(listed[0]["next_fires"]) == 2
    assert listed[0]["spec"]["retry"] == {"max_attempts": 3, "backoff_s": 60.0}
    assert runner.invoke(cli, ["schedule", "pause", "nightly"]).exit_code == 0
    table = runner.invoke(cli, ["schedule", "list"]).output
    assert "paused" in table
    assert runner.invoke(cli, ["schedule", "resume", "nightly"]).exit_code == 0
    assert "active" in runner.invoke(cli, ["schedule", "list"]).output
    assert runner.invoke(cli, ["schedule", "remove", "nightly"]).exit_code == 0
    gone = runner.invoke(cli, ["schedule", "remove", "nightly"])
    assert gone.exit_code == 2 and "schedule-not-found" in gone.output


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--cron", "every day"], "invalid-schedule"),
        (["--every", "soon"], "invalid-schedule"),
        ([], "invalid-schedule"),
        (["--cron", "0 2 * * *", "--tz", "Nowhere/Land"], "invalid-schedule"),
        (["--cron", "0 2 * * *", "--calendar", "lunar"], "invalid-schedule"),
    ],
)
def test_bad_schedules_are_refused_with_a_code(project, args, code) -> None:
    res = CliRunner().invoke(cli, ["schedule", "add", "bad", "pipeline.yaml", *args])
    assert res.exit_code == 2, res.output
    assert f"error[{code}]" in res.output and "Traceback" not in res.output


def test_scheduler_once_queues_nothing_before_the_first_fire(project) -> None:
    runner = CliRunner()
    runner.invoke(cli, ["schedule", "add", "s", "pipeline.yaml", "--every", "1h"])
    res = runner.invoke(cli, ["scheduler", "--once"])
    assert res.exit_code == 0, res.output
    assert json.loads(runner.invoke(cli, ["runs", "--schedule", "s", "--json"]).output) == []


def test_backfill_dry_run_lists_the_runs_and_queues_nothing(project) -> None:
    res = CliRunner().invoke(
        cli,
        ["backfill", "pipeline.yaml", "--from", "2024-02-28", "--to", "2024-03-01", "--dry-run"],
    )
    assert res.exit_code == 0, res.output
    assert [line.split()[:2] for line in res.output.splitlines() if line.startswith("  ")] == [
        ["run", "2024-02-28"],
        ["run", "2024-02-29"],
        ["run", "2024-03-01"],
    ]
    assert "nothing was queued" in res.output
    assert not project.path("out").exists()


def test_backfill_runs_every_period_and_ocht_runs_shows_them(project) -> None:
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "backfill",
            "pipeline.yaml",
            "--from",
            "2024-02-28",
            "--to",
            "2024-03-01",
            "-c",
            "2",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    progress = json.loads(res.output[res.output.index("{") :])
    assert progress["counts"] == {"succeeded": 3}
    assert sorted(p.name for p in project.path("out").iterdir()) == [
        "2024-02-28.csv",
        "2024-02-29.csv",
        "2024-03-01.csv",
    ]
    backfill_id = progress["backfill"]["id"]
    shown = runner.invoke(cli, ["runs", "--backfill", backfill_id[:6]])
    assert shown.exit_code == 0, shown.output
    assert "2024-02-29" in shown.output and "3 succeeded" in shown.output
    runs = json.loads(runner.invoke(cli, ["runs", "--json"]).output)
    assert len(runs) == 3 and {r["status"] for r in runs} == {"succeeded"}
    leap = next(p for p in progress["periods"] if p["period"] == "2024-02-29")
    shown = runner.invoke(cli, ["runs", "show", leap["run_id"]])
    assert (
        f"backfill {backfill_id}, period 2024-02-29" in shown.output and "attempt 1" in shown.output
    )
    origin = json.loads(runner.invoke(cli, ["runs", "show", leap["run_id"], "--json"]).output)[
        "origin"
    ]
    assert (origin["backfill"], origin["period_key"], origin["attempt"]) == (
        backfill_id,
        "2024-02-29",
        1,
    )
    assert origin["worker"] == leap["worker"]
    again = runner.invoke(
        cli, ["backfill", "pipeline.yaml", "--from", "2024-02-28", "--to", "2024-03-01"]
    )
    assert again.exit_code == 0 and "nothing to do" in again.output


def test_backfill_with_a_missing_period_is_refused_before_anything_runs(project) -> None:
    res = CliRunner().invoke(
        cli, ["backfill", "pipeline.yaml", "--from", "2024-02-27", "--to", "2024-02-29"]
    )
    assert res.exit_code == 2, res.output
    assert "error[missing-location]" in res.output and "2024-02-27" in res.output
    assert not project.path("out").exists()


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--from", "2024-03-01", "--to", "2024-02-01"], "invalid-period"),
        (["--from", "yesterday", "--to", "2024-02-01"], "invalid-period"),
        (
            ["--from", "2024-02-28", "--to", "2024-03-01", "--calendar", "fiscal-year:13"],
            "invalid-period",
        ),
    ],
)
def test_bad_backfills_are_refused_with_a_code(project, args, code) -> None:
    res = CliRunner().invoke(cli, ["backfill", "pipeline.yaml", *args])
    assert res.exit_code == 2, res.output
    assert f"error[{code}]" in res.output


def test_cancel_a_queued_run_from_the_cli(project) -> None:
    runner = CliRunner()
    res = runner.invoke(
        cli,
        [
            "backfill",
            "pipeline.yaml",
            "--from",
            "2024-02-28",
            "--to",
            "2024-02-28",
            "--no-wait",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    progress = json.loads(res.output[res.output.index("{") :])
    assert [p["status"] for p in progress["periods"]] == ["queued"]
    listed = runner.invoke(cli, ["runs", "--backfill", progress["backfill"]["id"], "--json"])
    [job] = json.loads(listed.output)
    out = runner.invoke(cli, ["runs", "cancel", job["id"]])
    assert out.exit_code == 0 and "cancelled" in out.output
    [after] = json.loads(
        runner.invoke(cli, ["runs", "--backfill", progress["backfill"]["id"], "--json"]).output
    )
    assert after["status"] == "cancelled" and after["attempt"] == 0
    missing = runner.invoke(cli, ["runs", "cancel", "no-such-job"])
    assert missing.exit_code == 2 and "job-not-found" in missing.output


def test_ocht_help_does_not_import_the_queue() -> None:
    code = (
        "import sys; from ocht.cli.main import cli\n"
        "try:\n    cli(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('procrastinate', 'croniter')"
        " or m.startswith('ocht.scheduler')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
