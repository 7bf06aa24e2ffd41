"""Run queue benchmark: submit → start latency and throughput of tiny runs.

    uv run python bench/queue_latency.py                       # PostgreSQL on 127.0.0.1:5432
    uv run python bench/queue_latency.py --runs 200 --samples 50
    OCHT_BENCH_POSTGRES_URL=postgresql://me@db/bench uv run python bench/queue_latency.py

Each figure comes from the store's own timestamps (``queued_at`` → ``started_at`` of
each job, first start → last end of a batch), measured in a fresh database made for the
run and dropped after it.

* latency: ``--samples`` runs submitted one at a time to an idle ``ocht-worker runs``
  process (procrastinate wakes it through LISTEN/NOTIFY), p50 and p99 of submit → start.
  Reference: a bare psycopg NOTIFY → LISTEN round trip between two connections, the
  floor any PostgreSQL queue that wakes on NOTIFY pays.
* throughput: ``--runs`` tiny runs (a two-row CSV to a CSV, through the executor's
  front door) queued first, then executed by one and by two worker processes.
  Reference: the same runs called one after another in this process, with no queue.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

SERVER = os.environ.get(
    "OCHT_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORKER = [sys.executable, "-c", "from ocht.worker.main import main; main()", "runs"]


def make_database() -> tuple[str, sa.Engine, str]:
    name = f"ocht_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = make_url(SERVER).set(database=name).render_as_string(hide_password=False)
    return url, admin, name


def write_pipeline(folder: Path) -> Path:
    (folder / "tiny.csv").write_text("id,amount\n1,2\n2,3\n")
    source = folder / "tiny.yaml"
    source.write_text(
        "name: tiny\ninputs:\n  i: {type: csv, path: tiny.csv}\n"
        "outputs:\n  o: {type: csv, path: 'out/${tag}.csv'}\n"
    )
    return source


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def notify_floor(url: str, samples: int) -> list[float]:
    """NOTIFY → LISTEN round trips between two psycopg connections, in ms."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    out: list[float] = []
    with (
        psycopg.connect(dsn, autocommit=True) as listener,
        psycopg.connect(dsn, autocommit=True) as talker,
    ):
        listener.execute("LISTEN bench")
        for _ in range(samples):
            t0 = time.perf_counter()
            talker.execute("NOTIFY bench, 'x'")
            for _n in listener.notifies(timeout=5, stop_after=1):
                pass
            out.append((time.perf_counter() - t0) * 1000)
    return out


def start_workers(url: str, folder: Path, count: int, *args: str) -> list[subprocess.Popen[bytes]]:
    env = {
        **os.environ,
        "OCHT_STORE_URL": url,
        "OCHT_LOG_FORMAT": "json",
        "OCHT_HOME": str(folder / ".ocht"),
    }
    return [
        subprocess.Popen(
            [*WORKER, *args],
            cwd=folder,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(30)
        except subprocess.TimeoutExpired:
            p.kill()


def latency(url: str, folder: Path, source: Path, samples: int) -> list[float]:
    from ocht.scheduler import enqueue, open_queue
    from ocht.store import SchedulingStore, Store

    store = Store(url)
    queue = open_queue(store)
    procs = start_workers(url, folder, 1, "--queue", "lat")
    book = SchedulingStore(store)
    out: list[float] = []
    try:
        for i in range(-3, samples):  # three warm-up runs: imports, pools, first queries
            job = enqueue(
                store,
                queue,
                id=f"lat-{i}",
                pipeline="tiny",
                source=str(source),
                request={"variables": {"tag": f"lat{i}"}, "queue": "lat"},
            )
            assert job is not None
            while (done := book.job(job.id)) is None or done.status in ("queued", "running"):
                time.sleep(0.01)
            assert done.started_at is not None and done.status == "succeeded", done
            if i >= 0:
                out.append((done.started_at - done.queued_at).total_seconds() * 1000)
    finally:
        stop(procs)
        queue.close()
        store.close()
    return out


def throughput(url: str, folder: Path, source: Path, runs: int, workers: int) -> float:
    from ocht.scheduler import enqueue, open_queue
    from ocht.store import SchedulingStore, Store

    store = Store(url)
    queue = open_queue(store)
    name = f"tp{workers}"
    try:
        for i in range(runs):
            enqueue(
                store,
                queue,
                id=f"{name}-{i}",
                pipeline="tiny",
                source=str(source),
                request={"variables": {"tag": f"{name}-{i}"}, "queue": name},
            )
        procs = start_workers(url, folder, workers, "--queue", name, "--until-idle")
        for p in procs:
            p.wait()
        jobs = [j for j in SchedulingStore(store).jobs() if j.id.startswith(f"{name}-")]
        assert len(jobs) == runs and all(j.status == "succeeded" for j in jobs), "not all ran"
        first = min(j.started_at for j in jobs if j.started_at)
        last = max(j.ended_at for j in jobs if j.ended_at)
        return runs / (last - first).total_seconds()
    finally:
        queue.close()
        store.close()


def direct(url: str, folder: Path, source: Path, runs: int) -> float:
    """The same runs through the front door, one after another, no queue."""
    from ocht.executor import Runner, RunRequest, RunServices
    from ocht.store import Store

    store = Store(url)
    runner = Runner(RunServices(store=store, home=folder / ".ocht"))
    try:
        t0 = time.perf_counter()
        for i in range(runs):
            runner.run(RunRequest(pipeline=source, variables={"tag": f"d{i}"}))
        return runs / (time.perf_counter() - t0)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=100)
    args = parser.parse_args()
    url, admin, name = make_database()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            source = write_pipeline(folder)
            floor = notify_floor(url, args.samples)
            lat = latency(url, folder, source, args.samples)
            print(f"submit → start over {args.samples} runs (idle worker):")
            print(
                f"  ocht queue       p50 {percentile(lat, 0.5):7.1f} ms   p99 {percentile(lat, 0.99):7.1f} ms"
            )
            print(
                f"  NOTIFY round trip p50 {percentile(floor, 0.5):6.2f} ms   p99 {percentile(floor, 0.99):6.2f} ms"
            )
            ref = direct(url, folder, source, args.runs)
            one = throughput(url, folder, source, args.runs, 1)
            two = throughput(url, folder, source, args.runs, 2)
            print(f"throughput of {args.runs} tiny runs:")
            print(f"  in-process loop, no queue   {ref:7.1f} runs/s   1.00x")
            print(f"  1 worker                    {one:7.1f} runs/s   {one / ref:4.2f}x")
            print(
                f"  2 workers                   {two:7.1f} runs/s   {two / ref:4.2f}x  ({two / one:4.2f}x one worker)"
            )
            print(f"  median latency / run time   {statistics.median(lat) / (1000 / ref):.2f}")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
