"""``ocht validate --mode stream`` reports what the worker would refuse, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ocht.cli import cli


def test_validate_stream_lists_every_unmergeable_aggregate(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = {
        "name": "v",
        "inputs": {
            "orders": {
                "type": "kafka",
                "brokers": "127.0.0.1:9",
                "topic": "orders",
                "schema": {"country": "string", "amount": "float64", "ts": "datetime"},
            }
        },
        "steps": [
            {
                "kind": "aggregate",
                "by": ["country"],
                "aggs": {
                    "med": "median(amount)",
                    "d": "count(distinct amount)",
                    "ok": "sum(amount)",
                },
                "window": {"column": "ts", "every": "1h"},
            },
            {"kind": "sort", "by": ["country"]},
        ],
        "outputs": {"out": {"type": "kafka", "brokers": "127.0.0.1:9", "topic": "o"}},
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(cli, ["validate", "--mode", "stream", "p.yaml"])
    assert res.exit_code != 0
    text = res.output
    assert "steps[0].aggs.med" in text and "median" in text
    assert "steps[0].aggs.d" in text
    assert "steps[1]" in text and "batch-only-step" in text
    batch = CliRunner().invoke(cli, ["validate", "p.yaml"])
    assert "median" not in batch.output  # batch mode computes the median
