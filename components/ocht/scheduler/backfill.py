"""Backfills: one run per period of a range, in order or in parallel.

:func:`plan_backfill` decides, before anything runs, which periods get a run: every
period's input locations are resolved and checked (a missing one is an error naming
every period it misses), the pipeline is loaded with each period (its file inputs must exist), and earlier results for the same pipeline, calendar and period decide what to
do with each under ``reprocess``:

* ``none``: periods that were already processed (whatever the outcome) are left alone;
* ``failed``: periods whose latest run failed, was cancelled or abandoned run again;
* ``all``: every period runs again.

:func:`submit_backfill` queues the runs. ``concurrency=1`` runs them in period order
(they share the pipeline's lock); ``concurrency=N`` spreads them over ``N`` locks, so at
most ``N`` run at once, each lock's periods in order.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from ocht.scheduler.calendars import Period, calendar
from ocht.scheduler.dispatch import Queue, enqueue
from ocht.scheduler.errors import InvalidPeriod, MissingLocation
from ocht.scheduler.resolvers import check_inputs, load, parse_rules, resolve
from ocht.scheduler.schedules import pipeline_name
from ocht.scheduler.spec import DEFAULT_QUEUE, Reprocess, RetryPolicy
from ocht.store import BackfillRecord, JobRecord, SchedulingStore, Store

_DONE = ("succeeded", "partial", "failed", "cancelled", "abandoned")
_BAD = ("failed", "cancelled", "abandoned")


@dataclass(frozen=True)
class PlannedRun:
    """One period of a backfill and what will happen to it.

    Attributes:
        period: the period.
        action: ``run``, or ``keep`` (left alone under the reprocess choice).
        reason: why (``new``, ``reprocess failed``, ``succeeded before`` ...).
        variables: what the run gets (``period`` and the resolved locations).
    """

    period: Period
    action: str
    reason: str
    variables: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {"period": self.period.to_dict(), "action": self.action, "reason": self.reason}


@dataclass(frozen=True)
class BackfillPlan:
    """What a backfill will queue.

    Attributes:
        pipeline: the pipeline's name.
        source: the pipeline file.
        calendar: the calendar's spec.
        runs: one entry per period, in period order.
        concurrency: at most this many runs at once.
        reprocess: ``none``, ``failed`` or ``all``.
        profile: the profile each run applies.
        retry: attempts and backoff per run.
        queue: the queue the runs go to.
    """

    pipeline: str
    source: str
    calendar: str
    runs: list[PlannedRun]
    concurrency: int = 1
    reprocess: str = "none"
    profile: str | None = None
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    queue: str = DEFAULT_QUEUE

    @property
    def to_run(self) -> list[PlannedRun]:
        """The periods that get a run."""
        return [r for r in self.runs if r.action == "run"]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "pipeline": self.pipeline,
            "source": self.source,
            "calendar": self.calendar,
            "concurrency": self.concurrency,
            "reprocess": self.reprocess,
            "runs": [r.to_dict() for r in self.runs],
        }


def _latest_by_period(book: SchedulingStore, pipeline: str, cal: str) -> dict[str, JobRecord]:
    latest: dict[str, JobRecord] = {}
    for job in book.jobs(pipeline=pipeline):
        if job.period is None or job.period.get("calendar") != cal or job.status == "skipped":
            continue
        key = str(job.period_key)
        if key not in latest or job.queued_at >= latest[key].queued_at:
            latest[key] = job
    return latest


def plan_backfill(
    store: Store,
    source: str | Path,
    first: date,
    last: date,
    *,
    calendar_spec: str = "daily",
    holidays: Sequence[date | str] = (),
    reprocess: Reprocess = "none",
    concurrency: int = 1,
    resolvers: Mapping[str, Any] | None = None,
    variables: Mapping[str, Any] | None = None,
    profile: str | None = None,
    retry: RetryPolicy | None = None,
    queue: str = DEFAULT_QUEUE,
) -> BackfillPlan:
    """Decide which periods of ``[first, last]`` get a run (nothing is queued).

    Raises:
        InvalidPeriod: a bad calendar or range, or ``concurrency`` below 1.
        MissingLocation: some periods' inputs are missing (all of them are named).
        InvalidPipeline: the pipeline does not load with a period's variables.

    Every period that gets a run is loaded with its variables and its file inputs are
    checked, so a plan that is returned has no known hole.
    """
    if concurrency < 1:
        raise InvalidPeriod("--concurrency must be at least 1")
    if reprocess not in ("none", "failed", "all"):
        raise InvalidPeriod(f"unknown reprocess choice '{reprocess}'", hint="none, failed or all")
    path = Path(source).resolve()
    name = pipeline_name(path)
    cal = calendar(calendar_spec, holidays)
    rules = parse_rules(resolvers)
    periods = cal.periods(first, last)
    latest = _latest_by_period(SchedulingStore(store), name, cal.spec)
    runs: list[PlannedRun] = []
    missing: list[str] = []
    for period in periods:
        before = latest.get(period.key)
        action, reason = "run", "new"
        if before is not None and before.active:
            action, reason = "keep", f"already {before.status}"
        elif before is not None and reprocess == "none":
            action, reason = "keep", f"{before.status} before"
        elif before is not None and reprocess == "failed":
            if before.status in _BAD:
                reason = f"reprocess {before.status}"
            else:
                action, reason = "keep", f"{before.status} before"
        elif before is not None:
            reason = f"reprocess {before.status}"
        values = {**dict(variables or {}), "period": period.variables()}
        if action == "run":
            try:
                values.update(resolve(rules, period, base_dir=path.parent))
                check_inputs(load(path, profile, values), period)
            except MissingLocation as exc:
                missing.append(exc.message)
        runs.append(PlannedRun(period, action, reason, values))
    if missing:
        shown = "; ".join(missing[:10]) + (
            f"; and {len(missing) - 10} more" if len(missing) > 10 else ""
        )
        raise MissingLocation(
            f"{len(missing)} of {len(periods)} periods have a missing input: {shown}",
            hint="add the data, narrow --from/--to, or add when: rules for those periods",
        )
    return BackfillPlan(
        name,
        str(path),
        cal.spec,
        runs,
        concurrency,
        reprocess,
        profile,
        retry or RetryPolicy(),
        queue,
    )


def submit_backfill(store: Store, queue: Queue, plan: BackfillPlan) -> BackfillRecord:
    """Queue one job per period the plan runs; the backfill's id names them all."""
    book = SchedulingStore(store)
    backfill_id = uuid.uuid4().hex[:12]
    record = book.add_backfill(
        backfill_id,
        pipeline=plan.pipeline,
        spec={
            **plan.to_dict(),
            "runs": [r.period.key for r in plan.to_run],
        },
    )
    for i, run in enumerate(plan.to_run):
        lock = (
            f"pipeline:{plan.pipeline}"
            if plan.concurrency == 1
            else f"backfill:{backfill_id}:{i % plan.concurrency}"
        )
        enqueue(
            store,
            queue,
            id=f"b:{backfill_id}:{run.period.key}",
            pipeline=plan.pipeline,
            source=plan.source,
            request={"profile": plan.profile, "variables": run.variables, "queue": plan.queue},
            backfill=backfill_id,
            period=run.period.to_dict(),
            lock=lock,
            max_attempts=plan.retry.max_attempts,
            backoff_s=plan.retry.backoff_s,
        )
    return record


@dataclass(frozen=True)
class BackfillProgress:
    """Where a backfill stands.

    Attributes:
        backfill: the backfill.
        jobs: its jobs, in period order.
        counts: jobs per status.
    """

    backfill: BackfillRecord
    jobs: list[JobRecord]
    counts: dict[str, int]

    @property
    def done(self) -> bool:
        """Whether every job has ended."""
        return all(j.status in _DONE for j in self.jobs)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {
            "backfill": self.backfill.to_dict(),
            "counts": self.counts,
            "done": self.done,
            "periods": [
                {
                    "period": j.period_key,
                    "status": j.status,
                    "attempt": j.attempt,
                    "run_id": j.run_id,
                    "worker": j.worker,
                    "error_code": j.error_code,
                }
                for j in self.jobs
            ],
        }


def backfill_progress(store: Store, backfill_id: str) -> BackfillProgress:
    """A backfill's jobs and how many are in each status.

    Raises:
        JobNotFound: no backfill has that id (or unique prefix).
    """
    from ocht.scheduler.errors import JobNotFound

    book = SchedulingStore(store)
    record = book.backfill(backfill_id)
    if record is None:
        raise JobNotFound(f"no backfill with id '{backfill_id}'")
    jobs = sorted(
        book.jobs(backfill=record.id), key=lambda j: j.period.get("start", "") if j.period else ""
    )
    counts: dict[str, int] = {}
    for job in jobs:
        counts[job.status] = counts.get(job.status, 0) + 1
    return BackfillProgress(record, jobs, counts)
