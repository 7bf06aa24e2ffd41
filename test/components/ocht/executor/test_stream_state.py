"""Stream runs: state survives a restart, bad and late records go to dead letters."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ocht.store import Store
from ocht.testkit import (
    ORDERS_SCHEMA,
    assert_same_rows,
    batch_rows,
    orders,
    stream_pipeline,
)
from ocht.testkit.broker import (
    FAST_GROUP,
    create_topic,
    drain,
    produce,
    produce_frame,
    unique_topic,
)

pytestmark = pytest.mark.kafka

SCHEMA = ORDERS_SCHEMA
FAST = FAST_GROUP
WINDOWED = [
    {
        "kind": "aggregate",
        "by": ["country"],
        "aggs": {"total": "sum(amount)", "n": "count(*)"},
        "window": {"column": "ts", "every": "3h"},
    }
]


def stream_doc(
    broker: str,
    topic_in: str,
    topic_out: str,
    group: str,
    steps: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    return {
        "name": "st",
        "inputs": {
            "orders": {
                "type": "kafka",
                "brokers": broker,
                "topic": topic_in,
                "group": group,
                "schema": SCHEMA,
                "max_rows": 200,
                "max_wait_ms": 200,
                "options": FAST,
            }
        },
        "steps": steps,
        "outputs": {"out": {"type": "kafka", "brokers": broker, "topic": topic_out}},
        **extra,
    }


def test_restart_resumes_state_and_offsets(kafka_broker: str, tmp_path: Path) -> None:
    data = orders(2000)
    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce_frame(kafka_broker, topic_in, data)
    doc = stream_doc(kafka_broker, topic_in, topic_out, unique_topic("g"), WINDOWED)
    first = stream_pipeline(doc, home=tmp_path, max_batches=4)
    assert first.stop_reason == "max_batches"
    assert first.state_bytes > 0
    with Store(f"sqlite:///{tmp_path / 'ocht.db'}") as store:
        saved = store.partitions.load("st", doc["inputs"]["orders"]["group"])
        assert sum(cp.offset for cp in saved.values()) == first.rows_read == 800
        assert all(cp.state and cp.cluster_id for cp in saved.values())
        second = stream_pipeline(doc, home=tmp_path, idle_stop_s=0.5, store=store)
        assert second.rows_read == 1200  # resumed where the first stopped: nothing read twice
        # a stream run is a run: a manifest in the store, mode stream, ended stopped
        manifest = store.run(second.run_id)
        assert (manifest.mode, manifest.status) == ("stream", "stopped")
        assert manifest.extra["stop_reason"] == "drained"
        assert manifest.rows_read == {"orders": 1200}
    with Store(f"sqlite:///{tmp_path / 'ocht.db'}") as store:
        # the first run opened the home's store itself: it wrote its manifest there
        first_manifest = store.run(first.run_id)
        assert (first_manifest.status, first_manifest.extra["stop_reason"]) == (
            "stopped",
            "max_batches",
        )

    expected, _ = batch_rows(tmp_path, WINDOWED, data, name="st")
    assert_same_rows(expected, drain(kafka_broker, topic_out, schema=expected.schema))


def test_poison_and_late_records_go_to_dead_letters(kafka_broker: str, tmp_path: Path) -> None:
    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    good = orders(600)
    produce_frame(kafka_broker, topic_in, good.head(300))
    produce(kafka_broker, topic_in, ["{broken", '{"order_id": "seven"}'])
    produce_frame(kafka_broker, topic_in, good.tail(300))
    # a record from long ago: its window was emitted already
    late = good.head(1).with_columns(pl.lit(900_001).alias("order_id"))
    produce_frame(kafka_broker, topic_in, late)
    dead_topic = create_topic(kafka_broker, unique_topic("dead"))
    steps = [
        {
            "kind": "aggregate",
            "by": ["country"],
            "aggs": {"n": "count(*)"},
            "window": {"column": "ts", "every": "1h", "late": "dead_letter"},
        }
    ]
    doc = stream_doc(
        kafka_broker,
        topic_in,
        topic_out,
        unique_topic("g"),
        steps,
        dead_letter={"type": "kafka", "brokers": kafka_broker, "topic": dead_topic},
    )
    result = stream_pipeline(doc, home=tmp_path, idle_stop_s=0.5)
    assert result.rows_read == 603
    assert result.dead_letters == 3
    dead = drain(kafka_broker, dead_topic).to_dicts()
    bad = {d["offset"]: d for d in dead if d["code"] == "undecodable-record"}
    assert sorted(bad) == [300, 301]
    # a raw record that could not be decoded is kept as a JSON string
    assert json.loads(bad[300]["record"]) == "{broken" and bad[300]["topic"] == topic_in
    assert "wrong type" in bad[301]["reason"]
    (late_letter,) = [d for d in dead if d["code"] == "late-record"]
    assert json.loads(late_letter["record"])["order_id"] == 900_001
    out = drain(kafka_broker, topic_out)
    assert out["n"].sum() == 600  # every good record counted once; the stream went on


def test_running_state_size_is_reported(kafka_broker: str, tmp_path: Path) -> None:
    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce_frame(kafka_broker, topic_in, orders(500))
    steps = [{"kind": "dedupe", "keys": ["customer_id"]}]
    reports: list[Any] = []
    result = stream_pipeline(
        stream_doc(kafka_broker, topic_in, topic_out, unique_topic("g"), steps),
        home=tmp_path,
        idle_stop_s=0.5,
        on_batch=reports.append,
    )
    assert result.state_bytes > 0
    assert reports and reports[-1].state_bytes == result.state_bytes
    assert sum(r.steps["dedupe_1"][0] for r in reports) == 500
    assert sum(r.steps["dedupe_1"][1] for r in reports) == result.rows_written


@pytest.mark.parametrize("stale", ["other-cluster", "beyond-the-end"])
def test_a_stale_checkpoint_is_detected_and_the_partition_starts_fresh(
    kafka_broker: str, tmp_path: Path, stale: str
) -> None:
    """A checkpoint whose watermark is a year ahead would make every record late; when
    it belongs to another cluster, or points past the end of the topic (recreated), the
    worker warns and starts the partition fresh instead of mixing it in."""
    from dataclasses import replace

    from structlog.testing import capture_logs

    group = unique_topic("g")
    future = orders(300, start=datetime(2025, 6, 1))
    old_topic = create_topic(kafka_broker, unique_topic("old"))
    produce_frame(kafka_broker, old_topic, future)
    out_old = create_topic(kafka_broker, unique_topic("out"))
    stream_pipeline(
        stream_doc(kafka_broker, old_topic, out_old, group, WINDOWED), home=tmp_path, max_batches=1
    )
    data = orders(600)
    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce_frame(kafka_broker, topic_in, data)
    with Store(f"sqlite:///{tmp_path / 'ocht.db'}") as store:
        (saved,) = store.partitions.load("st", group).values()
        assert saved.state  # a watermark in mid-2025
        forged = replace(
            saved,
            topic=topic_in,
            cluster_id="another-cluster" if stale == "other-cluster" else saved.cluster_id,
            offset=0 if stale == "other-cluster" else 1_000_000,
        )
        store.partitions.save("st", group, [forged])
        dead = create_topic(kafka_broker, unique_topic("dead"))
        doc = stream_doc(
            kafka_broker,
            topic_in,
            topic_out,
            group,
            WINDOWED,
            dead_letter={"type": "kafka", "brokers": kafka_broker, "topic": dead},
        )
        with capture_logs() as logs:
            result = stream_pipeline(doc, home=tmp_path, idle_stop_s=0.5, store=store)
        manifest = store.run(result.run_id)
    warnings = [e for e in logs if e.get("code") == "stale-checkpoint"]
    assert len(warnings) == 1 and warnings[0]["topic"] == topic_in
    assert manifest.extra["stale_checkpoints"][0]["partition"] == 0
    assert result.rows_read == 600 and result.dead_letters == 0  # nothing "late"
    expected = execute_batch(tmp_path, data)
    assert_same_rows(expected, drain(kafka_broker, topic_out, schema=expected.schema))


def execute_batch(tmp_path: Path, data: pl.DataFrame) -> pl.DataFrame:
    expected, _ = batch_rows(tmp_path, WINDOWED, data, name="st")
    return expected
