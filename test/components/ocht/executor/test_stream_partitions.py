"""Stateful steps on topics of 1, 3 and 8 partitions, records spread round robin, by key,
or skewed (one partition far ahead of the others while the backlog is read): a drained
stream run gives the batch answer for tumbling and hopping windows, running aggregates
and dedupe — nothing is late, nothing is counted twice."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from ocht.registry import Registry
from ocht.testkit import (
    ORDERS_SCHEMA,
    MemoryConnector,
    assert_same_rows,
    orders,
    run_pipeline,
    stream_pipeline,
)
from ocht.testkit.broker import FAST_GROUP, create_topic, drain, produce_spread, unique_topic

pytestmark = pytest.mark.kafka

STEPS: list[dict[str, Any]] = [
    {
        "id": "daily",
        "kind": "aggregate",
        "input": "orders",
        "by": ["country"],
        "aggs": {"total": "sum(amount)", "n": "count(*)", "avg": "avg(amount)"},
        "window": {"column": "ts", "every": "1d", "late": "dead_letter"},
    },
    {
        "id": "hopping",
        "kind": "aggregate",
        "input": "orders",
        "by": ["status"],
        "aggs": {"n": "count(*)", "hi": "max(amount)"},
        "window": {"column": "ts", "every": "6h", "period": "1d"},
    },
    {
        "id": "running",
        "kind": "aggregate",
        "input": "orders",
        "by": ["country"],
        "aggs": {"n": "count(*)", "mean": "sum(amount) / count(amount)"},
    },
    # "first" across partitions is the first read; on identical rows that is the batch row
    {"id": "pairs", "kind": "select", "input": "orders", "columns": ["country", "status"]},
    {"id": "first", "kind": "dedupe", "input": "pairs"},
]
OUTPUTS = {"daily": "daily", "hopping": "hopping", "running": "running", "first": "first"}


def batch_answer(tmp_path: Path, src: Path) -> dict[str, Any]:
    memory = MemoryConnector()
    doc = {
        "name": "parts",
        "inputs": {"orders": {"type": "ndjson", "path": str(src), "schema": ORDERS_SCHEMA}},
        "steps": copy.deepcopy(STEPS),
        "outputs": {
            name: {"type": "memory", "key": name, "from": step} for name, step in OUTPUTS.items()
        },
    }
    assert run_pipeline(
        doc, registry=Registry(connectors=[memory.connector]), home=tmp_path / "b"
    ).ok
    return {name: memory.recorded(name) for name in OUTPUTS}


@pytest.mark.parametrize(
    ("partitions", "how"),
    [
        (1, "round_robin"),
        (3, "round_robin"),
        (3, "keyed"),
        (3, "skewed"),
        (8, "round_robin"),
        (8, "keyed"),
        (8, "skewed"),
    ],
)
def test_stateful_steps_over_partitions_give_the_batch_answer(
    kafka_broker: str, tmp_path: Path, partitions: int, how: str
) -> None:
    data = orders(2500)
    src = tmp_path / "orders.ndjson"
    data.write_ndjson(src)
    expected = batch_answer(tmp_path, src)
    topic_in = create_topic(kafka_broker, unique_topic("in"), partitions=partitions)
    counts = produce_spread(
        kafka_broker, topic_in, data, partitions=partitions, how=how, key="country"
    )
    assert sum(counts) == data.height
    topics = {name: create_topic(kafka_broker, unique_topic(name)) for name in OUTPUTS}
    dead = create_topic(kafka_broker, unique_topic("dead"))
    doc = {
        "name": "parts",
        "inputs": {
            "orders": {
                "type": "kafka",
                "brokers": kafka_broker,
                "topic": topic_in,
                "group": unique_topic("g"),
                "schema": ORDERS_SCHEMA,
                "max_rows": 250,
                "max_wait_ms": 100,
                "options": FAST_GROUP,
            }
        },
        "steps": copy.deepcopy(STEPS),
        "outputs": {
            name: {"type": "kafka", "brokers": kafka_broker, "topic": topics[name], "from": step}
            for name, step in OUTPUTS.items()
        },
        "dead_letter": {"type": "kafka", "brokers": kafka_broker, "topic": dead},
    }
    result = stream_pipeline(doc, home=tmp_path / "s", idle_stop_s=0.5)
    assert result.stop_reason == "drained"
    assert result.rows_read == data.height
    assert result.dead_letters == 0  # a backlog in any interleaving: nothing is late
    for name in ("daily", "hopping", "first"):
        got = drain(kafka_broker, topics[name], schema=expected[name].schema)
        assert_same_rows(expected[name], got)
    running = drain(kafka_broker, topics["running"], schema=expected["running"].schema)
    assert_same_rows(
        expected["running"], running.unique(["country"], keep="last", maintain_order=True)
    )
