"""The local pool on the embedded SQLite store: the same queue semantics on one machine."""

from __future__ import annotations

import os
import signal
import socket
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import polars as pl
import pytest
import yaml

from ocht.scheduler import (
    LocalPool,
    LocalQueue,
    MissingLocation,
    RetryPolicy,
    backfill_progress,
    cancel_job,
    enqueue,
    plan_backfill,
    reap_local,
    submit_backfill,
)
from ocht.store import JobRecord, SchedulingStore, Store
from ocht.testkit import Workspace

from .conftest import Workers, wait_for


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'ocht.db'}")
    yield s
    s.close()


def csv_pipeline(ws: Workspace, name: str = "daily") -> Path:
    doc = {
        "name": name,
        "inputs": {"i": {"type": "csv", "path": "lake/${period.start}.csv"}},
        "steps": [{"kind": "derive", "columns": {"day": "'${period.key}'"}}],
        "outputs": {"o": {"type": "csv", "path": "out/${period.key}.csv"}},
    }
    return ws.write_text(f"{name}.yaml", yaml.safe_dump(doc))


def _job(store: Store, job_id: str) -> JobRecord:
    job = SchedulingStore(store).job(job_id)
    assert job is not None
    return job


def test_a_30_period_backfill_runs_each_period_once(store: Store, workspace: Workspace) -> None:
    source = csv_pipeline(workspace)
    for day in range(1, 31):
        workspace.write_csv(f"lake/2024-04-{day:02d}.csv", [{"id": day}])
    plan = plan_backfill(store, source, date(2024, 4, 1), date(2024, 4, 30), concurrency=2)
    record = submit_backfill(store, LocalQueue(), plan)
    assert LocalPool(store, concurrency=3).run(until_idle=True) == 30
    progress = backfill_progress(store, record.id)
    assert progress.counts == {"succeeded": 30} and progress.done
    book = SchedulingStore(store)
    spans = []
    for job in progress.jobs:
        [origin] = book.origins(job_id=job.id)
        assert origin.ended_at is not None
        spans.append((origin.started_at, origin.ended_at))
        out = pl.read_csv(workspace.path(f"out/{job.period_key}.csv"))
        assert out["day"].to_list() == [job.period_key]
    assert len(store.runs(pipeline="daily", limit=None)) == 30
    # at most two at once although the pool has three threads: the backfill's two locks
    assert max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans) <= 2


def test_reprocess_choices_pick_the_periods(store: Store, workspace: Workspace) -> None:
    source = csv_pipeline(workspace)
    for day in (1, 2, 3):
        workspace.write_csv(f"lake/2024-05-{day:02d}.csv", [{"id": day}])
    first = plan_backfill(store, source, date(2024, 5, 1), date(2024, 5, 3))
    record = submit_backfill(store, LocalQueue(), first)
    LocalPool(store).run(until_idle=True)
    book = SchedulingStore(store)
    failed = next(j for j in book.jobs(backfill=record.id) if j.period_key == "2024-05-02")
    book.update_job(failed.id, status="failed", error_code="execution-failed")
    assert plan_backfill(store, source, date(2024, 5, 1), date(2024, 5, 3)).to_run == []
    redo = plan_backfill(store, source, date(2024, 5, 1), date(2024, 5, 3), reprocess="failed")
    assert [r.period.key for r in redo.to_run] == ["2024-05-02"]
    everything = plan_backfill(store, source, date(2024, 5, 1), date(2024, 5, 3), reprocess="all")
    assert len(everything.to_run) == 3
    assert {r.reason for r in everything.to_run} == {"reprocess succeeded", "reprocess failed"}


def test_a_missing_period_input_is_an_error_before_anything_is_queued(
    store: Store, workspace: Workspace
) -> None:
    source = csv_pipeline(workspace)
    workspace.write_csv("lake/2024-06-01.csv", [{"id": 1}])
    with pytest.raises(MissingLocation, match=r"2 of 3 periods.*2024-06-02.*2024-06-03") as info:
        plan_backfill(store, source, date(2024, 6, 1), date(2024, 6, 3))
    assert info.value.code == "missing-location"
    assert SchedulingStore(store).jobs(pipeline="daily") == []


def test_resolver_when_rules_choose_the_location_per_period(
    store: Store, workspace: Workspace
) -> None:
    doc = {
        "name": "resolved",
        "inputs": {"i": {"type": "csv", "path": "${orders}"}},
        "outputs": {"o": {"type": "csv", "path": "out/${period.key}.csv"}},
    }
    source = workspace.write_text("resolved.yaml", yaml.safe_dump(doc))
    workspace.write_csv("archive/2023.csv", [{"id": 1, "src": "archive"}])
    workspace.write_csv("lake/2024/01/part-0.csv", [{"id": 2, "src": "lake"}])
    workspace.write_csv("lake/2024/02/part-0.csv", [{"id": 3, "src": "lake"}])
    rules = {
        "orders": {
            "path": "lake/${period.year}/${period.month}/*.csv",
            "when": [{"before": "2024-01-01", "path": "archive/${period.year}.csv"}],
        }
    }
    plan = plan_backfill(
        store,
        source,
        date(2023, 12, 1),
        date(2024, 2, 29),
        calendar_spec="monthly",
        resolvers=rules,
    )
    assert [r.variables["orders"] for r in plan.to_run] == [
        "archive/2023.csv",
        "lake/2024/01/*.csv",
        "lake/2024/02/*.csv",
    ]
    submit_backfill(store, LocalQueue(), plan)
    LocalPool(store).run(until_idle=True)
    assert pl.read_csv(workspace.path("out/2023-12.csv"))["src"].to_list() == ["archive"]
    assert pl.read_csv(workspace.path("out/2024-02.csv"))["id"].to_list() == [3]
    with pytest.raises(MissingLocation, match=r"2024-03.*lake/2024/03/\*\.csv.*resolver 'orders'"):
        plan_backfill(store, source, date(2024, 3, 1), date(2024, 3, 1), calendar_spec="monthly",
                      resolvers=rules)  # fmt: skip


def test_a_failed_run_is_retried_with_backoff_until_it_succeeds(
    store: Store, workspace: Workspace
) -> None:
    source = csv_pipeline(workspace)
    job = enqueue(
        store,
        LocalQueue(),
        id="retry-me",
        pipeline="daily",
        source=str(source),
        request={"variables": {"period": {"start": "2024-07-01", "key": "2024-07-01"}}},
        max_attempts=3,
        backoff_s=0.5,
    )
    assert job is not None
    pool = LocalPool(store, poll_s=0.05)
    worker = threading.Thread(target=pool.run, kwargs={"until_idle": True})
    worker.start()
    wait_for(
        lambda: _job(store, "retry-me").attempt == 1 and _job(store, "retry-me").status == "queued"
    )
    failed = _job(store, "retry-me")
    assert failed.error_code == "source-unreachable"
    assert failed.started_at is not None
    assert (failed.not_before - failed.started_at).total_seconds() >= 0.5  # waits its backoff
    workspace.write_csv("lake/2024-07-01.csv", [{"id": 1}])  # the data arrives
    worker.join(timeout=60)
    done = _job(store, "retry-me")
    assert (done.status, done.attempt) == ("succeeded", 2)
    assert [o.status for o in SchedulingStore(store).origins(job_id="retry-me")] == [
        "failed",
        "succeeded",
    ]


def test_attempts_stop_at_the_maximum(store: Store, workspace: Workspace) -> None:
    source = csv_pipeline(workspace)
    enqueue(store, LocalQueue(), id="never", pipeline="daily", source=str(source),
            request={"variables": {"period": {"start": "1999-01-01", "key": "x"}}},
            max_attempts=2, backoff_s=0)  # fmt: skip
    LocalPool(store, poll_s=0.05).run(until_idle=True)
    job = _job(store, "never")
    assert (job.status, job.attempt, job.error_code) == ("failed", 2, "source-unreachable")


def test_retry_backoff_doubles_and_is_capped() -> None:
    policy = RetryPolicy(max_attempts=5, backoff_s=10, max_backoff_s=25)
    assert [policy.wait(n) for n in (1, 2, 3, 4)] == [10, 20, 25, 25]


def test_cancel_a_queued_run_locally(store: Store, workspace: Workspace) -> None:
    source = csv_pipeline(workspace)
    enqueue(store, LocalQueue(), id="c1", pipeline="daily", source=str(source), request={})
    assert cancel_job(store, "c1").status == "cancelled"
    assert LocalPool(store).run(until_idle=True) == 0
    assert SchedulingStore(store).origins(job_id="c1") == []


@pytest.mark.postgres
def test_a_sigkilled_local_worker_s_run_is_retried(
    store, tmp_path, workspace, workers: Workers, postgres_url
) -> None:
    # the data source sleeps in PostgreSQL; the queue is the SQLite store
    query = "SELECT t.id FROM (SELECT 1 AS id, pg_sleep(${sleep})) t"
    doc = {
        "name": "local_kill",
        "inputs": {"i": {"type": "sql", "url": postgres_url, "query": query}},
        "outputs": {"o": {"type": "csv", "path": "out/local_kill.csv"}},
    }
    source = workspace.write_text("local_kill.yaml", yaml.safe_dump(doc))
    enqueue(store, LocalQueue(), id="k1", pipeline="local_kill", source=str(source),
            request={"variables": {"sleep": 20}}, max_attempts=2, backoff_s=0)  # fmt: skip
    victim = workers.start(f"sqlite:///{tmp_path / 'ocht.db'}")
    wait_for(lambda: _job(store, "k1").status == "running" and _job(store, "k1").run_id is not None)
    wait_for(lambda: bool(store.runs(pipeline="local_kill")), what="the manifest")
    os.kill(victim.pid, signal.SIGKILL)
    victim.wait()
    assert reap_local(store, SchedulingStore(store)) == ["k1"]
    lost = _job(store, "k1")
    assert (lost.status, lost.attempt, lost.error_code) == ("queued", 1, "abandoned")
    SchedulingStore(store).update_job("k1", request={"variables": {"sleep": 0}})
    LocalPool(store).run(until_idle=True)
    done = _job(store, "k1")
    assert (done.status, done.attempt) == ("succeeded", 2)
    assert socket.gethostname() in str(done.worker)
    first, second = SchedulingStore(store).origins(job_id="k1")
    assert (first.status, second.status) == ("abandoned", "succeeded")
    assert store.run(first.run_id).status == "abandoned"


@pytest.mark.postgres
def test_an_attempt_taken_for_dead_and_replaced_does_not_commit(
    store, workspace, postgres_url
) -> None:
    from ocht.scheduler import run_attempt

    query = "SELECT t.id FROM (SELECT 1 AS id, pg_sleep(3)) t"
    doc = {
        "name": "zombie",
        "inputs": {"i": {"type": "sql", "url": postgres_url, "query": query}},
        "outputs": {"o": {"type": "csv", "path": "out/zombie.csv"}},
    }
    source = workspace.write_text("zombie.yaml", yaml.safe_dump(doc))
    job = enqueue(store, LocalQueue(), id="z1", pipeline="zombie", source=str(source), request={})
    assert job is not None
    book = SchedulingStore(store)
    outcome: list[object] = []
    thread = threading.Thread(
        target=lambda: outcome.append(run_attempt(store, book, job, worker="here:1/0"))
    )
    thread.start()
    wait_for(lambda: _job(store, "z1").run_id is not None)
    book.update_job("z1", run_id="the-retry", attempt=2)  # another worker took it over
    thread.join(timeout=60)
    [result] = outcome
    assert result.status == "cancelled"  # type: ignore[attr-defined]
    after = _job(store, "z1")
    assert (after.run_id, after.status, after.attempt) == ("the-retry", "running", 2)
    assert not workspace.path("out/zombie.csv").exists()


def test_a_resolver_with_unknown_keys_is_refused() -> None:
    from ocht.scheduler import InvalidPeriod, parse_rules

    with pytest.raises(InvalidPeriod, match="unknown keys pth"):
        parse_rules({"orders": {"path": "a.csv", "pth": "b.csv"}})
    with pytest.raises(InvalidPeriod, match="needs a path"):
        parse_rules({"orders": {"when": []}})
    with pytest.raises(InvalidPeriod, match="'before' and/or 'from'"):
        parse_rules(
            {"orders": {"path": "a.csv", "when": [{"path": "b.csv", "after": "2024-01-01"}]}}
        )
