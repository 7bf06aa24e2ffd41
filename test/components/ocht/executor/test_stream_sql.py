"""SQL outputs in stream mode: rows, offsets and operator state commit in one database
transaction, so a SIGKILL between the SQL commit and the Kafka offset commit neither
loses nor repeats a row (PostgreSQL and SQLite)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
import yaml

from ocht.errors import InvalidPipeline
from ocht.testkit import ORDERS_SCHEMA, assert_same_rows, orders, run_pipeline, stream_pipeline
from ocht.testkit.broker import FAST_GROUP, create_topic, produce_spread, unique_topic

pytestmark = pytest.mark.kafka
HERE = Path(__file__).parent
WINDOW = {
    "kind": "aggregate",
    "by": ["country"],
    "aggs": {"total": "sum(amount)", "n": "count(*)"},
    "window": {"column": "ts", "every": "1d"},
}


def kafka_input(broker: str, topic: str) -> dict[str, Any]:
    return {
        "type": "kafka",
        "brokers": broker,
        "topic": topic,
        "group": unique_topic("g"),
        "schema": ORDERS_SCHEMA,
        "max_rows": 200,
        "max_wait_ms": 100,
        "options": FAST_GROUP,
    }


def read_table(path: Path, table: str) -> pl.DataFrame:
    with sqlite3.connect(path) as conn:
        cur = conn.execute(f"SELECT * FROM {table}")
        names = [d[0] for d in cur.description]
        return pl.DataFrame(cur.fetchall(), schema=names, orient="row")


def run_killed(doc: dict[str, Any], tmp_path: Path, kill_at: int) -> None:
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(doc))
    home = str(tmp_path / "h")
    script = str(HERE / "kill_between_commits.py")
    killed = subprocess.run(
        [sys.executable, script, str(pipe), home, str(kill_at)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == -9, killed.stderr[-2000:]
    final = subprocess.run(
        [sys.executable, script, str(pipe), home, "0", "0.5"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert final.returncode == 0, final.stderr[-2000:]


def test_kill_between_sql_and_kafka_commit_is_exactly_once_in_postgres(
    kafka_broker: str, postgres_url: str, tmp_path: Path
) -> None:
    data = orders(3000)
    topic = create_topic(kafka_broker, unique_topic("in"), partitions=2)
    produce_spread(kafka_broker, topic, data, partitions=2)
    table = f"orders_{unique_topic('t').replace('-', '_')}"
    doc = {
        "name": "to_pg",
        "inputs": {"orders": kafka_input(kafka_broker, topic)},
        "steps": [{"kind": "derive", "columns": {"gross": "amount * 1.2"}}],
        "outputs": {"db": {"type": "sql", "url": postgres_url, "table": table, "mode": "append"}},
    }
    run_killed(doc, tmp_path, kill_at=4)
    engine = sa.create_engine(postgres_url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as conn:
        ids = [r[0] for r in conn.execute(sa.text(f"SELECT order_id FROM {table}"))]
        saved = conn.execute(
            sa.text("SELECT sum(next_offset) FROM ocht_stream_checkpoints WHERE pipeline='to_pg'")
        ).scalar()
    engine.dispose()
    assert len(ids) == len(set(ids)) == 3000  # every row once: none lost, none twice
    assert saved == 3000  # the offsets live beside the rows


def test_windowed_aggregate_into_sqlite_survives_a_kill_with_its_state(
    kafka_broker: str, tmp_path: Path
) -> None:
    data = orders(3000)
    src = tmp_path / "orders.ndjson"
    data.write_ndjson(src)
    db = tmp_path / "out.db"
    batch_db = tmp_path / "batch.db"
    run_pipeline(
        {
            "name": "to_lite",
            "inputs": {"orders": {"type": "ndjson", "path": str(src), "schema": ORDERS_SCHEMA}},
            "steps": [WINDOW],
            "outputs": {"db": {"type": "sql", "url": f"sqlite:///{batch_db}", "table": "w"}},
        },
        home=tmp_path / "b",
    )
    topic = create_topic(kafka_broker, unique_topic("in"), partitions=3)
    produce_spread(kafka_broker, topic, data, partitions=3)
    doc = {
        "name": "to_lite",
        "inputs": {"orders": kafka_input(kafka_broker, topic)},
        "steps": [WINDOW],
        "outputs": {"db": {"type": "sql", "url": f"sqlite:///{db}", "table": "w"}},
    }
    run_killed(doc, tmp_path, kill_at=6)
    expected, got = read_table(batch_db, "w"), read_table(db, "w")
    assert got.height == expected.height  # no window twice, none lost (state survived)
    assert_same_rows(expected, got)


def test_replace_is_refused_in_stream_mode(kafka_broker: str, tmp_path: Path) -> None:
    doc = {
        "name": "rep",
        "inputs": {"orders": kafka_input(kafka_broker, "x")},
        "outputs": {
            "db": {
                "type": "sql",
                "url": f"sqlite:///{tmp_path}/x.db",
                "table": "t",
                "mode": "replace",
            }
        },
    }
    with pytest.raises(InvalidPipeline) as err:
        stream_pipeline(doc, home=tmp_path)
    assert err.value.issues[0].path == "outputs.db.mode"
