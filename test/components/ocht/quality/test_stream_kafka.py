"""The check step through a real broker: a drained stream gives the rows, the dead
letters and the per-check counts a batch run gives (unique aside: per micro-batch)."""

from __future__ import annotations

import polars as pl
import pytest

from ocht.testkit import assert_same_rows, both_ways, orders

pytestmark = pytest.mark.kafka

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
    steps = [{"kind": "check", "id": "qc", "checks": CHECKS}]
    ran = both_ways(kafka_broker, tmp_path, steps, data, name="qs", max_rows=200)
    batch, stream, expected, got = ran.batch_result, ran.stream_result, ran.batch, ran.stream
    assert stream.stop_reason == "drained" and stream.batches >= 3
    assert expected.height == 900 - 22
    assert_same_rows(expected, got)
    assert batch.dead_letters == stream.dead_letters == 22
    counts = {r.check: (r.rows_checked, r.failed) for r in batch.checks}
    assert {r.check: (r.rows_checked, r.failed) for r in stream.checks} == counts
    assert counts["range_amount"][1] > 30
