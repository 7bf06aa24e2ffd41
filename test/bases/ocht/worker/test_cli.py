"""The ocht-worker command without a broker: help, exports, invalid pipelines."""

from __future__ import annotations

from pathlib import Path

import yaml
from click.testing import CliRunner

import ocht.worker
from ocht.worker import cli


def test_public_names_are_pinned() -> None:
    assert sorted(ocht.worker.__all__) == ["WorkerMetrics", "cli", "main", "serve"]


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
