"""anomaly in stream mode: through a real broker, any micro-batch split, with a restart,
the rows equal the batch result."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest

from ocht.store import Store
from ocht.testkit import assert_same_rows, run_pipeline, stream_pipeline
from ocht.testkit.broker import FAST_GROUP, create_topic, drain, produce_frame, unique_topic

pytestmark = pytest.mark.kafka

SCHEMA = {"sensor": "string", "ts": "int64", "value": "float64"}


def sensors(n: int) -> pl.DataFrame:
    rng = np.random.default_rng(11)
    value = np.round(rng.normal(50, 4, n), 3)
    value[::41] += 40
    return pl.DataFrame(
        {
            "sensor": rng.choice(["s1", "s2", "s3", "s4"], n).tolist(),
            "ts": np.arange(n, dtype=np.int64),
            "value": value,
        }
    )


def step(method: str) -> dict[str, Any]:
    return {
        "kind": "anomaly",
        "value": "value",
        "by": "sensor",
        "time": "ts",
        "method": method,
        "window": 25,
        "min_history": 5,
    }


def stream_doc(
    broker: str, topic_in: str, topic_out: str, group: str, method: str, max_rows: int
) -> dict[str, Any]:
    return {
        "name": "sensors",
        "inputs": {
            "readings": {
                "type": "kafka",
                "brokers": broker,
                "topic": topic_in,
                "group": group,
                "schema": SCHEMA,
                "max_rows": max_rows,
                "max_wait_ms": 200,
                "options": FAST_GROUP,
            }
        },
        "steps": [step(method)],
        "outputs": {"out": {"type": "kafka", "brokers": broker, "topic": topic_out}},
    }


@pytest.mark.parametrize("method", ["zscore", "robust", "quantile"])
def test_stream_with_a_restart_equals_batch(kafka_broker: str, tmp_path: Path, method: str) -> None:
    rnd = random.Random(method)
    data = sensors(900)
    topic_in = create_topic(kafka_broker, unique_topic("in"), partitions=2)
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce_frame(kafka_broker, topic_in, data, key="sensor")  # a sensor stays in a partition
    group = unique_topic("g")
    first = stream_pipeline(
        stream_doc(kafka_broker, topic_in, topic_out, group, method, rnd.randint(20, 90)),
        home=tmp_path,
        max_batches=rnd.randint(2, 5),
    )
    assert 0 < first.rows_read < 900
    with Store(f"sqlite:///{tmp_path / 'ocht.db'}") as store:  # the stream run's store
        saved = store.partitions.load("sensors", group)
    # a checkpoint per partition read, each with the anomaly statistics of its sensors
    assert saved and all(cp.state for cp in saved.values())
    # the restart reads with another micro-batch size: the state carries over
    second = stream_pipeline(
        stream_doc(kafka_broker, topic_in, topic_out, group, method, rnd.randint(50, 200)),
        home=tmp_path,
        idle_stop_s=0.5,
    )
    assert first.rows_read + second.rows_read == 900

    source = tmp_path / "readings.parquet"
    data.write_parquet(source)
    batch = {
        "name": "sensors_batch",
        "inputs": {"readings": {"type": "parquet", "path": str(source)}},
        "steps": [step(method)],
        "outputs": {"out": {"type": "parquet", "path": str(tmp_path / "batch.parquet")}},
    }
    run_pipeline(batch, home=tmp_path / "batch")
    expected = pl.read_parquet(tmp_path / "batch.parquet")
    streamed = drain(kafka_broker, topic_out, schema=expected.schema)
    assert expected["is_anomaly"].sum() > 0
    assert_same_rows(expected, streamed)
    # and exactly, not within a tolerance: the same floats in both modes
    assert expected.sort("ts").equals(streamed.select(expected.columns).sort("ts"))
