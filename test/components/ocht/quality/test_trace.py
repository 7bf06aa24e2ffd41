import json

from click.testing import CliRunner

from ocht.cli.main import cli
from ocht.executor import read_trace
from ocht.testkit import run_pipeline


def test_every_run_writes_a_trace_that_ocht_trace_prints(tmp_path, registry, memory):
    home = tmp_path / "home"
    result = run_pipeline(
        {
            "name": "t",
            "inputs": {"i": {"type": "memory", "rows": [{"a": 1}, {"a": None}, {"a": 7}]}},
            "steps": [
                {
                    "kind": "check",
                    "id": "qc",
                    "checks": [{"type": "not_null", "column": "a", "action": "dead_letter"}],
                },
                {"kind": "filter", "where": "a > 2"},
            ],
            "outputs": {"o": {"type": "memory", "key": "o"}},
        },
        registry=registry,
        home=home,
    )
    trace = read_trace(home, result.run_id)
    assert trace.select("step", "rows_in", "rows_out", "dropped", "dead_lettered").rows() == [
        ("qc", 3, 2, 0, 1),
        ("filter_2", 2, 1, 1, 0),
    ]
    checks = json.loads(trace["checks"][0])
    assert checks[0]["check"] == "not_null_a" and checks[0]["failed"] == 1

    out = CliRunner().invoke(cli, ["trace", result.run_id, "--json"], env={"OCHT_HOME": str(home)})
    assert out.exit_code == 0, out.output
    assert [r["step"] for r in json.loads(out.output)] == ["qc", "filter_2"]
    table = CliRunner().invoke(cli, ["trace", result.run_id], env={"OCHT_HOME": str(home)})
    assert table.exit_code == 0 and "filter_2" in table.output and "not_null_a" in table.output
    missing = CliRunner().invoke(cli, ["trace", "nope"], env={"OCHT_HOME": str(home)})
    assert missing.exit_code == 2
