"""predict and llm on a stream: per micro-batch, the same rows as a batch run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ocht.testkit import FakeOpenAI, assert_same_rows, run_pipeline, stream_pipeline
from ocht.testkit.broker import FAST_GROUP, create_topic, drain, produce_frame, unique_topic
from ocht.testkit.models import IRIS_COLUMNS, iris_frame, write_iris_onnx

pytestmark = pytest.mark.kafka


def answer(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"]
    size = float(text.rsplit(" ", 1)[-1])
    if size > 6.5:
        return "not json at all"  # a misfit: a dead letter
    return json.dumps({"size": "large" if size > 5.5 else "small"})


def steps(model: Path, url: str) -> list[dict[str, Any]]:
    return [
        {
            "kind": "predict",
            "model": str(model),
            "inputs": IRIS_COLUMNS,
            "outputs": {"label": "predicted", "score": "p_virginica"},
        },
        {
            "kind": "llm",
            "base_url": url,
            "model": "fake",
            "prompt": "size {sepal_length}",
            "schema": {
                "type": "object",
                "properties": {"size": {"type": "string"}},
                "required": ["size"],
            },
        },
    ]


def test_predict_and_llm_on_a_stream_equal_batch(kafka_broker: str, tmp_path: Path) -> None:
    model = write_iris_onnx(tmp_path / "iris.onnx")
    data = iris_frame().with_row_index("id").with_columns(pl.col("id").cast(pl.Int64))
    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    dead_topic = create_topic(kafka_broker, unique_topic("dead"))
    produce_frame(kafka_broker, topic_in, data)
    schema = {"id": "int64", **dict.fromkeys(IRIS_COLUMNS, "float32"), "species": "int64"}
    with FakeOpenAI(answer=answer) as fake:
        doc = {
            "name": "flowers",
            "inputs": {
                "f": {
                    "type": "kafka",
                    "brokers": kafka_broker,
                    "topic": topic_in,
                    "group": unique_topic("g"),
                    "schema": schema,
                    "max_rows": 40,
                    "max_wait_ms": 200,
                    "options": FAST_GROUP,
                }
            },
            "steps": steps(model, fake.url),
            "outputs": {"out": {"type": "kafka", "brokers": kafka_broker, "topic": topic_out}},
            "dead_letter": {"type": "kafka", "brokers": kafka_broker, "topic": dead_topic},
        }
        result = stream_pipeline(doc, home=tmp_path / "s", idle_stop_s=0.5)
        data.write_parquet(tmp_path / "f.parquet")
        batch = {
            "name": "flowers_batch",
            "inputs": {"f": {"type": "parquet", "path": str(tmp_path / "f.parquet")}},
            "steps": steps(model, fake.url),
            "outputs": {"out": {"type": "parquet", "path": str(tmp_path / "b.parquet")}},
            "dead_letter": {"type": "ndjson", "path": str(tmp_path / "dead.ndjson")},
        }
        expected_result = run_pipeline(batch, home=tmp_path / "s")  # same home: from the cache
    expected = pl.read_parquet(tmp_path / "b.parquet")
    streamed = drain(kafka_broker, topic_out, schema=expected.schema)
    assert result.batches > 1 and expected.height > 0
    assert_same_rows(expected, streamed)
    assert result.dead_letters == expected_result.dead_letters > 0
    dead = drain(kafka_broker, dead_topic)
    assert set(dead["code"]) == {"llm-answer-invalid"}
    assert expected_result.reports["llm_2"]["requests"] == 0  # every prompt was cached
