"""The defining property of stream mode, as one harness: the same records through a batch
run (an NDJSON file) and through a stream run (a Kafka topic, drained to its end)."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from ocht.executor import RunResult, StreamResult
from ocht.registry import Registry
from ocht.testkit.broker import FAST_GROUP, create_topic, drain, produce_frame, unique_topic
from ocht.testkit.frames import ORDERS_SCHEMA
from ocht.testkit.memory import MemoryConnector
from ocht.testkit.running import run_pipeline, stream_pipeline


@dataclass(frozen=True)
class BothWays:
    """What :func:`both_ways` ran: each mode's rows and result.

    Attributes:
        batch: the rows the batch run wrote.
        stream: the rows the stream run wrote (read back from its output topic).
        batch_result: the batch run's result.
        stream_result: the stream run's result.
    """

    batch: pl.DataFrame
    stream: pl.DataFrame
    batch_result: RunResult
    stream_result: StreamResult


def kafka_input(
    broker: str,
    topic: str,
    *,
    schema: dict[str, str] | None = None,
    max_rows: int = 300,
    **extra: Any,
) -> dict[str, Any]:
    """A Kafka input spec reading ``topic`` with a fresh consumer group, tuned for tests."""
    return {
        "type": "kafka",
        "brokers": broker,
        "topic": topic,
        "group": unique_topic("g"),
        "schema": schema or ORDERS_SCHEMA,
        "max_rows": max_rows,
        "max_wait_ms": 200,
        "options": FAST_GROUP,
        **extra,
    }


def batch_rows(
    folder: Path,
    steps: list[dict[str, Any]],
    data: pl.DataFrame,
    *,
    name: str = "eq",
    lookups: dict[str, dict[str, Any]] | None = None,
    schema: dict[str, str] | None = None,
) -> tuple[pl.DataFrame, RunResult]:
    """The batch half of :func:`both_ways`: ``steps`` over ``data`` (written as NDJSON in
    ``folder``), and the rows the run wrote."""
    src = folder / f"{name}-input.ndjson"
    data.write_ndjson(src)
    memory = MemoryConnector()
    result = run_pipeline(
        {
            "name": name,
            "inputs": {
                "orders": {"type": "ndjson", "path": str(src), "schema": schema or ORDERS_SCHEMA},
                **copy.deepcopy(lookups or {}),
            },
            "steps": copy.deepcopy(steps),
            "outputs": {"out": {"type": "memory", "key": name}},
        },
        registry=Registry(connectors=[memory.connector]),
        home=folder / "batch-home",
    )
    return memory.recorded(name), result


def both_ways(
    broker: str,
    folder: Path,
    steps: list[dict[str, Any]],
    data: pl.DataFrame,
    *,
    name: str = "eq",
    lookups: dict[str, dict[str, Any]] | None = None,
    schema: dict[str, str] | None = None,
    max_rows: int = 300,
    partitions: int = 1,
    drain_s: float = 0.5,
) -> BothWays:
    """Run ``steps`` over ``data`` in batch and in stream mode.

    Args:
        broker: the Kafka bootstrap address (the ``kafka_broker`` fixture).
        folder: a scratch folder (``tmp_path``).
        steps: the pipeline's steps (copied for each run).
        data: the records, as rows of ``schema``.
        name: the pipeline's name.
        lookups: more (bounded) inputs, the same in both runs (a join's other side).
        schema: the input's declared schema (default: the orders schema).
        max_rows: records per micro-batch.
        partitions: partitions of the input topic.
        drain_s: how long the stream waits idle at the end before it stops.
    """
    schema = schema or ORDERS_SCHEMA
    expected, batch_result = batch_rows(
        folder, steps, data, name=name, lookups=lookups, schema=schema
    )

    topic_in = create_topic(broker, unique_topic("in"), partitions=partitions)
    topic_out = create_topic(broker, unique_topic("out"))
    produce_frame(broker, topic_in, data)
    stream_result = stream_pipeline(
        {
            "name": name,
            "inputs": {
                "orders": kafka_input(broker, topic_in, schema=schema, max_rows=max_rows),
                **copy.deepcopy(lookups or {}),
            },
            "steps": copy.deepcopy(steps),
            "outputs": {"out": {"type": "kafka", "brokers": broker, "topic": topic_out}},
        },
        home=folder / "stream-home",
        idle_stop_s=drain_s,
    )
    got = drain(broker, topic_out, schema=expected.schema)
    return BothWays(expected, got, batch_result, stream_result)
