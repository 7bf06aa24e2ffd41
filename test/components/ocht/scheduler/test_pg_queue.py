"""The run queue on a real PostgreSQL: worker processes, locks, cancel, SIGKILL, backfills."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from ocht.scheduler import (
    RetryPolicy,
    backfill_progress,
    cancel_job,
    enqueue,
    open_queue,
    plan_backfill,
    submit_backfill,
)
from ocht.store import JobRecord, SchedulingStore, Store
from ocht.testkit import Workspace

from .conftest import Workers, wait_for

pytestmark = pytest.mark.postgres

FAST = ("--heartbeat", "0.5", "--stalled-after", "3")


@pytest.fixture
def store(postgres_url: str) -> Iterator[Store]:
    s = Store(postgres_url)
    yield s
    s.close()


@pytest.fixture
def queue_name() -> str:
    return f"q{uuid.uuid4().hex[:8]}"


def slow_pipeline(ws: Workspace, url: str, name: str, sleep: float, tag: str = "${tag}") -> Path:
    """A pipeline whose input waits ``sleep`` seconds in PostgreSQL (no CPU burnt)."""
    query = f"SELECT t.id, '{tag}' AS tag FROM (SELECT 1 AS id, pg_sleep({sleep})) t"
    doc = {
        "name": name,
        "inputs": {"i": {"type": "sql", "url": url, "query": query}},
        "outputs": {"o": {"type": "csv", "path": f"out/{tag}.csv"}},
    }
    return ws.write_text(f"{name}.yaml", yaml.safe_dump(doc))


def _submit(store: Store, source: Path, job_id: str, queue: str, **fields: object) -> JobRecord:
    q = open_queue(store)
    try:
        job = enqueue(
            store,
            q,
            id=job_id,
            pipeline=source.stem,
            source=str(source),
            request={"variables": {"tag": job_id}, "queue": queue, **fields.pop("request", {})},  # type: ignore[dict-item]
            **fields,
        )
    finally:
        q.close()
    assert job is not None
    return job


def _job(store: Store, job_id: str) -> JobRecord:
    job = SchedulingStore(store).job(job_id)
    assert job is not None
    return job


def _run_status(store: Store, run_id: str | None) -> str | None:
    from ocht.store import RunNotFound

    try:
        return store.run(run_id).status if run_id else None
    except RunNotFound:
        return None


def _overlaps(store: Store, job_ids: list[str]) -> int:
    """The most attempts that were running at one instant."""
    book = SchedulingStore(store)
    events: list[tuple[object, int]] = []
    for job_id in job_ids:
        for o in book.origins(job_id=job_id):
            assert o.ended_at is not None
            events += [(o.started_at, 1), (o.ended_at, -1)]
    events.sort(key=lambda e: (e[0], e[1]))
    now = most = 0
    for _, delta in events:
        now += delta
        most = max(most, now)
    return most


def test_two_workers_share_one_queue(
    store, postgres_url, workspace, workers: Workers, queue_name
) -> None:
    source = slow_pipeline(workspace, postgres_url, "two_workers", 0.5)
    ids = [f"{queue_name}-{i}" for i in range(6)]
    for job_id in ids:
        _submit(store, source, job_id, queue_name)  # no lock: runs may overlap
    a = workers.start(postgres_url, "--queue", queue_name, *FAST)
    b = workers.start(postgres_url, "--queue", queue_name, *FAST)
    wait_for(lambda: all(_job(store, i).status == "succeeded" for i in ids), what="six runs")
    jobs = [_job(store, i) for i in ids]
    pids = {int(str(j.worker).split(":")[1].split("/")[0]) for j in jobs}
    assert pids == {a.pid, b.pid}
    book = SchedulingStore(store)
    for job in jobs:
        [origin] = book.origins(job_id=job.id)  # each job ran exactly once
        assert origin.status == "succeeded" and origin.attempt == 1
        assert store.run(origin.run_id).status == "succeeded"
        assert pl.read_csv(workspace.path(f"out/{job.id}.csv"))["tag"].to_list() == [job.id]


def test_one_active_run_per_pipeline_across_workers(
    store, postgres_url, workspace, workers, queue_name
) -> None:
    source = slow_pipeline(workspace, postgres_url, "one_at_a_time", 0.4)
    ids = [f"{queue_name}-{i}" for i in range(4)]
    for job_id in ids:
        _submit(store, source, job_id, queue_name, lock="pipeline:one_at_a_time")
    workers.start(postgres_url, "--queue", queue_name, "--concurrency", "2", *FAST)
    workers.start(postgres_url, "--queue", queue_name, "--concurrency", "2", *FAST)
    wait_for(lambda: all(_job(store, i).status == "succeeded" for i in ids), what="four runs")
    assert _overlaps(store, ids) == 1
    starts = [SchedulingStore(store).origins(job_id=i)[0].started_at for i in ids]
    assert starts == sorted(starts)  # a lock keeps the order they were queued in


def test_cancel_a_queued_and_a_running_run(
    store, postgres_url, workspace, workers, queue_name
) -> None:
    source = slow_pipeline(workspace, postgres_url, "cancelled", 8)
    running = _submit(store, source, f"{queue_name}-run", queue_name, lock="pipeline:cancelled")
    waiting = _submit(store, source, f"{queue_name}-wait", queue_name, lock="pipeline:cancelled")
    workers.start(postgres_url, "--queue", queue_name, "--concurrency", "2", *FAST)
    wait_for(lambda: _job(store, running.id).status == "running", what="the first run to start")
    assert cancel_job(store, waiting.id).status == "cancelled"
    assert cancel_job(store, running.id).cancel_requested
    wait_for(lambda: _job(store, running.id).status == "cancelled", what="the cancel to land")
    done = _job(store, running.id)
    assert done.error_code == "cancelled"
    assert store.run(str(done.run_id)).status == "cancelled"  # the manifest says so too
    assert not workspace.path(f"out/{running.id}.csv").exists()  # nothing was committed
    never = _job(store, waiting.id)
    assert never.status == "cancelled" and never.attempt == 0 and never.run_id is None
    assert SchedulingStore(store).origins(job_id=waiting.id) == []


def test_a_sigkilled_worker_s_run_is_abandoned_and_retried(
    store, postgres_url, workspace, workers, queue_name
) -> None:
    source = slow_pipeline(workspace, postgres_url, "killed", 4)
    job = _submit(
        store,
        source,
        f"{queue_name}-k",
        queue_name,
        lock="pipeline:killed",
        max_attempts=2,
        backoff_s=0,
    )
    victim = workers.start(postgres_url, "--queue", queue_name, *FAST)
    wait_for(lambda: _run_status(store, _job(store, job.id).run_id) == "running", what="the run")
    first = _job(store, job.id)
    assert str(victim.pid) in str(first.worker)
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    survivor = workers.start(postgres_url, "--queue", queue_name, *FAST)
    wait_for(lambda: _job(store, job.id).status == "succeeded", timeout=90, what="the retry")
    final = _job(store, job.id)
    assert final.attempt == 2 and str(survivor.pid) in str(final.worker)
    lost, retried = SchedulingStore(store).origins(job_id=job.id)
    assert (lost.status, lost.attempt, retried.status, retried.attempt) == (
        "abandoned",
        1,
        "succeeded",
        2,
    )
    assert store.run(lost.run_id).status == "abandoned"
    assert lost.ended_at is not None and retried.started_at >= lost.ended_at  # never both at once
    assert pl.read_csv(workspace.path(f"out/{job.id}.csv")).height == 1


def test_a_30_period_backfill_with_concurrency_2(
    store, postgres_url, workspace, workers, queue_name
) -> None:
    slow_pipeline(workspace, postgres_url, "bf", 0.2, tag="${period.key}")
    plan = plan_backfill(
        store,
        workspace.path("bf.yaml"),
        date(2024, 2, 15),
        date(2024, 3, 15),  # across a leap day and a month end
        concurrency=2,
        retry=RetryPolicy(max_attempts=2, backoff_s=0),
        queue=queue_name,
    )
    assert len(plan.to_run) == 30
    q = open_queue(store)
    try:
        record = submit_backfill(store, q, plan)
    finally:
        q.close()
    workers.start(postgres_url, "--queue", queue_name, "--concurrency", "2", *FAST)
    workers.start(postgres_url, "--queue", queue_name, "--concurrency", "2", *FAST)
    wait_for(lambda: backfill_progress(store, record.id).done, timeout=120, what="the backfill")
    progress = backfill_progress(store, record.id)
    assert progress.counts == {"succeeded": 30}
    keys = [j.period_key for j in progress.jobs]
    assert keys[13:16] == ["2024-02-28", "2024-02-29", "2024-03-01"] and len(set(keys)) == 30
    book = SchedulingStore(store)
    run_ids = []
    for job in progress.jobs:
        [origin] = book.origins(job_id=job.id)  # exactly one attempt per period
        run_ids.append(origin.run_id)
        assert pl.read_csv(workspace.path(f"out/{job.period_key}.csv"))["tag"].to_list() == [
            job.period_key
        ]
    assert len({store.run(r).run_id for r in run_ids}) == 30
    assert sorted(p.name for p in workspace.path("out").iterdir()) == sorted(
        f"{k}.csv" for k in keys
    )
    assert _overlaps(store, [j.id for j in progress.jobs]) <= 2
    again = plan_backfill(store, workspace.path("bf.yaml"), date(2024, 2, 15), date(2024, 3, 15))
    assert again.to_run == []  # reprocess none: nothing left to do


def test_a_schedule_fires_and_workers_run_it(
    store, postgres_url, workspace, workers, queue_name
) -> None:
    import threading

    from ocht.scheduler import ScheduleSpec, add_schedule, run_scheduler, set_paused

    source = slow_pipeline(workspace, postgres_url, "every_second", 0, tag="${tick}")
    spec = ScheduleSpec(every=1, overlap="skip", queue=queue_name, variables={"tick": "t"})
    add_schedule(store, queue_name, source, spec)
    workers.start(postgres_url, "--queue", queue_name, *FAST)
    stop = threading.Event()
    scheduler = threading.Thread(
        target=run_scheduler, args=(store,), kwargs={"tick_s": 0.2, "stop": stop}
    )
    scheduler.start()
    try:
        book = SchedulingStore(store)
        wait_for(
            lambda: sum(j.status == "succeeded" for j in book.jobs(schedule=queue_name)) >= 2,
            what="two scheduled runs",
        )
        set_paused(store, queue_name, True)
    finally:
        stop.set()
        scheduler.join()
    jobs = book.jobs(schedule=queue_name)
    assert all(j.id.startswith(f"s:{queue_name}:") for j in jobs)
    ran = [j for j in jobs if j.status == "succeeded"]
    assert all(len(book.origins(job_id=j.id)) == 1 for j in ran)
    assert workspace.path("out/t.csv").exists()
