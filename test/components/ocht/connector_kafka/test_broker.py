"""The Kafka source and sink against a real broker (Tansu)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ocht.connector_kafka import BrokerUnreachable, KafkaSink, KafkaSource
from ocht.pipeline_model import KafkaConnector
from ocht.registry import Mode, RunContext
from ocht.testkit.broker import FAST_CONSUMER, create_topic, drain, produce, unique_topic

pytestmark = pytest.mark.kafka


def spec(bootstrap: str, **kw: Any) -> KafkaConnector:
    options = {k: v for k, v in FAST_CONSUMER.items() if k != "fetch.queue.backoff.ms"}
    return KafkaConnector.model_validate(
        {"type": "kafka", "brokers": bootstrap, "options": options, **kw}
    )


def ctx(tmp_path: Path, mode: Mode = "stream") -> RunContext:
    return RunContext(
        run_id="r", pipeline="p", base_dir=tmp_path, run_dir=tmp_path / "run", mode=mode
    )


def poll_until(source: KafkaSource, n: int, timeout: float = 30) -> list[Any]:
    batches = []
    deadline = time.monotonic() + timeout
    while sum(b.records for b in batches) < n and time.monotonic() < deadline:
        b = source.poll_batch()
        if b.records:
            batches.append(b)
    return batches


def test_stream_batches_carry_rows_offsets_and_metadata(kafka_broker: str, tmp_path: Path) -> None:
    topic = create_topic(kafka_broker, unique_topic(), partitions=2)
    produce(kafka_broker, topic, [{"id": i, "v": i * 1.5} for i in range(250)], key="id")
    source = KafkaSource(
        spec(
            kafka_broker,
            topic=topic,
            group=unique_topic("g"),
            schema={"id": "int64", "v": "float64"},
            max_rows=100,
            metadata_columns=["key", "partition", "offset", "timestamp"],
        ),
        name="in",
        context=ctx(tmp_path),
    )
    try:
        batches = poll_until(source, 250)
        assert all(b.frame.height <= 100 for b in batches)
        frame = pl.concat([b.frame for b in batches])
        assert sorted(frame["id"].to_list()) == list(range(250))
        assert frame["_key"].to_list() == [str(i) for i in frame["id"].to_list()]
        assert frame.schema["_timestamp"] == pl.Datetime("ms", "UTC")
        last: dict[tuple[str, int], int] = {}
        for b in batches:
            last.update(b.offsets)
        per_partition = frame.group_by("_partition").agg(pl.col("_offset").max())
        for part, off in per_partition.iter_rows():
            assert last[(topic, part)] == off + 1
    finally:
        source.close()


def test_committed_offsets_are_where_the_group_resumes(kafka_broker: str, tmp_path: Path) -> None:
    topic = create_topic(kafka_broker, unique_topic())
    produce(kafka_broker, topic, [{"id": i} for i in range(30)])
    group = unique_topic("g")
    s = spec(kafka_broker, topic=topic, group=group, max_rows=10, schema={"id": "int64"})
    first = KafkaSource(s, name="in", context=ctx(tmp_path))
    batch = poll_until(first, 10)[0]
    first.commit(batch.offsets)
    first.close()
    second = KafkaSource(s, name="in", context=ctx(tmp_path))
    try:
        rest = pl.concat([b.frame for b in poll_until(second, 30 - batch.frame.height)])
        assert sorted(rest["id"].to_list()) == list(range(batch.frame.height, 30))
    finally:
        second.close()


def test_sink_writes_keys_and_confirms_delivery(kafka_broker: str, tmp_path: Path) -> None:
    topic = create_topic(kafka_broker, unique_topic())
    sink = KafkaSink(
        spec(kafka_broker, topic=topic, key="upper(name)"), name="out", context=ctx(tmp_path)
    )
    sink.open()
    sink.write(pl.DataFrame({"name": ["a", "b"], "n": [1, 2]}))
    sink.commit()
    sink.close()
    back = KafkaSource(
        spec(kafka_broker, topic=topic, group=unique_topic("g"), metadata_columns=["key"]),
        name="in",
        context=ctx(tmp_path),
    )
    try:
        frame = pl.concat([b.frame for b in poll_until(back, 2)])
    finally:
        back.close()
    assert sorted(frame.select("name", "n", "_key").rows()) == [("a", 1, "A"), ("b", 2, "B")]


def test_transactional_sink(kafka_broker: str, tmp_path: Path) -> None:
    topic = create_topic(kafka_broker, unique_topic())
    sink = KafkaSink(
        spec(kafka_broker, topic=topic, transactional=True), name="out", context=ctx(tmp_path)
    )
    for i in range(2):
        sink.open()
        sink.write(pl.DataFrame({"batch": [i] * 3}))
        sink.commit()
    sink.close()
    assert drain(kafka_broker, topic)["batch"].to_list() == [0, 0, 0, 1, 1, 1]


def test_batch_mode_drains_to_the_current_end(kafka_broker: str, tmp_path: Path) -> None:
    topic = create_topic(kafka_broker, unique_topic(), partitions=3)
    produce(kafka_broker, topic, [{"id": i} for i in range(500)] + ["oops"])
    source = KafkaSource(
        spec(kafka_broker, topic=topic, group=unique_topic("g")),
        name="in",
        context=ctx(tmp_path, "batch"),
    )
    assert source.schema() == pl.Schema({"id": pl.Int64})
    frame = source.scan().collect()
    assert sorted(frame["id"].to_list()) == list(range(500))
    dead = source.dead_letters()
    assert dead is not None and dead.collect().height == 1


def test_unreachable_broker_fails_fast_and_clearly(tmp_path: Path) -> None:
    source = KafkaSource(
        spec("127.0.0.1:1", topic="t", connect_timeout_s=1.5), name="in", context=ctx(tmp_path)
    )
    t0 = time.monotonic()
    with pytest.raises(BrokerUnreachable) as err:
        source.poll_batch()
    assert time.monotonic() - t0 < 10
    assert err.value.code == "source-unreachable"
    assert "127.0.0.1:1" in err.value.message
    assert err.value.hint


def test_stream_schema_is_inferred_from_the_first_records(
    kafka_broker: str, tmp_path: Path
) -> None:
    topic = create_topic(kafka_broker, unique_topic())
    produce(kafka_broker, topic, [{"id": i, "name": f"n{i}", "price": i / 2} for i in range(50)])
    source = KafkaSource(
        spec(kafka_broker, topic=topic, group=unique_topic("g")), name="in", context=ctx(tmp_path)
    )
    try:
        assert source.schema() == pl.Schema(
            {"id": pl.Int64, "name": pl.String, "price": pl.Float64}
        )
        frame = pl.concat([b.frame for b in poll_until(source, 50)])
        assert frame["id"].to_list() == list(range(50))  # the records read to infer come first
    finally:
        source.close()


def test_empty_topic_without_schema_asks_for_one(kafka_broker: str, tmp_path: Path) -> None:
    from ocht.errors import InvalidPipeline

    topic = create_topic(kafka_broker, unique_topic())
    source = KafkaSource(
        spec(kafka_broker, topic=topic, group=unique_topic("g")), name="in", context=ctx(tmp_path)
    )
    try:
        with pytest.raises(InvalidPipeline) as err:
            source.schema()
        assert err.value.code == "cannot-infer-schema"
        assert "schema" in (err.value.issues[0].hint or "")
    finally:
        source.close()
