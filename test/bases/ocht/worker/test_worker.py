"""The ocht-worker process against a real broker: signals, metrics, crashes, scale-out."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import yaml

from ocht.testkit.broker import create_topic, drain, free_port, produce, unique_topic

pytestmark = pytest.mark.kafka

HERE = Path(__file__).parent
FAST = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}


def write_pipeline(
    path: Path,
    broker: str,
    topic_in: str,
    outputs: dict[str, Any],
    *,
    group: str,
    max_rows: int = 1000,
) -> Path:
    doc = {
        "name": "wk",
        "inputs": {
            "in": {
                "type": "kafka",
                "brokers": broker,
                "topic": topic_in,
                "group": group,
                "schema": {"id": "int64", "v": "int64"},
                "max_rows": max_rows,
                "max_wait_ms": 100,
                "options": FAST,
            }
        },
        "steps": [{"kind": "derive", "columns": {"v2": "v * 2"}}],
        "outputs": outputs,
    }
    path.write_text(yaml.safe_dump(doc))
    return path


def worker(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "ocht.worker.main", "--log-format", "json", "run", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def kafka_out(broker: str, topic: str) -> dict[str, Any]:
    return {"type": "kafka", "brokers": broker, "topic": topic}


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, ""
    except OSError:
        return 0, ""


def wait_for(cond: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigterm_finishes_the_batch_commits_and_leaves(kafka_broker: str, tmp_path: Path) -> None:
    topic_in = create_topic(kafka_broker, unique_topic("in"), partitions=2)
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    n = 20_000
    produce(kafka_broker, topic_in, [{"id": i, "v": i} for i in range(n // 2)])
    group = unique_topic("g")
    pipe = write_pipeline(
        tmp_path / "p.yaml",
        kafka_broker,
        topic_in,
        {"out": kafka_out(kafka_broker, topic_out)},
        group=group,
    )
    port = free_port()
    proc = worker(
        str(pipe), "--metrics-port", str(port), "--home", str(tmp_path / "h"), cwd=tmp_path
    )
    try:
        base = f"http://127.0.0.1:{port}"
        wait_for(lambda: get(f"{base}/readyz")[0] == 200, 30, "/readyz")
        assert get(f"{base}/healthz")[0] == 200
        wait_for(lambda: "ocht_batches_total{" in get(f"{base}/metrics")[1], 30, "a batch")
        # more records keep arriving while it runs; the signal lands mid-stream
        feeder = threading.Thread(
            target=produce,
            args=(kafka_broker, topic_in, [{"id": i, "v": i} for i in range(n // 2, n)]),
        )
        feeder.start()
        time.sleep(0.3)
        metrics = get(f"{base}/metrics")[1]
        for name in (
            "ocht_records_read_total",
            "ocht_step_rows_total",
            "ocht_batch_seconds",
            "ocht_consumer_lag",
            "ocht_state_bytes",
            "ocht_dead_letters_total",
        ):
            assert name in metrics
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
        feeder.join()
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    assert "stopped after" in err
    # a restart of the same group reads only what was not committed: exactly n in total
    again = worker(str(pipe), "--drain", "1", "--home", str(tmp_path / "h"), cwd=tmp_path)
    try:
        _, err2 = again.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        again.send_signal(signal.SIGTERM)
        _, err2 = again.communicate(timeout=30)
        raise AssertionError(err2) from None
    assert again.returncode == 0, err2
    ids = drain(kafka_broker, topic_out)["id"].to_list()
    assert sorted(ids) == list(range(n))


def test_unreachable_broker_is_a_clear_error(tmp_path: Path) -> None:
    doc = {
        "name": "wk",
        "inputs": {
            "in": {
                "type": "kafka",
                "brokers": "127.0.0.1:1",
                "topic": "t",
                "schema": {"id": "int64"},
                "connect_timeout_s": 1,
            }
        },
        "outputs": {"out": {"type": "kafka", "brokers": "127.0.0.1:1", "topic": "o"}},
    }
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(doc))
    t0 = time.monotonic()
    proc = worker("p.yaml", "--home", str(tmp_path / "h"), cwd=tmp_path)
    _, err = proc.communicate(timeout=60)
    assert time.monotonic() - t0 < 30
    assert proc.returncode == 1
    assert "error[source-unreachable]" in err
    assert "hint:" in err
    assert "Traceback" not in err


def test_sigkill_crashes_lose_nothing(kafka_broker: str, tmp_path: Path) -> None:
    n, max_rows, kills = 100_000, 500, 3
    topic_in = create_topic(kafka_broker, unique_topic("in"), partitions=2)
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce(kafka_broker, topic_in, [{"id": i, "v": i % 97} for i in range(n)])
    db = tmp_path / "out.sqlite"
    pipe = write_pipeline(
        tmp_path / "p.yaml",
        kafka_broker,
        topic_in,
        {
            "db": {"type": "sqlite_upsert", "path": str(db), "key": ["id"]},
            "topic": kafka_out(kafka_broker, topic_out),
        },
        group=unique_topic("g"),
        max_rows=max_rows,
    )
    home = str(tmp_path / "h")

    def start(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(HERE / "upsert_worker.py"), str(pipe), home, *extra],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def rows() -> int:
        if not db.exists():
            return 0
        try:
            with sqlite3.connect(db, timeout=5) as conn:
                return int(conn.execute("SELECT count(*) FROM rows").fetchone()[0])
        except sqlite3.OperationalError:  # the table is not created yet
            return 0

    at_kill = []
    for _ in range(kills):
        proc = start()
        before = rows()
        wait_for(
            lambda p=proc, b=before: rows() >= b + 8_000 or p.poll() is not None,
            90,
            "progress",
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        at_kill.append(rows())
    assert at_kill[-1] < n, "the crashes must land mid-stream"
    final = start("1.0")
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err[-2000:]

    with sqlite3.connect(db) as conn:
        ids = [r[0] for r in conn.execute("SELECT id FROM rows ORDER BY id")]
        v2 = conn.execute("SELECT sum(v2) FROM rows").fetchone()[0]
    assert ids == list(range(n))  # idempotent sink: every record exactly once
    assert v2 == sum((i % 97) * 2 for i in range(n))
    out = drain(kafka_broker, topic_out)["id"].to_list()
    assert set(out) == set(range(n))  # plain topic: at least once
    duplicates = len(out) - n
    in_flight = 8  # the executor's default max_in_flight, plus the batch being written
    assert 0 <= duplicates <= kills * (in_flight + 1) * max_rows  # bounded per crash


def test_second_worker_shares_the_partitions(kafka_broker: str, tmp_path: Path) -> None:
    n = 40_000
    topic_in = create_topic(kafka_broker, unique_topic("in"), partitions=4)
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    pipe = write_pipeline(
        tmp_path / "p.yaml",
        kafka_broker,
        topic_in,
        {"out": kafka_out(kafka_broker, topic_out)},
        group=unique_topic("g"),
        max_rows=500,
    )

    def feed() -> None:  # a steady stream over ~10 s
        for k in range(40):
            produce(
                kafka_broker,
                topic_in,
                [{"id": i, "v": i} for i in range(k * n // 40, (k + 1) * n // 40)],
            )
            time.sleep(0.25)

    feeder = threading.Thread(target=feed)
    first = worker(str(pipe), "--drain", "3", "--home", str(tmp_path / "a"), cwd=tmp_path)
    feeder.start()
    time.sleep(4)
    second = worker(str(pipe), "--drain", "3", "--home", str(tmp_path / "b"), cwd=tmp_path)
    feeder.join()
    _, err_a = first.communicate(timeout=120)
    _, err_b = second.communicate(timeout=120)
    assert first.returncode == 0, err_a[-2000:]
    assert second.returncode == 0, err_b[-2000:]
    read_b = int(re.search(r"read ([\d,]+)", err_b).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert 0 < read_b < n  # the newcomer took a share, the first worker the rest
    out = drain(kafka_broker, topic_out)["id"].to_list()
    assert set(out) == set(range(n))  # nothing lost across the rebalance


def test_sigkill_with_state_neither_loses_nor_double_counts(
    kafka_broker: str, tmp_path: Path
) -> None:
    n, kills = 30_000, 2
    topic_in = create_topic(kafka_broker, unique_topic("in"), partitions=2)
    records = [{"id": i, "v": i % 13} for i in range(n)]
    produce(kafka_broker, topic_in, records, key="id")
    db = tmp_path / "totals.sqlite"
    doc = {
        "name": "wk_state",
        "inputs": {
            "in": {
                "type": "kafka",
                "brokers": kafka_broker,
                "topic": topic_in,
                "group": unique_topic("g"),
                "schema": {"id": "int64", "v": "int64"},
                "max_rows": 300,
                "max_wait_ms": 100,
                "options": FAST,
            }
        },
        # running totals per key, upserted: the final table must equal a batch group-by
        "steps": [
            {"kind": "derive", "columns": {"k": "id % 50"}},
            {"kind": "aggregate", "by": ["k"], "aggs": {"total": "sum(v)", "n": "count(*)"}},
        ],
        "outputs": {"db": {"type": "sqlite_upsert", "path": str(db), "key": ["k"]}},
    }
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(doc))
    home = str(tmp_path / "h")
    store_db = tmp_path / "h" / "ocht.db"

    def start(*extra: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, str(HERE / "upsert_worker.py"), str(pipe), home, *extra],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )

    def saved() -> int:
        # records covered by the per-partition checkpoints in the run store
        if not store_db.exists():
            return 0
        try:
            with sqlite3.connect(store_db, timeout=5) as conn:
                row = conn.execute(
                    "SELECT sum(next_offset) FROM ocht_stream_checkpoints"
                ).fetchone()
        except sqlite3.Error:
            return 0
        return int(row[0] or 0)

    for _ in range(kills):
        proc = start()
        before = saved()
        wait_for(
            lambda p=proc, b=before: saved() >= b + 3600 or p.poll() is not None, 90, "checkpoints"
        )
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    final = start("1.0")
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err[-2000:]
    with sqlite3.connect(db) as conn:
        got = {k: (t, c) for k, t, c in conn.execute("SELECT k, total, n FROM rows")}
    expected: dict[int, tuple[int, int]] = {}
    for r in records:
        t, c = expected.get(r["id"] % 50, (0, 0))
        expected[r["id"] % 50] = (t + r["v"], c + 1)
    assert got == expected
