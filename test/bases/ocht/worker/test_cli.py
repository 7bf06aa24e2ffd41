"""The ocht-worker command without a broker: help, exports, invalid pipelines."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

from ocht.worker import cli


def test_help_lists_the_options() -> None:
    result = CliRunner().invoke(cli, ["run", "--help"])
    assert result.exit_code == 0
    for option in ("--profile", "--set", "--metrics-port", "--drain", "--lookup-refresh"):
        assert option in result.output


def test_batch_only_step_is_refused_with_a_hint(tmp_path: Path) -> None:
    doc = {
        "name": "w",
        "inputs": {
            "i": {"type": "kafka", "brokers": "127.0.0.1:1", "topic": "t", "schema": {"a": "int64"}}
        },
        "steps": [{"kind": "sort", "by": ["a"]}],
        "outputs": {"o": {"type": "kafka", "brokers": "127.0.0.1:1", "topic": "u"}},
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(doc))
    result = CliRunner().invoke(cli, ["run", str(path), "--home", str(tmp_path / "h")])
    assert result.exit_code == 2
    assert "error[batch-only-step]" in result.output
    assert "Traceback" not in result.output


def test_metrics_render_after_a_batch() -> None:
    from ocht.executor import BatchReport
    from ocht.worker import WorkerMetrics

    m = WorkerMetrics("p")
    m.observe(
        BatchReport(
            batch=1,
            records=10,
            steps={"f": (10, 4)},
            outputs={"o": 4},
            dead_letters=1,
            seconds=0.02,
            lag=5,
            state_bytes=100,
        )
    )
    text = m.render().decode()
    assert 'ocht_records_read_total{pipeline="p"} 10.0' in text
    assert 'ocht_step_rows_total{direction="out",pipeline="p",step="f"} 4.0' in text
    assert 'ocht_consumer_lag{pipeline="p"} 5.0' in text
    assert m.ready.is_set()


def test_check_metrics_count_what_each_batch_adds() -> None:
    from ocht.executor import BatchReport, CheckStats
    from ocht.worker import WorkerMetrics

    m = WorkerMetrics("p")
    for checked, failed in ((100, 3), (250, 5)):  # cumulative totals, as the executor reports
        m.observe(
            BatchReport(
                batch=1,
                records=0,
                checks=[
                    CheckStats("qc", "not_null_id", "not_null", "dead_letter", checked, failed)
                ],
            )
        )
    text = m.render().decode()
    labels = 'action="dead_letter",check="not_null_id",pipeline="p",step="qc"'
    assert f"ocht_check_rows_total{{{labels}}} 250.0" in text
    assert f"ocht_check_failures_total{{{labels}}} 5.0" in text
