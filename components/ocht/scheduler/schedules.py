"""Schedules: add, list, pause, resume, remove, and the scheduler's tick.

:func:`tick` is the whole scheduler: for each active schedule it takes the fires due
since the last one handled, keeps those inside the catch-up window (and always the
latest), and queues one job per fire under the overlap policy. Job ids are the fire's
instant (``s:NAME:20240301T060000Z``), so two schedulers never queue a fire twice.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ocht.store import Store
    >>> d = Path(tempfile.mkdtemp()); _ = (d / "p.yaml").write_text("name: p\\n")
    >>> with Store(base_dir=d) as store:
    ...     rec = add_schedule(store, "nightly", d / "p.yaml", ScheduleSpec(cron="0 2 * * *"))
    ...     [s.record.name for s in list_schedules(store)]
    ['nightly']
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ocht.errors import OchtError
from ocht.observability import get_logger
from ocht.scheduler.dispatch import Queue, cancel_job, enqueue, open_queue, uses_postgres
from ocht.scheduler.errors import InvalidSchedule, ScheduleNotFound
from ocht.scheduler.resolvers import check_inputs, load, resolve
from ocht.scheduler.spec import ScheduleSpec
from ocht.scheduler.triggers import aware
from ocht.store import ScheduleRecord, SchedulingStore, Store

log = get_logger("ocht.scheduler")


@dataclass(frozen=True)
class ScheduleView:
    """A schedule with what it will do next.

    Attributes:
        record: the stored schedule.
        spec: its parsed settings.
        next_fires: the next fire instants (UTC), none when paused.
    """

    record: ScheduleRecord
    spec: ScheduleSpec
    next_fires: list[datetime]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            **self.record.to_dict(),
            "trigger": self.spec.trigger(self.record.created_at).describe(),
            "next_fires": [f.isoformat() for f in self.next_fires],
        }


@dataclass
class TickReport:
    """What one tick did.

    Attributes:
        queued: ids of the jobs queued.
        skipped: ids of fires recorded as skipped (overlap).
        failed: ids of fires that could not be queued (a missing input location).
        dropped: fires older than the catch-up window, per schedule.
        cancelled: ids of runs cancelled by a ``cancel-running`` policy.
    """

    queued: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    cancelled: list[str] = field(default_factory=list)


def _now() -> datetime:
    return datetime.now(UTC)


def pipeline_name(source: str | Path) -> str:
    """The ``name:`` of a pipeline file (read without loading the whole pipeline)."""
    from ocht.pipeline_model import read_document

    data = read_document(source).data
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        raise InvalidSchedule(f"{source}: the pipeline has no name:")
    return name


def add_schedule(store: Store, name: str, source: str | Path, spec: ScheduleSpec) -> ScheduleRecord:
    """Store a new schedule for the pipeline at ``source``.

    Raises:
        InvalidSchedule: the name is taken, or the pipeline file has no name.
    """
    path = Path(source).resolve()
    record = SchedulingStore(store).add_schedule(
        name,
        pipeline=pipeline_name(path),
        source=str(path),
        spec=spec.model_dump(mode="json", exclude_defaults=True),
    )
    if record is None:
        raise InvalidSchedule(
            f"a schedule named '{name}' exists already",
            hint=f"ocht schedule remove {name}, or pick another name",
        )
    return record


def get_schedule(store: Store, name: str) -> ScheduleRecord:
    """One schedule, or :class:`ScheduleNotFound`."""
    record = SchedulingStore(store).schedule(name)
    if record is None:
        raise ScheduleNotFound(f"no schedule named '{name}'", hint="see `ocht schedule list`")
    return record


def list_schedules(
    store: Store, *, now: datetime | None = None, count: int = 3
) -> list[ScheduleView]:
    """Every schedule with its next ``count`` fire instants."""
    now = aware(now or _now())
    out: list[ScheduleView] = []
    for record in SchedulingStore(store).schedules():
        spec = ScheduleSpec.parse(record.spec)
        after = max(now, record.last_fire_at or now)
        fires = [] if record.paused else spec.trigger(record.created_at).next_fires(after, count)
        out.append(ScheduleView(record, spec, fires))
    return out


def set_paused(
    store: Store, name: str, paused: bool, *, now: datetime | None = None
) -> ScheduleRecord:
    """Pause or resume a schedule. Resuming does not run what fell due while paused.

    Raises:
        ScheduleNotFound: no schedule has that name.
    """
    book = SchedulingStore(store)
    values: dict[str, Any] = {"paused": paused}
    if not paused:
        values["last_fire_at"] = aware(now or _now())
    if not book.update_schedule(name, **values):
        raise ScheduleNotFound(f"no schedule named '{name}'", hint="see `ocht schedule list`")
    return get_schedule(store, name)


def remove_schedule(store: Store, name: str) -> None:
    """Remove a schedule (its past runs stay in the history).

    Raises:
        ScheduleNotFound: no schedule has that name.
    """
    if not SchedulingStore(store).remove_schedule(name):
        raise ScheduleNotFound(f"no schedule named '{name}'", hint="see `ocht schedule list`")


def tick(
    store: Store,
    queue: Queue,
    *,
    now: datetime | None = None,
    names: Sequence[str] | None = None,
) -> TickReport:
    """Queue every fire due by ``now`` (default: the clock), once.

    Args:
        store: the run store holding the schedules.
        queue: where the runs go.
        now: the instant to tick at.
        names: only these schedules (default: all).
    """
    now = aware(now or _now())
    book = SchedulingStore(store)
    report = TickReport()
    for record in book.schedules():
        if record.paused or (names is not None and record.name not in names):
            continue
        spec = ScheduleSpec.parse(record.spec)
        since = record.last_fire_at or record.created_at
        fires = spec.trigger(record.created_at).fires(since, now)
        if not fires:
            continue
        kept = [f for f in fires if now - f <= timedelta(seconds=spec.catchup_s)]
        if fires[-1] not in kept:
            kept.append(fires[-1])
        if len(kept) < len(fires):
            report.dropped[record.name] = len(fires) - len(kept)
            log.info("schedule.dropped", schedule=record.name, fires=len(fires) - len(kept))
        for fire in kept:
            _fire(store, queue, book, record, spec, fire, report)
        book.update_schedule(record.name, last_fire_at=fires[-1])
    return report


def _fire(
    store: Store,
    queue: Queue,
    book: SchedulingStore,
    record: ScheduleRecord,
    spec: ScheduleSpec,
    fire: datetime,
    report: TickReport,
) -> None:
    job_id = f"s:{record.name}:{fire.strftime('%Y%m%dT%H%M%SZ')}"
    if book.job(job_id) is not None:
        return  # another scheduler handled this fire
    period = spec.period_for(fire)
    fields: dict[str, Any] = {
        "id": job_id,
        "pipeline": record.pipeline,
        "source": record.source,
        "schedule": record.name,
        "fire_at": fire,
        "period": period.to_dict() if period else None,
        "lock": _lock(book, record, spec),
        "max_attempts": spec.retry.max_attempts,
        "backoff_s": spec.retry.backoff_s,
        "not_before": fire + timedelta(seconds=spec.jitter_for(record.name, fire)),
    }
    variables = dict(spec.variables)
    try:
        if period is not None:
            variables["period"] = period.variables()
            variables.update(resolve(spec.rules(), period, base_dir=Path(record.source).parent))
            loaded = load(record.source, spec.profile, variables)
            check_inputs(loaded, period)
    except OchtError as exc:  # a hole or a broken pipeline: this fire fails, visibly, unrun
        enqueue(store, queue, **fields, request={}, status="failed",
                error_code=exc.code, error_message=exc.message)  # fmt: skip
        report.failed.append(job_id)
        log.warning("schedule.fire_failed", schedule=record.name, job=job_id, error=exc.code)
        return
    fields["request"] = {"profile": spec.profile, "variables": variables, "queue": spec.queue}
    active = book.jobs(schedule=record.name, statuses=["queued", "running"])
    if len(active) >= spec.max_active and spec.overlap != "allow":
        waiting = [j for j in active if j.status == "queued"]
        if spec.overlap == "skip" or (spec.overlap == "buffer-one" and waiting):
            enqueue(store, queue, **fields, status="skipped", error_code="overlap-skipped",
                    error_message=f"the last run was still active ({spec.overlap})")  # fmt: skip
            report.skipped.append(job_id)
            return
        if spec.overlap == "cancel-running":
            for job in active:
                cancel_job(store, job.id, queue)
                report.cancelled.append(job.id)
    if enqueue(store, queue, **fields) is not None:
        report.queued.append(job_id)


def _lock(book: SchedulingStore, record: ScheduleRecord, spec: ScheduleSpec) -> str | None:
    """One lock per pipeline; ``max_active`` locks (taken in turn) when it allows more."""
    if spec.overlap == "allow":
        return None
    if spec.max_active == 1:
        return f"pipeline:{record.pipeline}"
    slot = len(book.jobs(schedule=record.name)) % spec.max_active
    return f"pipeline:{record.pipeline}:{slot}"


def run_scheduler(
    store: Store,
    *,
    tick_s: float = 5.0,
    stop: threading.Event | None = None,
    max_ticks: int | None = None,
) -> int:
    """Tick every ``tick_s`` seconds until ``stop`` is set (``ocht scheduler``).

    On the embedded store each tick also finds runs whose worker died and retries them.

    Returns:
        How many ticks ran.
    """
    from ocht.scheduler.local_pool import reap_local

    stop = stop or threading.Event()
    queue = open_queue(store)
    ticks = 0
    try:
        while not stop.is_set():
            report = tick(store, queue)
            if not uses_postgres(store):
                reap_local(store, SchedulingStore(store))
            ticks += 1
            if report.queued or report.skipped or report.failed:
                log.info(
                    "scheduler.tick",
                    queued=len(report.queued),
                    skipped=len(report.skipped),
                    failed=len(report.failed),
                )
            if max_ticks is not None and ticks >= max_ticks:
                break
            stop.wait(tick_s)
    finally:
        queue.close()
    return ticks
