"""The check step through a real broker: a drained stream gives the rows, the dead
letters and the per-check counts a batch run gives (unique aside: per micro-batch)."""

from __future__ import annotations

import polars as pl
import pytest

from ocht.executor import execute, execute_stream
from ocht.registry import Registry
from ocht.testkit import MEMORY, ORDERS_SCHEMA, assert_same_rows, orders, recorded, reset_memory
from ocht.testkit.broker import FAST_GROUP, create_topic, drain, produce_frame, unique_topic

pytestmark = pytest.mark.kafka

SCHEMA = ORDERS_SCHEMA
FAST = FAST_GROUP
CHECKS = [
    {"type": "not_null", "column": "customer_id", "action": "dead_letter"},
    {"type": "range", "column": "amount", "min": 0, "max": 400, "action": "fix"},
    {
        "type": "accepted_values",
        "column": "country",
        "values": ["DE", "FR", "NL"],
        "action": "warn",
    },
]


def test_checks_give_the_same_rows_and_counts_in_batch_and_stream(kafka_broker, tmp_path):
    data = orders(900).with_columns(
        pl.when(pl.col("order_id") % 40 == 0)
        .then(None)
        .otherwise(pl.col("customer_id"))
        .alias("customer_id"),
        pl.when(pl.col("order_id") % 25 == 0)
        .then(-pl.col("amount"))
        .otherwise(pl.col("amount"))
        .alias("amount"),
    )
    src = tmp_path / "orders.ndjson"
    data.write_ndjson(src)
    steps = [{"kind": "check", "id": "qc", "checks": CHECKS}]
    reset_memory()
    batch = execute(
        {
            "name": "qs",
            "inputs": {"orders": {"type": "ndjson", "path": str(src), "schema": SCHEMA}},
            "steps": steps,
            "outputs": {"out": {"type": "memory", "key": "qs"}},
        },
        registry=Registry(connectors=[MEMORY]),
        home=tmp_path / "h",
    )
    expected = recorded("qs")

    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce_frame(kafka_broker, topic_in, data)
    stream = execute_stream(
        {
            "name": "qs",
            "inputs": {
                "orders": {
                    "type": "kafka",
                    "brokers": kafka_broker,
                    "topic": topic_in,
                    "group": unique_topic("g"),
                    "schema": SCHEMA,
                    "max_rows": 200,
                    "max_wait_ms": 200,
                    "options": FAST,
                }
            },
            "steps": steps,
            "outputs": {"out": {"type": "kafka", "brokers": kafka_broker, "topic": topic_out}},
        },
        home=tmp_path / "h",
        idle_stop_s=0.5,
    )
    assert stream.stop_reason == "drained" and stream.batches >= 3
    got = drain(kafka_broker, topic_out, schema=expected.schema)
    assert expected.height == 900 - 22
    assert_same_rows(expected, got)
    assert batch.dead_letters == stream.dead_letters == 22
    counts = {r.check: (r.rows_checked, r.failed) for r in batch.checks}
    assert {r.check: (r.rows_checked, r.failed) for r in stream.checks} == counts
    assert counts["range_amount"][1] > 30
