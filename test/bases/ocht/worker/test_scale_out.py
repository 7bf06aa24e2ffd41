"""Stateful scale-out: two workers of one consumer group run a windowed aggregate into a
SQL table; one is killed with SIGKILL twice mid-stream. The table ends equal to the
batch answer, no window twice: each partition's state moved with it (its checkpoint is
in the table's database, committed with the rows)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
import yaml

from ocht.registry import Registry
from ocht.testkit import (
    ORDERS_SCHEMA,
    MemoryConnector,
    assert_same_rows,
    orders,
    run_pipeline,
)
from ocht.testkit.broker import FAST_GROUP, create_topic, produce_spread, unique_topic

pytestmark = pytest.mark.kafka

WINDOW = {
    "kind": "aggregate",
    "by": ["country"],
    "aggs": {"total": "sum(amount)", "n": "count(*)"},
    "window": {"column": "ts", "every": "1d"},
}


def worker(pipe: Path, home: Path, *args: str, log: Path | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ocht.worker.main", "--log-format", "json", "run", str(pipe)]
        + ["--home", str(home), *args],
        cwd=pipe.parent,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w") if log is not None else subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def committed(engine: sa.Engine, pipeline: str) -> int:
    """Records covered by the checkpoints committed with the table's rows."""
    try:
        with engine.connect() as conn:
            value = conn.execute(
                sa.text("SELECT sum(next_offset) FROM ocht_stream_checkpoints WHERE pipeline = :p"),
                {"p": pipeline},
            ).scalar()
    except sa.exc.SQLAlchemyError:
        return 0
    return int(value or 0)


def wait_until(cond: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError("timed out")


def test_two_workers_one_killed_twice_give_the_batch_answer(
    kafka_broker: str, postgres_url: str, tmp_path: Path
) -> None:
    data = orders(12_000)
    src = tmp_path / "orders.ndjson"
    data.write_ndjson(src)
    memory = MemoryConnector()
    run_pipeline(
        {
            "name": "scale",
            "inputs": {"orders": {"type": "ndjson", "path": str(src), "schema": ORDERS_SCHEMA}},
            "steps": [WINDOW],
            "outputs": {"out": {"type": "memory", "key": "w"}},
        },
        registry=Registry(connectors=[memory.connector]),
        home=tmp_path / "batch",
    )
    expected = memory.recorded("w")

    topic = create_topic(kafka_broker, unique_topic("in"), partitions=4)
    # keyed: a country's records all live in one partition (declared below)
    produce_spread(kafka_broker, topic, data, partitions=4, how="keyed", key="country")
    # several workers writing one table: PostgreSQL (SQLite takes one writer at a time)
    table = f"w_{unique_topic('t').replace('-', '_')}"
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    name = f"scale_{table}"
    doc = {
        "name": name,
        "inputs": {
            "orders": {
                "type": "kafka",
                "brokers": kafka_broker,
                "topic": topic,
                "group": unique_topic("g"),
                "schema": ORDERS_SCHEMA,
                "partitioned_by": ["country"],
                "max_rows": 100,
                "max_wait_ms": 50,
                "options": FAST_GROUP,
            }
        },
        "steps": [WINDOW],
        "outputs": {"db": {"type": "sql", "url": postgres_url, "table": table}},
    }
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(doc))
    home = tmp_path / "h"
    steady = worker(pipe, home, "--drain", "3")
    for i in range(2):
        log = tmp_path / f"victim{i}.log"
        victim = worker(pipe, home, log=log)
        # killed while it holds partitions (and their state) and has committed batches
        wait_until(lambda lg=log: "partitions assigned" in lg.read_text(), 60)
        before = committed(engine, name)
        wait_until(lambda b=before: committed(engine, name) >= b + 300, 60)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        time.sleep(7)  # the group notices the loss after session.timeout.ms
    last = worker(pipe, home, "--drain", "3")
    _, err_last = last.communicate(timeout=180)
    _, err_steady = steady.communicate(timeout=180)
    assert last.returncode == 0, err_last[-2000:]
    assert steady.returncode == 0, err_steady[-2000:]
    assert committed(engine, name) == data.height
    with engine.connect() as conn:
        rows = conn.execute(sa.text(f"SELECT * FROM {table}")).mappings().all()
    engine.dispose()
    got = pl.DataFrame([dict(r) for r in rows])
    assert got.height == expected.height  # no window twice
    assert_same_rows(expected, got.select(expected.columns))
