"""Stream benchmark: Kafka -> (filter, derive) -> Kafka, Ocht against a hand-written loop
and Quix Streams, through the same Tansu broker in the same run.

    uv run python bench/stream_kafka.py                      # 1M records
    uv run python bench/stream_kafka.py --records 200000 --quix-python /path/to/python

Each engine runs as its own process on the same input topic (a fresh consumer group and
output topic each), so peak RSS is per engine. Throughput is records read divided by the
time from the first non-empty poll to the last committed write (group joins excluded).
CPU is the engine process's own (all its threads, from ``time.process_time``): the whole
run, and per record after the first batch (start-up and the group join left out), which
a loaded machine disturbs far less than throughput. ``--rounds`` alternates the engines.

Engines:
  raw       consume only (the broker/client ceiling on this machine)
  hand      hand-written confluent-kafka + Polars micro-batch loop: consume(10000) ->
            read_ndjson -> expressions -> write_ndjson -> produce (idempotent producer,
            flush at the end, async offset commit per batch)
  ocht      ocht.executor.Runner.stream on the same pipeline, as the worker runs it
            (every record's delivery confirmed before its batch's offsets are committed)
  quix      Quix Streams 3 (needs a Python with quixstreams: --quix-python, or it is
            installed into ~/.cache/ocht-bench/quix with uv; skipped if that fails)

Then the stateful part (``--stateful-records``, keyed by country, 1 ms apart): a
tumbling 10 s window per country (sum, count) in Ocht and in Quix Streams, and the same
pipeline on a two-partition topic with one Ocht worker against two of one group.

Then latency: an ocht-worker process at ~10k records/s, end to end (produce time in the
record -> read back from the output topic), p50 and p99.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve()
FAST = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 1000}
WHERE = "amount > 100"


def rss_mb() -> float:
    """This process's peak RSS (VmHWM: unlike ru_maxrss it is not inherited across exec)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- children ----------------------------------------------------------------------------
def child_raw(bs: str, topic: str, _out: str, n: int) -> dict[str, Any]:
    from confluent_kafka import Consumer

    c = Consumer(
        {
            "bootstrap.servers": bs,
            "group.id": f"raw-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "fetch.queue.backoff.ms": 1,
            **FAST,
        }
    )
    c.subscribe([topic])
    got, t0 = 0, None
    cpu0 = time.process_time()
    while got < n:
        start = time.perf_counter()
        msgs = c.consume(10_000, timeout=0.5)
        ok = [m.value() for m in msgs if m.error() is None]
        if ok and t0 is None:
            t0 = start
            cpu1, first = time.process_time(), len(ok)
        got += len(ok)
    seconds = time.perf_counter() - (t0 or 0)
    end = time.process_time()
    c.close()
    return {
        "records": got,
        "seconds": seconds,
        "cpu_s": end - cpu0,
        "loop_cpu_us": (end - cpu1) / (got - first) * 1e6,
    }


def child_hand(bs: str, topic: str, out: str, n: int) -> dict[str, Any]:
    import io

    import polars as pl
    from confluent_kafka import Consumer, Message, Producer

    c = Consumer(
        {
            "bootstrap.servers": bs,
            "group.id": f"hand-{uuid.uuid4()}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
            "fetch.queue.backoff.ms": 1,
            **FAST,
        }
    )
    p = Producer(
        {
            "bootstrap.servers": bs,
            "enable.idempotence": True,
            "linger.ms": 5,
            "batch.num.messages": 10_000,
        }
    )
    c.subscribe([topic])
    value, error = Message.value, Message.error
    got, t0, written = 0, None, 0
    cpu0 = time.process_time()
    while got < n:
        start = time.perf_counter()
        msgs = c.consume(10_000, timeout=0.5)
        if any(map(error, msgs)):
            msgs = [m for m in msgs if m.error() is None]
        values = list(map(value, msgs))
        if not values:
            continue
        if t0 is None:
            t0 = start
        df = pl.read_ndjson(io.BytesIO(b"\n".join(values)))
        res = df.filter(pl.col("amount") > 100).with_columns(
            (pl.col("amount") * 0.92).alias("amount_eur"), (pl.col("amount") > 400).alias("big")
        )
        buf = io.BytesIO()
        res.write_ndjson(buf)
        for line in buf.getvalue().split(b"\n")[: res.height]:
            while True:
                try:
                    p.produce(out, line)
                    break
                except BufferError:
                    p.poll(0.01)
        p.poll(0)
        c.commit(asynchronous=True)
        if not got:
            cpu1, first = time.process_time(), len(values)
        got += len(values)
        written += res.height
    p.flush(60)
    seconds = time.perf_counter() - (t0 or 0)
    end = time.process_time()
    c.close()
    return {
        "records": got,
        "written": written,
        "seconds": seconds,
        "cpu_s": end - cpu0,
        "loop_cpu_us": (end - cpu1) / (got - first) * 1e6,
    }


def child_ocht(bs: str, topic: str, out: str, n: int) -> dict[str, Any]:
    from ocht.executor import Runner, RunRequest, RunServices

    doc = {
        "name": "bench_stream",
        "inputs": {
            "events": {
                "type": "kafka",
                "brokers": bs,
                "topic": topic,
                "group": f"ocht-{uuid.uuid4()}",
                "max_rows": 10_000,
                "schema": {
                    "id": "int64",
                    "user": "string",
                    "country": "string",
                    "amount": "float64",
                    "ts": "string",
                    "status": "string",
                },
                "options": FAST,
            }
        },
        "steps": [
            {"kind": "filter", "where": WHERE},
            {"kind": "derive", "columns": {"amount_eur": "amount * 0.92", "big": "amount > 400"}},
        ],
        "outputs": {"out": {"type": "kafka", "brokers": bs, "topic": out}},
    }
    marks: list[tuple[float, float, float, int]] = []
    home = tempfile.mkdtemp(prefix="ocht-bench-")
    request = RunRequest(
        doc, drain=1.0, max_in_flight=int(os.environ.get("OCHT_BENCH_INFLIGHT", "8"))
    )
    cpu0 = time.process_time()
    result = Runner(RunServices(home=home)).stream(
        request,
        on_batch=lambda r: marks.append(
            (time.perf_counter(), r.seconds, time.process_time(), r.records)
        ),
    )
    cpu = time.process_time() - cpu0
    shutil.rmtree(home, ignore_errors=True)
    t0 = marks[0][0] - marks[0][1]
    return {
        "records": result.rows_read,
        "written": result.rows_written,
        "seconds": marks[-1][0] - t0,
        "batches": result.batches,
        "cpu_s": cpu,
        "loop_cpu_us": loop_cpu(marks),
    }


def loop_cpu(marks: list[tuple[float, float, float, int]]) -> float:
    """CPU microseconds per record after the first batch (start-up and group join left
    out), from ``(wall, seconds, process CPU, records)`` marks of committed batches."""
    busy = [m for m in marks if m[3]]
    records = sum(m[3] for m in busy[1:])
    return (busy[-1][2] - busy[0][2]) / max(1, records) * 1e6


def child_quix(bs: str, topic: str, out: str, n: int) -> dict[str, Any]:
    from quixstreams import Application

    app = Application(
        broker_address=bs,
        consumer_group=f"quix-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        consumer_extra_config={"fetch.queue.backoff.ms": 1, **FAST},
    )
    tin = app.topic(topic, value_deserializer="json")
    tout = app.topic(out, value_serializer="json")
    seen = {"n": 0, "t0": 0.0, "t1": 0.0}

    def count(_row: Any) -> None:
        if seen["n"] == 0:
            seen["t0"] = time.perf_counter()
            seen["cpu1"] = time.process_time()
        seen["n"] += 1
        if seen["n"] >= n:
            seen["t1"] = time.perf_counter()
            app.stop()

    sdf = app.dataframe(tin)
    sdf = sdf.update(count)
    sdf = sdf.filter(lambda r: r["amount"] > 100)
    sdf["amount_eur"] = sdf["amount"] * 0.92
    sdf["big"] = sdf["amount"] > 400
    sdf.to_topic(tout)
    cpu0 = time.process_time()
    app.run()
    end = time.perf_counter()  # after the last outputs are flushed and offsets committed
    cpu = time.process_time()
    return {
        "records": seen["n"],
        "seconds": end - seen["t0"],
        "cpu_s": cpu - cpu0,
        "loop_cpu_us": (cpu - seen["cpu1"]) / seen["n"] * 1e6,
    }


WINDOW_S = 10


def child_ocht_window(bs: str, topic: str, out: str, n: int) -> dict[str, Any]:
    """A tumbling 10 s window per country: sum and count (event time from ``ts``)."""
    from ocht.executor import Runner, RunRequest, RunServices

    doc = {
        "name": "bench_window",
        "inputs": {
            "events": {
                "type": "kafka",
                "brokers": bs,
                "topic": topic,
                "group": os.environ.get("OCHT_BENCH_GROUP") or f"ocht-{uuid.uuid4()}",
                "max_rows": 10_000,
                "schema": {
                    "id": "int64",
                    "country": "string",
                    "amount": "float64",
                    "ts": "datetime",
                },
                "partitioned_by": ["country"],
                "options": FAST,
            }
        },
        "steps": [
            {
                "kind": "aggregate",
                "by": ["country"],
                "aggs": {"total": "sum(amount)", "n": "count(*)"},
                "window": {"column": "ts", "every": f"{WINDOW_S}s"},
            }
        ],
        "outputs": {"out": {"type": "kafka", "brokers": bs, "topic": out}},
    }
    marks: list[tuple[float, float, float, int]] = []
    home = tempfile.mkdtemp(prefix="ocht-bench-")
    cpu0 = time.process_time()
    result = Runner(RunServices(home=home)).stream(
        RunRequest(doc, drain=2.0),
        on_batch=lambda r: marks.append(
            (time.perf_counter(), r.seconds, time.process_time(), r.records)
        ),
    )
    cpu = time.process_time() - cpu0
    shutil.rmtree(home, ignore_errors=True)
    busy = [m for m in marks if m[1] > 0]
    t0 = busy[0][0] - busy[0][1]
    return {
        "records": result.rows_read,
        "written": result.rows_written,
        "seconds": busy[-1][0] - t0,
        "batches": result.batches,
        "cpu_s": cpu,
        "loop_cpu_us": loop_cpu(marks),
    }


def child_quix_window(bs: str, topic: str, out: str, n: int) -> dict[str, Any]:
    """Quix Streams' tumbling window on the message key (country), sum and count."""
    from datetime import datetime, timedelta

    from quixstreams import Application
    from quixstreams.dataframe.windows import Count, Sum
    from quixstreams.models.topics.manager import TopicManager

    derive = TopicManager.derive_topic_config

    def with_retention(topics: Any) -> Any:
        # Tansu reports no retention.ms, which Quix reads to configure its state topics
        for t in topics:
            if t.broker_config is not None:
                t.broker_config.extra_config.setdefault("retention.ms", "604800000")
        return derive(topics)

    TopicManager.derive_topic_config = staticmethod(with_retention)  # type: ignore[method-assign]

    def event_time(value: Any, _headers: Any, _ts: float, _kind: Any) -> int:
        return int(datetime.fromisoformat(value["ts"]).timestamp() * 1000)

    app = Application(
        broker_address=bs,
        consumer_group=f"quix-{uuid.uuid4()}",
        auto_offset_reset="earliest",
        consumer_extra_config={"fetch.queue.backoff.ms": 1, **FAST},
        state_dir=tempfile.mkdtemp(prefix="quix-state-"),
    )
    tin = app.topic(topic, value_deserializer="json", timestamp_extractor=event_time)
    tout = app.topic(out, value_serializer="json")
    seen = {"n": 0, "t0": 0.0}

    def count(_row: Any) -> None:
        if seen["n"] == 0:
            seen["t0"] = time.perf_counter()
            seen["cpu1"] = time.process_time()
        seen["n"] += 1
        if seen["n"] >= n:
            app.stop()

    sdf = app.dataframe(tin).update(count)
    sdf = (
        sdf.tumbling_window(timedelta(seconds=WINDOW_S)).agg(total=Sum("amount"), n=Count()).final()
    )
    sdf.to_topic(tout)
    cpu0 = time.process_time()
    app.run()
    cpu = time.process_time()
    return {
        "records": seen["n"],
        "seconds": time.perf_counter() - seen["t0"],
        "cpu_s": cpu - cpu0,
        "loop_cpu_us": (cpu - seen["cpu1"]) / seen["n"] * 1e6,
    }


CHILDREN = {
    "raw": child_raw,
    "hand": child_hand,
    "ocht": child_ocht,
    "quix": child_quix,
    "ocht_window": child_ocht_window,
    "quix_window": child_quix_window,
}


def child_main(argv: list[str]) -> None:
    kind, bs, topic, out, n = argv[0], argv[1], argv[2], argv[3], int(argv[4])
    res = CHILDREN[kind](bs, topic, out, n)
    res["rss_mb"] = rss_mb()
    print("RESULT " + json.dumps(res), flush=True)


# -- driver ------------------------------------------------------------------------------
def make_records(n: int) -> list[bytes]:
    import polars as pl

    df = pl.DataFrame({"id": range(n)}).with_columns(
        pl.format("u{}", (pl.col("id") * 7919 % 100_000).cast(pl.String).str.zfill(8)).alias(
            "user"
        ),
        pl.Series("country", ["DE", "FR", "NL", "IE", "ES"] * (n // 5 + 1))[:n],
        ((pl.col("id") * 37 % 50_000) / 100).alias("amount"),
        pl.lit("2024-01-01T10:00:00.123").alias("ts"),
        pl.Series("status", ["paid", "paid", "refunded", "pending"] * (n // 4 + 1))[:n],
    )
    return df.write_ndjson().encode().split(b"\n")[:n]


def make_events(n: int) -> list[tuple[bytes, bytes]]:
    """(key, value) records for the windowed runs: keyed by country, 1 ms apart."""
    import polars as pl

    df = pl.DataFrame({"id": range(n)}).with_columns(
        pl.Series("country", ["DE", "FR", "NL", "IE", "ES"] * (n // 5 + 1))[:n],
        ((pl.col("id") * 37 % 50_000) / 100).alias("amount"),
        (pl.datetime(2024, 1, 1) + pl.duration(milliseconds=pl.col("id")))
        .dt.strftime("%Y-%m-%dT%H:%M:%S%.3f")
        .alias("ts"),
    )
    values = df.write_ndjson().encode().split(b"\n")[:n]
    return [(c.encode(), v) for c, v in zip(df["country"].to_list(), values, strict=True)]


def produce_keyed(bs: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    from confluent_kafka import Producer

    p = Producer(
        {
            "bootstrap.servers": bs,
            "linger.ms": 20,
            "batch.num.messages": 100_000,
            "queue.buffering.max.messages": 2_000_000,
        }
    )
    for k, v in records:
        while True:
            try:
                p.produce(topic, v, key=k)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(120)


def stateful(bs: str, n: int, quix: str | None) -> None:
    """A windowed aggregate (Ocht vs Quix Streams), and two Ocht workers vs one."""
    from ocht.testkit import create_topic, unique_topic

    events = make_events(n)
    topic = create_topic(bs, unique_topic("win-in"))
    produce_keyed(bs, topic, events)
    rates: dict[str, float] = {}
    for kind, python in (("ocht_window", sys.executable), ("quix_window", quix)):
        if python is None:
            print(f"{kind}: skipped (no quixstreams)")
            continue
        res = run_child(python, kind, bs, topic, n)
        if res is not None:
            rates[kind] = res["records"] / res["seconds"]
            print(
                f"{kind:11s}: {rates[kind]:>11,.0f} records/s ({res['records']:,} records, "
                f"CPU {res['loop_cpu_us']:.2f} us/record)"
            )
    if len(rates) == 2:
        print(f"ocht / quix (tumbling window): {rates['ocht_window'] / rates['quix_window']:.2f}x")
    # scale out: the same windowed pipeline, one worker vs two in one group, 2 partitions
    two = create_topic(bs, unique_topic("win2-in"), partitions=2)
    produce_keyed(bs, two, events)
    one = run_child(sys.executable, "ocht_window", bs, two, n)
    group = f"ocht-{uuid.uuid4()}"
    env = {**os.environ, "OCHT_BENCH_GROUP": group}
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(HERE),
                "--child",
                "ocht_window",
                bs,
                two,
                create_topic(bs, unique_topic("out-x2")),
                str(n),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    t0 = time.perf_counter()
    outs = [p.communicate(timeout=1200)[0] for p in procs]
    wall = time.perf_counter() - t0
    got = [
        json.loads(line[7:]) for o in outs for line in o.splitlines() if line.startswith("RESULT ")
    ]
    if one is not None and len(got) == 2:
        r1 = one["records"] / one["seconds"]
        # the pair's throughput: all records over the span of the slower worker
        r2 = sum(g["records"] for g in got) / max(g["seconds"] for g in got)
        print(f"one worker, 2 partitions : {r1:>11,.0f} records/s")
        print(
            f"two workers, 2 partitions: {r2:>11,.0f} records/s ({[g['records'] for g in got]} "
            f"records each, wall {wall:.1f} s incl. group joins)"
        )
        print(f"two / one: {r2 / r1:.2f}x")


def produce_all(bs: str, topic: str, values: list[bytes]) -> float:
    from confluent_kafka import Producer

    p = Producer(
        {
            "bootstrap.servers": bs,
            "linger.ms": 20,
            "batch.num.messages": 100_000,
            "queue.buffering.max.messages": 2_000_000,
            "enable.idempotence": True,
        }
    )
    t0 = time.perf_counter()
    for v in values:
        while True:
            try:
                p.produce(topic, v)
                break
            except BufferError:
                p.poll(0.01)
    p.flush(120)
    return time.perf_counter() - t0


def run_child(python: str, kind: str, bs: str, topic: str, n: int) -> dict[str, Any] | None:
    from ocht.testkit import create_topic, unique_topic

    out = create_topic(bs, unique_topic(f"out-{kind}"))
    proc = subprocess.run(
        [python, str(HERE), "--child", kind, bs, topic, out, str(n)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            res: dict[str, Any] = json.loads(line[7:])
            return res
    print(f"  {kind} failed:\n{proc.stderr[-1500:]}", file=sys.stderr)
    return None


def quix_python(given: str | None) -> str | None:
    if given:
        return given
    env = Path.home() / ".cache" / "ocht-bench" / "quix"
    py = env / "bin" / "python"
    if not py.exists() and shutil.which("uv"):
        subprocess.run(["uv", "venv", "-q", str(env)], check=False)
        subprocess.run(
            ["uv", "pip", "install", "-q", "--python", str(py), "quixstreams"], check=False
        )
    if (
        py.exists()
        and subprocess.run([str(py), "-c", "import quixstreams"], capture_output=True).returncode
        == 0
    ):
        return str(py)
    return None


def latency(bs: str, rate: int, seconds: float) -> dict[str, float]:
    """p50/p99 end to end through an ocht-worker process at ``rate`` records/s."""
    import yaml
    from confluent_kafka import Consumer, Producer

    from ocht.testkit import create_topic, unique_topic

    tin = create_topic(bs, unique_topic("lat-in"))
    tout = create_topic(bs, unique_topic("lat-out"))
    work = Path(tempfile.mkdtemp(prefix="ocht-lat-"))
    doc = {
        "name": "bench_latency",
        "inputs": {
            "events": {
                "type": "kafka",
                "brokers": bs,
                "topic": tin,
                "group": f"lat-{uuid.uuid4()}",
                "schema": {"id": "int64", "amount": "float64", "sent_ns": "int64"},
                "options": FAST,
            }
        },
        "steps": [
            {"kind": "filter", "where": "amount >= 0"},
            {"kind": "derive", "columns": {"amount_eur": "amount * 0.92"}},
        ],
        "outputs": {"out": {"type": "kafka", "brokers": bs, "topic": tout}},
    }
    (work / "p.yaml").write_text(yaml.safe_dump(doc))
    worker = subprocess.Popen(
        [sys.executable, "-m", "ocht.worker.main", "run", "p.yaml", "--home", str(work / "h")],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lat: list[float] = []
    stop = threading.Event()

    def read() -> None:
        c = Consumer(
            {
                "bootstrap.servers": bs,
                "group.id": f"m-{uuid.uuid4()}",
                "auto.offset.reset": "earliest",
                "fetch.queue.backoff.ms": 1,
                "fetch.wait.max.ms": 10,
                **FAST,
            }
        )
        c.subscribe([tout])
        while not stop.is_set():
            for m in c.consume(1000, timeout=0.05):
                if m.error() is None:
                    now = time.time_ns()
                    rec = json.loads(m.value() or b"{}")
                    if rec.get("id", -1) >= 0:
                        lat.append((now - rec["sent_ns"]) / 1e6)
        c.close()

    reader = threading.Thread(target=read)
    reader.start()
    p = Producer({"bootstrap.servers": bs, "linger.ms": 1})
    try:
        # warm up until the worker and the reader have joined
        deadline = time.monotonic() + 60
        while not lat and time.monotonic() < deadline:
            p.produce(tin, json.dumps({"id": 0, "amount": 1.0, "sent_ns": time.time_ns()}).encode())
            p.flush(5)
            time.sleep(0.5)
        lat.clear()
        per_tick = rate // 100
        t0 = time.perf_counter()
        i = 1
        while time.perf_counter() - t0 < seconds:
            for _ in range(per_tick):
                p.produce(
                    tin,
                    json.dumps(
                        {"id": i, "amount": float(i % 500), "sent_ns": time.time_ns()}
                    ).encode(),
                )
                i += 1
            p.poll(0)
            time.sleep(max(0.0, t0 + (i / rate) - time.perf_counter()))
        p.flush(10)
        time.sleep(2)
    finally:
        stop.set()
        reader.join()
        worker.terminate()
        worker.wait(30)
        shutil.rmtree(work, ignore_errors=True)
    lat.sort()
    return {
        "records": len(lat),
        "sent": i - 1,
        "p50_ms": statistics.median(lat),
        "p99_ms": lat[int(len(lat) * 0.99) - 1],
        "max_ms": lat[-1],
    }


def summary(runs: dict[str, list[dict[str, Any]]]) -> None:
    """Medians over the rounds: throughput, CPU per record, and Ocht's ratios."""
    rate = {k: statistics.median(r["records"] / r["seconds"] for r in v) for k, v in runs.items()}
    cpu = {k: statistics.median(r["loop_cpu_us"] for r in v) for k, v in runs.items()}
    for kind in runs:
        print(
            f"median {kind:5s}: {rate[kind]:>11,.0f} records/s, "
            f"CPU {cpu[kind]:.2f} us/record ({len(runs[kind])} rounds)"
        )
    if "ocht" in runs:
        for ref in ("hand", "quix", "raw"):
            if ref in runs:
                print(
                    f"ocht / {ref}: {rate['ocht'] / rate[ref]:.2f}x throughput, "
                    f"{cpu[ref] / cpu['ocht']:.2f}x CPU efficiency (their CPU / ours)"
                )


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child_main(sys.argv[2:])
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--engines", default="raw,hand,ocht,quix")
    ap.add_argument(
        "--rounds", type=int, default=1, help="run the engines this many times, alternating"
    )
    ap.add_argument("--quix-python", default=None)
    ap.add_argument("--latency-rate", type=int, default=10_000)
    ap.add_argument("--latency-seconds", type=float, default=15.0)
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--stateful-records", type=int, default=500_000)
    ap.add_argument("--no-stateful", action="store_true")
    args = ap.parse_args()

    from ocht.testkit import create_topic, start_broker, unique_topic

    broker = start_broker()
    bs = broker.bootstrap
    try:
        n = args.records
        values = make_records(n)
        size = sum(len(v) for v in values) / n
        topic = create_topic(bs, unique_topic("bench-in"))
        secs = produce_all(bs, topic, values)
        print(f"input: {n:,} JSON records of {size:.0f} bytes on average, 1 partition")
        print(f"raw produce (idempotent): {n / secs:,.0f} records/s")
        runs: dict[str, list[dict[str, Any]]] = {}
        quix = None
        if "quix" in args.engines.split(","):
            quix = quix_python(args.quix_python)
            if quix is None:
                print(
                    "quix: skipped (quixstreams could not be installed; it pins "
                    "confluent-kafka < 2.13, so it runs from its own environment)"
                )
        for rnd in range(1, args.rounds + 1):
            for kind in args.engines.split(","):  # alternated, round after round
                python = quix if kind == "quix" else sys.executable
                if python is None:
                    continue
                res = run_child(python, kind, bs, topic, n)
                if res is None:
                    continue
                runs.setdefault(kind, []).append(res)
                print(
                    f"round {rnd} {kind:5s}: {res['records'] / res['seconds']:>11,.0f} records/s"
                    f"  ({res['records']:,} in {res['seconds']:.2f} s; CPU {res['cpu_s']:.2f} s,"
                    f" {res['loop_cpu_us']:.2f} us/record after the first batch; "
                    f"peak RSS {res['rss_mb']:.0f} MB)",
                    flush=True,
                )
        summary(runs)
        if not args.no_stateful:
            stateful(bs, args.stateful_records, quix_python(args.quix_python))
        if not args.no_latency:
            lat = latency(bs, args.latency_rate, args.latency_seconds)
            print(
                f"latency at {args.latency_rate:,} records/s through ocht-worker "
                f"({lat['records']:,} records): p50 {lat['p50_ms']:.0f} ms, "
                f"p99 {lat['p99_ms']:.0f} ms, max {lat['max_ms']:.0f} ms"
            )
    finally:
        broker.stop()


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", "2")
    main()
