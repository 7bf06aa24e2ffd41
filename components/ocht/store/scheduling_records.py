"""Values for schedules, queued runs and backfills: frozen dataclasses, JSON-ready."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

JobStatus = Literal[
    "queued", "running", "succeeded", "failed", "partial", "cancelled", "abandoned", "skipped"
]
JOB_STATUSES: tuple[str, ...] = (
    "queued", "running", "succeeded", "failed", "partial", "cancelled", "abandoned", "skipped",
)  # fmt: skip
ACTIVE_JOB_STATUSES: tuple[str, ...] = ("queued", "running")
FINAL_JOB_STATUSES: tuple[str, ...] = tuple(
    s for s in JOB_STATUSES if s not in ("queued", "running")
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class ScheduleRecord:
    """A stored schedule.

    Attributes:
        name: the schedule's name (unique).
        pipeline: the pipeline's name.
        source: the pipeline file the runs load.
        spec: trigger, policies, variables and resolvers (the scheduler reads them).
        paused: a paused schedule fires nothing.
        created_at: when it was added (UTC).
        last_fire_at: the last fire time handled (UTC), ``None`` before the first.
    """

    name: str
    pipeline: str
    source: str
    spec: dict[str, Any]
    paused: bool
    created_at: datetime
    last_fire_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        out = asdict(self)
        out["created_at"] = _iso(self.created_at)
        out["last_fire_at"] = _iso(self.last_fire_at)
        return out


@dataclass(frozen=True)
class JobRecord:
    """A run asked for: queued, running, or how it ended (with its latest attempt).

    Attributes:
        id: the job's id (stable: a schedule's fire or a backfill's period).
        pipeline: the pipeline's name.
        source: the pipeline file.
        request: profile and variables the run gets.
        schedule: the schedule that fired it, if any.
        backfill: the backfill it belongs to, if any.
        period_key: its period's key, if any.
        period: its period (calendar, key, start, end), if any.
        fire_at: the fire time it stands for (schedules).
        lock: runs sharing a lock never overlap (one pipeline, one backfill slot).
        status: ``queued``, ``running`` or a final status.
        cancel_requested: a cancel was asked for.
        attempt: attempts started so far.
        max_attempts: attempts allowed in all.
        backoff_s: the wait before the first retry (doubled each time).
        not_before: the earliest start (retries and jitter).
        queued_at: when it was asked for.
        started_at: when its latest attempt started.
        ended_at: when it ended.
        worker: the worker that ran the latest attempt (``host:pid/slot``).
        run_id: the latest attempt's run id (see ``ocht runs``).
        queue_ref: the queue's own id for it (PostgreSQL), if any.
        error_code: why it ended badly.
        error_message: the error's message (secrets redacted).
    """

    id: str
    pipeline: str
    source: str
    request: dict[str, Any]
    schedule: str | None
    backfill: str | None
    period_key: str | None
    period: dict[str, Any] | None
    fire_at: datetime | None
    lock: str | None
    status: JobStatus
    cancel_requested: bool
    attempt: int
    max_attempts: int
    backoff_s: float
    not_before: datetime
    queued_at: datetime
    started_at: datetime | None = None
    ended_at: datetime | None = None
    worker: str | None = None
    run_id: str | None = None
    queue_ref: int | None = None
    error_code: str | None = None
    error_message: str | None = None

    @property
    def active(self) -> bool:
        """Queued or running."""
        return self.status in ACTIVE_JOB_STATUSES

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        out = asdict(self)
        for name in ("fire_at", "not_before", "queued_at", "started_at", "ended_at"):
            out[name] = _iso(getattr(self, name))
        return out


@dataclass(frozen=True)
class BackfillRecord:
    """A backfill: one job per period of a range.

    Attributes:
        id: the backfill's id.
        pipeline: the pipeline's name.
        spec: calendar, range, concurrency, order and reprocess choice.
        created_at: when it was made (UTC).
    """

    id: str
    pipeline: str
    spec: dict[str, Any]
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        out = asdict(self)
        out["created_at"] = _iso(self.created_at)
        return out


@dataclass(frozen=True)
class RunOrigin:
    """Where one run (one attempt of a job) came from and who ran it.

    Attributes:
        run_id: the run's id (``ocht runs``).
        job_id: the job it is an attempt of.
        schedule: the schedule, if any.
        backfill: the backfill, if any.
        period_key: the period, if any.
        attempt: 1 for the first attempt.
        worker: ``host:pid/slot`` of the worker.
        started_at: when the attempt started.
        ended_at: when it ended.
        status: how the attempt ended (``running`` while it runs).
    """

    run_id: str
    job_id: str
    schedule: str | None
    backfill: str | None
    period_key: str | None
    attempt: int
    worker: str
    started_at: datetime
    ended_at: datetime | None = None
    status: str = "running"

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        out = asdict(self)
        out["started_at"] = _iso(self.started_at)
        out["ended_at"] = _iso(self.ended_at)
        return out
