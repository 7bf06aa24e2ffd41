"""`ocht run` with checks: the summary table, the accounting line, a failing check."""

import json

from click.testing import CliRunner

from ocht.cli.main import cli

PIPELINE = """
name: q
inputs:
  orders: {{type: csv, path: orders.csv}}
steps:
  - kind: check
    id: qc
    checks:
      - {{type: range, column: amount, min: 0, action: {action}}}
outputs:
  out: {{type: csv, path: out/orders.csv}}
"""


def write(workspace, action):
    workspace.write_text("orders.csv", "id,amount\n1,10\n2,-5\n3,7\n")
    return workspace.write_text("p.yaml", PIPELINE.format(action=action))


def test_summary_shows_checks_and_the_accounting_line(workspace, monkeypatch):
    monkeypatch.chdir(workspace.root)
    write(workspace, "dead_letter")
    result = CliRunner().invoke(cli, ["run", "--no-store", "p.yaml"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "range_amount" in result.output and "dead_letter" in result.output
    assert "read 3 = written 2 + dead letters 1 + dropped by steps 0" in result.output
    as_json = CliRunner().invoke(cli, ["run", "--no-store", "--json", "p.yaml"])
    checks = json.loads(as_json.stdout)["checks"]
    assert checks[0]["check"] == "range_amount" and checks[0]["failed"] == 1


def test_a_failing_check_exits_1_names_the_check_and_writes_nothing(workspace, monkeypatch):
    monkeypatch.chdir(workspace.root)
    write(workspace, "fail")
    result = CliRunner().invoke(cli, ["run", "--no-store", "p.yaml"])
    assert result.exit_code == 1
    assert "error[check-failed]" in result.output and "range_amount" in result.output
    assert "-5" in result.output and "Traceback" not in result.output
    assert not (workspace.root / "out" / "orders.csv").exists()
