"""File outputs in stream mode: rolling part files in a folder, published only once their
offsets are committed — the batch answer, every row once across SIGKILLs, staging swept."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from ocht.errors import InvalidPipeline
from ocht.testkit import ORDERS_SCHEMA, assert_same_rows, orders, run_pipeline, stream_pipeline
from ocht.testkit.broker import FAST_GROUP, create_topic, produce_spread, unique_topic

pytestmark = pytest.mark.kafka
HERE = Path(__file__).parent
DERIVE = {"kind": "derive", "columns": {"gross": "amount * 1.2"}}
WINDOW = {
    "kind": "aggregate",
    "by": ["country"],
    "aggs": {"total": "sum(amount)", "n": "count(*)"},
    "window": {"column": "ts", "every": "1d"},
}
READ = {
    "parquet": lambda p: pl.read_parquet(p),
    "csv": lambda p: pl.read_csv(p, try_parse_dates=True),
    "ndjson": lambda p: pl.read_ndjson(p).with_columns(pl.col("ts").str.to_datetime()),
}


def kafka_input(broker: str, topic: str, *, max_rows: int = 200) -> dict[str, Any]:
    return {
        "type": "kafka",
        "brokers": broker,
        "topic": topic,
        "group": unique_topic("g"),
        "schema": ORDERS_SCHEMA,
        "max_rows": max_rows,
        "max_wait_ms": 100,
        "options": FAST_GROUP,
    }


def parts(folder: Path, fmt: str) -> list[Path]:
    return sorted(folder.glob(f"*.{fmt}"))


def read_parts(folder: Path, fmt: str) -> pl.DataFrame:
    frames = [READ[fmt](p) for p in parts(folder, fmt)]
    return pl.concat(frames, how="vertical_relaxed") if frames else pl.DataFrame()


def batch_answer(data: pl.DataFrame, steps: list[dict[str, Any]], tmp: Path) -> pl.DataFrame:
    src = tmp / "orders.ndjson"
    data.write_ndjson(src)
    out = tmp / "batch.parquet"
    run_pipeline(
        {
            "name": "batch",
            "inputs": {"orders": {"type": "ndjson", "path": str(src), "schema": ORDERS_SCHEMA}},
            "steps": steps,
            "outputs": {"out": {"type": "parquet", "path": str(out)}},
        },
        home=tmp / "bh",
    )
    return pl.read_parquet(out)


@pytest.mark.parametrize("fmt", ["parquet", "csv", "ndjson"])
def test_a_stream_into_a_folder_gives_the_batch_rows(
    kafka_broker: str, tmp_path: Path, fmt: str
) -> None:
    data = orders(1500)
    topic = create_topic(kafka_broker, unique_topic("in"), partitions=3)
    produce_spread(kafka_broker, topic, data, partitions=3)
    folder = tmp_path / "out" / "orders"
    doc = {
        "name": f"to_{fmt}",
        "inputs": {"orders": kafka_input(kafka_broker, topic)},
        "steps": [DERIVE],
        "outputs": {"out": {"type": fmt, "path": str(folder), "roll_rows": 400}},
    }
    result = stream_pipeline(doc, home=tmp_path / "h", idle_stop_s=1.0)
    assert [(o.name, o.rows) for o in result.outputs] == [("out", 1500)]
    found = parts(folder, fmt)
    assert len(found) >= 3  # rolled by roll_rows
    assert all(p.name.startswith("part-") for p in found)
    assert_same_rows(batch_answer(data, [DERIVE], tmp_path), read_parts(folder, fmt))
    staging = tmp_path / "out" / ".ocht-tmp"
    assert not staging.exists()  # a clean stop leaves nothing staged


def test_a_windowed_aggregate_streams_into_parquet_parts(kafka_broker: str, tmp_path: Path) -> None:
    data = orders(2000)
    topic = create_topic(kafka_broker, unique_topic("in"), partitions=2)
    produce_spread(kafka_broker, topic, data, partitions=2)
    folder = tmp_path / "w"
    doc = {
        "name": "windows",
        "inputs": {"orders": kafka_input(kafka_broker, topic)},
        "steps": [WINDOW],
        "outputs": {"out": {"type": "parquet", "path": str(folder), "roll_rows": 5}},
    }
    stream_pipeline(doc, home=tmp_path / "h", idle_stop_s=1.0)
    assert_same_rows(batch_answer(data, [WINDOW], tmp_path), read_parts(folder, "parquet"))


def test_open_parts_are_published_when_the_stream_stops(kafka_broker: str, tmp_path: Path) -> None:
    data = orders(300)
    topic = create_topic(kafka_broker, unique_topic("in"))
    produce_spread(kafka_broker, topic, data, partitions=1)
    folder = tmp_path / "o"
    doc = {
        "name": "stop",
        "inputs": {"orders": kafka_input(kafka_broker, topic, max_rows=100)},
        "outputs": {"out": {"type": "ndjson", "path": str(folder)}},  # default roll: 1M rows
    }
    stream_pipeline(doc, home=tmp_path / "h", max_batches=2)
    got = read_parts(folder, "ndjson")
    assert got.height == 200  # the two committed batches, in the one part the stop closed
    assert len(parts(folder, "ndjson")) == 1
    stream_pipeline(doc, home=tmp_path / "h", idle_stop_s=1.0)  # the rest, once
    assert sorted(read_parts(folder, "ndjson")["order_id"]) == list(range(1, 301))


def run_worker(
    pipe: Path,
    home: Path,
    *,
    kill_at: int = 0,
    drain: float | None = None,
    kill_after: float | None = None,
    folder: Path | None = None,
) -> int:
    """The worker in its own process: killed at its ``kill_at``-th offset commit (right
    after the checkpoint transaction), or by SIGKILL ``kill_after`` seconds after its first
    staged rows, or left to drain."""
    args = [
        sys.executable,
        str(HERE / "kill_between_commits.py"),
        str(pipe),
        str(home),
        str(kill_at),
    ]
    if drain is not None:
        args.append(str(drain))
    before = set(folder.parent.glob(".ocht-tmp/stream-*/*")) if folder is not None else set()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if kill_after is not None:
        assert folder is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            staged = {c.parent for c in folder.parent.glob(".ocht-tmp/stream-*/*/chunk-*")}
            if staged - before:
                break  # this worker stages rows: the stream is under way
            time.sleep(0.02)
        time.sleep(kill_after)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    _, err = proc.communicate(timeout=120)
    if proc.returncode not in (0, -9):
        raise AssertionError(err[-3000:])
    return proc.returncode


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


class Watcher:
    """Reads every visible part, whole, again and again while a worker runs."""

    def __init__(self, folder: Path, fmt: str) -> None:
        self.folder, self.fmt = folder, fmt
        self.errors: list[str] = []
        self.looks = 0
        self._stop = False
        import threading

        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self._stop:
            for name in os.listdir(self.folder) if self.folder.exists() else []:
                path = self.folder / name
                if not name.startswith("part-") or not name.endswith(f".{self.fmt}"):
                    self.errors.append(f"not a part: {name}")
                    continue
                try:
                    READ[self.fmt](path)
                except FileNotFoundError:
                    pass  # cannot happen (parts are never removed); would show below
                except Exception as exc:  # a partial or corrupt file is visible
                    self.errors.append(f"{name}: {exc}")
            self.looks += 1
            time.sleep(0.005)

    def stop(self) -> None:
        self._stop = True
        self.thread.join()


@pytest.mark.parametrize("fmt", ["parquet", "ndjson"])
def test_sigkill_at_random_points_publishes_every_row_exactly_once(
    kafka_broker: str, tmp_path: Path, fmt: str
) -> None:
    data = orders(6000)
    topic = create_topic(kafka_broker, unique_topic("in"), partitions=3)
    produce_spread(kafka_broker, topic, data, partitions=3)
    folder = tmp_path / "out" / "orders"
    doc = {
        "name": f"killed_{fmt}",
        "inputs": {"orders": kafka_input(kafka_broker, topic, max_rows=40)},
        "steps": [DERIVE],
        "outputs": {"out": {"type": fmt, "path": str(folder), "roll_rows": 150}},
    }
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(doc))
    home = tmp_path / "h"
    rng = random.Random(20261202)
    watcher = Watcher(folder, fmt)
    kills = 0
    try:
        for _ in range(4):
            code = run_worker(pipe, home, kill_after=rng.uniform(0.0, 0.6), folder=folder)
            kills += code == -9
            print(
                "DBG",
                code,
                len(parts(folder, fmt)),
                len(list(folder.parent.glob(".ocht-tmp/stream-*/*/*"))),
            )
            left = list(folder.parent.glob(".ocht-tmp/stream-*/*/*"))
            assert left or code == 0  # a killed worker leaves its staging behind
        assert run_worker(pipe, home, drain=1.0) == 0
    finally:
        watcher.stop()
    assert kills >= 2
    assert watcher.errors == [] and watcher.looks > 10
    got = read_parts(folder, fmt)
    assert got.height == 6000 and got["order_id"].n_unique() == 6000  # none lost, none twice
    assert_same_rows(batch_answer(data, [DERIVE], tmp_path), got)
    assert not list(folder.parent.glob(".ocht-tmp/stream-*/*"))  # staging swept


def test_a_kill_between_the_offsets_and_the_rename_publishes_on_restart(
    kafka_broker: str, tmp_path: Path
) -> None:
    data = orders(1000)
    topic = create_topic(kafka_broker, unique_topic("in"), partitions=2)
    produce_spread(kafka_broker, topic, data, partitions=2)
    folder = tmp_path / "o"
    doc = {
        "name": "between",
        "inputs": {"orders": kafka_input(kafka_broker, topic, max_rows=100)},
        "outputs": {"out": {"type": "csv", "path": str(folder), "roll_rows": 300}},
    }
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(doc))
    home = tmp_path / "h"
    # killed right after the checkpoint transaction of its 3rd batch: a part is ready
    # (its offsets saved) but not renamed yet
    assert run_worker(pipe, home, kill_at=3) == -9
    staged = list(folder.parent.glob(".ocht-tmp/stream-*/*/part-*.csv"))
    assert staged and not parts(folder, "csv")
    # leftovers of another dead process and uncommitted junk in the killed run's folder
    root = staged[0].parent.parent
    junk = root / "20000101T000000-dead00"
    junk.mkdir()
    dead_pid = _dead_pid()  # a process that is gone
    (junk / ".owner").write_text(f"{socket.gethostname()}\n{dead_pid}\n")
    orders(5).write_ipc(junk / "chunk-000001.arrow")
    (staged[0].parent / "part-x-000009.csv.tmp").write_text("order_id\n1\n")
    assert run_worker(pipe, home, drain=1.0) == 0
    got = read_parts(folder, "csv")
    assert sorted(got["order_id"]) == list(range(1, 1001))  # exactly once
    assert not root.exists() or not any(root.iterdir())  # swept


def test_a_bad_roll_option_is_refused_with_a_stable_code(tmp_path: Path) -> None:
    doc = {
        "name": "bad",
        "inputs": {"orders": kafka_input("127.0.0.1:1", "x")},
        "outputs": {"out": {"type": "parquet", "path": str(tmp_path / "o"), "roll_rows": 0}},
    }
    with pytest.raises(InvalidPipeline) as err:
        stream_pipeline(doc, home=tmp_path)
    assert err.value.code == "invalid-value"  # the one issue's code
    assert [(i.code, i.path) for i in err.value.issues] == [
        ("invalid-value", "outputs.out.roll_rows")
    ]


def test_a_file_path_is_refused_for_a_stream_output(kafka_broker: str, tmp_path: Path) -> None:
    target = tmp_path / "out.parquet"
    target.write_bytes(b"PAR1")
    doc = {
        "name": "file",
        "inputs": {"orders": kafka_input(kafka_broker, unique_topic("x"))},
        "outputs": {"out": {"type": "parquet", "path": str(target)}},
    }
    with pytest.raises(InvalidPipeline) as err:
        stream_pipeline(doc, home=tmp_path / "h")
    assert [i.code for i in err.value.issues] == ["stream-output-not-folder"]
