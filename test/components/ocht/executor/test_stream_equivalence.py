"""The defining property of stream mode: for the same records, a batch run (a file) and a
stream run (a topic, drained to its end) give the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ocht import testkit
from ocht.testkit import ORDERS_SCHEMA, assert_same_rows, orders, stream_pipeline

pytestmark = pytest.mark.kafka

SCHEMA = ORDERS_SCHEMA


def both_ways(
    kafka_broker: str,
    tmp_path: Path,
    steps: list[dict[str, Any]],
    data: pl.DataFrame,
    **kw: Any,
) -> tuple[pl.DataFrame, pl.DataFrame, Any]:
    """(batch rows, stream rows as drained from the output topic, stream result)."""
    ran = testkit.both_ways(kafka_broker, tmp_path, steps, data, **kw)
    assert ran.batch_result.ok
    assert ran.stream_result.stop_reason == "drained"
    return ran.batch, ran.stream, ran.stream_result


def last_per_key(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """An upsert stream read as a table: the last row per key."""
    return frame.unique(keys, keep="last", maintain_order=True)


def test_tumbling_window_aggregate(kafka_broker: str, tmp_path: Path) -> None:
    steps = [
        {
            "kind": "aggregate",
            "by": ["country"],
            "aggs": {
                "total": "sum(amount)",
                "n": "count(*)",
                "mean": "avg(amount)",
                "top": "max(amount)",
                "low": "min(amount)",
            },
            "window": {"column": "ts", "every": "2h"},
        }
    ]
    expected, got, result = both_ways(kafka_broker, tmp_path, steps, orders(2000))
    assert expected.height > 100
    assert_same_rows(expected, got)
    assert result.batches >= 5  # really micro-batched
    assert result.dead_letters == 0


def test_hopping_window_with_lateness(kafka_broker: str, tmp_path: Path) -> None:
    steps = [
        {
            "kind": "aggregate",
            "by": ["status"],
            "aggs": {"total": "sum(amount)"},
            "window": {"column": "ts", "every": "1h", "period": "3h", "allowed_lateness": "30m"},
        }
    ]
    expected, got, _ = both_ways(kafka_broker, tmp_path, steps, orders(1500))
    assert_same_rows(expected, got)


def test_running_aggregate_upserts(kafka_broker: str, tmp_path: Path) -> None:
    steps = [
        {
            "kind": "aggregate",
            "by": ["customer_id"],
            "aggs": {"spent": "sum(amount)", "orders": "count(order_id)"},
        }
    ]
    expected, got, _ = both_ways(kafka_broker, tmp_path, steps, orders(2000))
    assert got.height > expected.height  # upserts: a key is emitted again as it changes
    assert_same_rows(expected, last_per_key(got, ["customer_id"]))


def test_dedupe_first(kafka_broker: str, tmp_path: Path) -> None:
    steps = [{"kind": "dedupe", "keys": ["customer_id"], "ttl": "1d"}]
    expected, got, _ = both_ways(kafka_broker, tmp_path, steps, orders(2000))
    assert expected.height < 2000
    assert_same_rows(expected, got)


def test_mixed_pipeline(kafka_broker: str, tmp_path: Path) -> None:
    steps = [
        {"kind": "filter", "where": "status <> 'pending'"},
        {"kind": "derive", "columns": {"net": "amount * 0.8"}},
        {"kind": "dedupe", "keys": ["order_id"]},
        {
            "kind": "aggregate",
            "by": ["country", "status"],
            "aggs": {"net": "sum(net)", "n": "count(*)"},
            "window": {"column": "ts", "every": "1d"},
        },
        {"kind": "derive", "columns": {"avg_net": "net / n"}},
    ]
    data = pl.concat([orders(1500), orders(1500).head(200)])  # duplicates to remove
    expected, got, _ = both_ways(kafka_broker, tmp_path, steps, data, partitions=1)
    assert_same_rows(expected, got)


def test_unmergeable_aggregate_is_refused_for_streams(kafka_broker: str, tmp_path: Path) -> None:
    from ocht.errors import InvalidPipeline

    doc = {
        "name": "bad",
        "inputs": {"i": {"type": "kafka", "brokers": kafka_broker, "topic": "x", "schema": SCHEMA}},
        "steps": [{"kind": "aggregate", "by": ["country"], "aggs": {"m": "median(amount)"}}],
        "outputs": {"o": {"type": "kafka", "brokers": kafka_broker, "topic": "y"}},
    }
    with pytest.raises(InvalidPipeline) as err:
        stream_pipeline(doc, home=tmp_path)
    assert err.value.code == "not-streamable"
    assert "median" in err.value.message
    assert err.value.issues[0].path == "steps[0].aggs.m"
    assert "sum(x) / count(x)" in (err.value.issues[0].hint or "")
