"""Stream runs join against bounded inputs (read at start, refreshable) and append dead
letters to a file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ocht.testkit import assert_same_rows, both_ways, kafka_input, orders, stream_pipeline
from ocht.testkit.broker import create_topic, drain, produce, produce_frame, unique_topic

pytestmark = pytest.mark.kafka


def write_segments(path: Path, segment_of: Any) -> None:
    pl.DataFrame(
        {"customer_id": list(range(1, 500)), "segment": [segment_of(i) for i in range(1, 500)]}
    ).write_csv(path)


def test_join_against_a_file_lookup_equals_batch(kafka_broker: str, tmp_path: Path) -> None:
    data = orders(1500)
    segments = tmp_path / "segments.csv"
    write_segments(segments, lambda i: "gold" if i % 3 == 0 else "std")
    steps = [
        {
            "kind": "join",
            "input": "orders",
            "with": "segments",
            "on": ["customer_id"],
            "how": "left",
        },
        {
            "kind": "aggregate",
            "by": ["segment"],
            "aggs": {"total": "sum(amount)", "n": "count(*)"},
            "window": {"column": "ts", "every": "6h"},
        },
    ]
    ran = both_ways(
        kafka_broker,
        tmp_path,
        steps,
        data,
        name="lk",
        lookups={"segments": {"type": "csv", "path": str(segments)}},
        max_rows=250,
    )
    assert ran.batch.height > 10
    assert_same_rows(ran.batch, ran.stream)


def test_lookup_refresh_and_file_dead_letters(kafka_broker: str, tmp_path: Path) -> None:
    segments = tmp_path / "segments.csv"
    write_segments(segments, lambda i: "v1")
    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce_frame(kafka_broker, topic_in, orders(250))
    produce(kafka_broker, topic_in, ["not json"])
    dead_file = tmp_path / "dead.ndjson"
    doc = {
        "name": "lk2",
        "inputs": {
            "orders": kafka_input(kafka_broker, topic_in, max_rows=250),
            "segments": {"type": "csv", "path": str(segments)},
        },
        "steps": [{"kind": "join", "input": "orders", "with": "segments", "on": ["customer_id"]}],
        "outputs": {"o": {"type": "kafka", "brokers": kafka_broker, "topic": topic_out}},
        "dead_letter": {"type": "ndjson", "path": str(dead_file)},
    }

    def after(_report: Any) -> None:  # the lookup changes after the first batch
        write_segments(segments, lambda i: "v2")

    stop_after_first = stream_pipeline(doc, home=tmp_path / "h", max_batches=1, on_batch=after)
    assert stop_after_first.batches == 1
    produce_frame(kafka_broker, topic_in, orders(100))
    stream_pipeline(doc, home=tmp_path / "h", idle_stop_s=0.5, lookup_refresh_s=0.0)
    out = drain(kafka_broker, topic_out)
    assert out.head(250)["segment"].unique().to_list() == ["v1"]
    assert out.tail(100)["segment"].unique().to_list() == ["v2"]
    dead = [json.loads(line) for line in dead_file.read_text().splitlines()]
    assert [d["record"] for d in dead] == ["not json"]
    assert dead[0]["code"] == "undecodable-record"
