"""The scheduler's tick under a controlled clock, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine

from ocht.scheduler import (
    InvalidSchedule,
    ScheduleNotFound,
    ScheduleSpec,
    add_schedule,
    list_schedules,
    open_queue,
    remove_schedule,
    set_paused,
    tick,
)
from ocht.store import SchedulingStore, Store
from ocht.testkit import Workspace

T0 = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


@pytest.fixture
def pipeline(workspace: Workspace) -> Path:
    workspace.write_csv("lake/2024-02-29.csv", [{"id": 1}])
    workspace.write_csv("lake/2024-03-30.csv", [{"id": 1}])
    return workspace.write_text(
        "p.yaml",
        "name: sched_p\n"
        "inputs:\n  i: {type: csv, path: 'lake/${period.start:-2024-02-29}.csv'}\n"
        "outputs:\n  o: {type: csv, path: out.csv}\n",
    )


def _add(store: Store, pipeline: Path, name: str, at: datetime = T0, **spec: object) -> None:
    with time_machine.travel(at, tick=False):
        add_schedule(store, name, pipeline, ScheduleSpec.parse(dict(spec)))


def _tick(store: Store, at: datetime, name: str):
    queue = open_queue(store)
    try:
        with time_machine.travel(at, tick=False):
            return tick(store, queue, names=[name])
    finally:
        queue.close()


def _name(request: pytest.FixtureRequest) -> str:
    return f"s{abs(hash(request.node.nodeid)) % 10**8}"


def test_cron_fires_once_per_due_instant(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, cron="0 * * * *")
    assert _tick(store, T0 + timedelta(minutes=59), name).queued == []
    first = _tick(store, T0 + timedelta(hours=1, seconds=3), name)
    assert first.queued == [f"s:{name}:20240301T010000Z"]
    # the same instant again (a second scheduler, a restart) queues nothing new
    assert _tick(store, T0 + timedelta(hours=1, seconds=4), name).queued == []
    jobs = SchedulingStore(store).jobs(schedule=name)
    assert [j.fire_at for j in jobs] == [T0 + timedelta(hours=1)]
    assert jobs[0].lock == "pipeline:sched_p"


def test_catch_up_runs_only_fires_inside_the_window(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, cron="0 * * * *", catchup_s=7200, overlap="allow")
    report = _tick(store, T0 + timedelta(hours=5, minutes=30), name)  # down for five hours
    assert report.queued == [
        f"s:{name}:20240301T040000Z",
        f"s:{name}:20240301T050000Z",
    ]
    assert report.dropped == {name: 3}


def test_without_catch_up_only_the_latest_missed_fire_runs(
    store: Store, pipeline: Path, request
) -> None:
    name = _name(request)
    _add(store, pipeline, name, cron="*/10 * * * *", overlap="allow")
    report = _tick(store, T0 + timedelta(hours=2, minutes=5), name)
    assert report.queued == [f"s:{name}:20240301T020000Z"]
    assert report.dropped == {name: 11}  # 00:10 .. 01:50


def test_overlap_skip_records_the_skipped_fire(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, every=600, overlap="skip")
    assert len(_tick(store, T0 + timedelta(minutes=10), name).queued) == 1
    report = _tick(store, T0 + timedelta(minutes=20), name)
    assert report.queued == [] and len(report.skipped) == 1
    skipped = SchedulingStore(store).job(report.skipped[0])
    assert skipped is not None
    assert (skipped.status, skipped.error_code) == ("skipped", "overlap-skipped")


def test_overlap_buffer_one_keeps_one_waiting(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, every=600, overlap="buffer-one")
    book = SchedulingStore(store)
    first = _tick(store, T0 + timedelta(minutes=10), name).queued[0]
    book.update_job(first, status="running")  # a worker took it
    second = _tick(store, T0 + timedelta(minutes=20), name)
    third = _tick(store, T0 + timedelta(minutes=30), name)
    assert len(second.queued) == 1 and second.skipped == []
    assert third.queued == [] and len(third.skipped) == 1
    assert [j.status for j in book.jobs(schedule=name)] == ["running", "queued", "skipped"]


def test_overlap_cancel_running_cancels_then_queues(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, every=600, overlap="cancel-running")
    book = SchedulingStore(store)
    first = _tick(store, T0 + timedelta(minutes=10), name).queued[0]
    book.update_job(first, status="running")
    report = _tick(store, T0 + timedelta(minutes=20), name)
    assert report.cancelled == [first] and len(report.queued) == 1
    old = book.job(first)
    assert old is not None and old.cancel_requested


def test_overlap_allow_lifts_the_pipeline_lock(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, every=600, overlap="allow")
    _tick(store, T0 + timedelta(minutes=10), name)
    _tick(store, T0 + timedelta(minutes=20), name)
    jobs = SchedulingStore(store).jobs(schedule=name)
    assert [j.status for j in jobs] == ["queued", "queued"]
    assert {j.lock for j in jobs} == {None}


def test_max_active_lets_that_many_runs_overlap(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, every=600, overlap="skip", max_active=2)
    for minutes in (10, 20, 30):
        _tick(store, T0 + timedelta(minutes=minutes), name)
    jobs = SchedulingStore(store).jobs(schedule=name)
    assert [j.status for j in jobs] == ["queued", "queued", "skipped"]
    assert [j.lock for j in jobs[:2]] == ["pipeline:sched_p:0", "pipeline:sched_p:1"]


def test_pause_fires_nothing_and_resume_does_not_catch_up(
    store: Store, pipeline: Path, request
) -> None:
    name = _name(request)
    _add(store, pipeline, name, cron="0 * * * *", catchup_s=86400, overlap="allow")
    with time_machine.travel(T0 + timedelta(minutes=30), tick=False):
        set_paused(store, name, True)
    assert _tick(store, T0 + timedelta(hours=3, minutes=30), name).queued == []
    [view] = [v for v in list_schedules(store) if v.record.name == name]
    assert view.record.paused and view.next_fires == []
    with time_machine.travel(T0 + timedelta(hours=4, minutes=30), tick=False):
        set_paused(store, name, False)
    assert _tick(store, T0 + timedelta(hours=5, seconds=1), name).queued == [
        f"s:{name}:20240301T050000Z"
    ]


def test_jitter_delays_the_start_the_same_way_every_time(
    store: Store, pipeline: Path, request
) -> None:
    name = _name(request)
    _add(store, pipeline, name, every=600, jitter_s=120, overlap="allow")
    job_id = _tick(store, T0 + timedelta(minutes=10), name).queued[0]
    job = SchedulingStore(store).job(job_id)
    assert job is not None and job.fire_at is not None
    delay = (job.not_before - job.fire_at).total_seconds()
    assert 0 <= delay < 120
    spec = ScheduleSpec(every=600, jitter_s=120)
    assert spec.jitter_for(name, job.fire_at) == pytest.approx(delay, abs=1e-3)


def test_next_fire_times_are_listed(store: Store, pipeline: Path, request) -> None:
    name = _name(request)
    _add(store, pipeline, name, cron="0 6 * * *", timezone="Europe/Paris")
    with time_machine.travel(datetime(2024, 3, 30, 12, tzinfo=UTC), tick=False):
        [view] = [v for v in list_schedules(store, count=3) if v.record.name == name]
    # the clocks go forward on 31 March: 06:00 Paris is 05:00 UTC, then 04:00 UTC
    assert view.next_fires == [
        datetime(2024, 3, 31, 4, tzinfo=UTC),
        datetime(2024, 4, 1, 4, tzinfo=UTC),
        datetime(2024, 4, 2, 4, tzinfo=UTC),
    ]


def test_a_calendar_gives_each_run_the_period_before_its_fire(
    store: Store, pipeline: Path, request
) -> None:
    name = _name(request)
    # 00:30 in Paris on 1 March is still 29 February in UTC: the period is the Paris day before
    _add(store, pipeline, name, T0 - timedelta(days=1), cron="30 0 * * *", timezone="Europe/Paris",
         calendar="daily")  # fmt: skip
    job_id = _tick(store, datetime(2024, 2, 29, 23, 31, tzinfo=UTC), name).queued[0]
    job = SchedulingStore(store).job(job_id)
    assert job is not None
    assert job.period_key == "2024-02-29"
    assert job.request["variables"]["period"]["end"] == "2024-03-01"


def test_a_missing_input_fails_the_fire_before_anything_runs(
    store: Store, pipeline: Path, request
) -> None:
    name = _name(request)
    _add(store, pipeline, name, cron="0 0 * * *", calendar="daily")
    report = _tick(
        store, datetime(2024, 3, 3, 0, 0, 5, tzinfo=UTC), name
    )  # period 2024-03-02: no file
    assert report.queued == [] and len(report.failed) == 1
    job = SchedulingStore(store).job(report.failed[0])
    assert job is not None
    assert (job.status, job.error_code) == ("failed", "missing-location")
    assert "2024-03-02" in (job.error_message or "")


def test_schedule_names_are_unique_and_errors_are_typed(
    store: Store, pipeline: Path, request
) -> None:
    name = _name(request)
    _add(store, pipeline, name, cron="0 0 * * *")
    with pytest.raises(InvalidSchedule, match="exists already"):
        _add(store, pipeline, name, cron="0 1 * * *")
    remove_schedule(store, name)
    with pytest.raises(ScheduleNotFound):
        remove_schedule(store, name)
    with pytest.raises(ScheduleNotFound):
        set_paused(store, name, True)
    with pytest.raises(InvalidSchedule, match="overlap"):
        ScheduleSpec.parse({"cron": "* * * * *", "overlap": "sometimes"})
    with pytest.raises(InvalidSchedule, match="unknown calendar"):
        ScheduleSpec.parse({"cron": "* * * * *", "calendar": "lunar"})
