"""What a schedule says: its trigger, overlap policy, catch-up window, jitter and retries.

Overlap policies (what happens when a fire comes while the last run is still active):

* ``skip`` (default): the fire is recorded as ``skipped``, nothing is queued.
* ``buffer-one``: queue it behind the active run, unless one is already waiting.
* ``cancel-running``: cancel the active run, then queue the new one.
* ``allow``: queue it and let the runs overlap (the pipeline's lock is lifted).

``max_active`` (default 1) lets a pipeline have that many runs active at once before the
policy applies.

Example:
    >>> s = ScheduleSpec(cron="0 6 * * *", timezone="Europe/Paris", overlap="buffer-one")
    >>> s.trigger().describe()
    'cron 0 6 * * * (Europe/Paris)'
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ocht.errors import OchtError
from ocht.scheduler.calendars import Calendar, Period, calendar
from ocht.scheduler.errors import InvalidSchedule
from ocht.scheduler.resolvers import Rule, parse_rules
from ocht.scheduler.triggers import Trigger, zone

Overlap = Literal["skip", "buffer-one", "cancel-running", "allow"]
OVERLAPS: tuple[str, ...] = ("skip", "buffer-one", "cancel-running", "allow")
Reprocess = Literal["none", "failed", "all"]
DEFAULT_QUEUE = "ocht"


class RetryPolicy(BaseModel):
    """Attempts per run and the wait between them (doubled after each failure).

    Attributes:
        max_attempts: attempts in all (1: no retry).
        backoff_s: seconds before the second attempt.
        max_backoff_s: the wait never grows past this.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_attempts: int = Field(default=1, ge=1, le=100)
    backoff_s: float = Field(default=30.0, ge=0)
    max_backoff_s: float = Field(default=3600.0, ge=0)

    def wait(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        return float(min(self.backoff_s * 2 ** max(0, attempt - 1), self.max_backoff_s))


class ScheduleSpec(BaseModel):
    """A schedule's settings (stored as JSON beside its name and pipeline).

    Attributes:
        cron: a five-field cron expression, or ``None`` with ``every``.
        timezone: the zone cron times (and periods) are in.
        every: seconds between fires, instead of ``cron``.
        overlap: what a fire does while the last run is active (see the module).
        catchup_s: after downtime, fires at most this old are still run (each);
            older ones are dropped. ``0``: only the latest missed fire runs.
        jitter_s: each run starts up to this many seconds after its fire
            (spread per fire, the same on every scheduler).
        retry: attempts and backoff per run.
        calendar: when set, each run gets the period before its fire
            (``${period.start}`` ...), resolved in ``timezone``.
        resolvers: where each period's inputs live (see :mod:`ocht.scheduler.resolvers`).
        profile: the profile each run applies.
        variables: values each run sets (like ``--set``).
        queue: the queue the runs go to (workers listen to queues).
        max_active: runs of this schedule that may be active at once (the overlap policy
            applies when that many are); above 1 the runs spread over that many locks.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    cron: str | None = None
    timezone: str = "UTC"
    every: float | None = Field(default=None, gt=0)
    overlap: Overlap = "skip"
    catchup_s: float = Field(default=0.0, ge=0)
    jitter_s: float = Field(default=0.0, ge=0)
    retry: RetryPolicy = RetryPolicy()
    calendar: str | None = None
    resolvers: dict[str, Any] = Field(default_factory=dict)
    profile: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)
    queue: str = DEFAULT_QUEUE
    max_active: int = Field(default=1, ge=1, le=1000)

    @model_validator(mode="after")
    def _check(self) -> ScheduleSpec:
        try:
            self.trigger()
            zone(self.timezone)
            if self.calendar is not None:
                calendar(self.calendar)
            parse_rules(self.resolvers)
        except OchtError as exc:  # reported by parse() with the other problems
            raise ValueError(exc.message) from None
        return self

    @classmethod
    def parse(cls, data: dict[str, Any]) -> ScheduleSpec:
        """Validate ``data``, raising :class:`InvalidSchedule` with every problem."""
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'schedule'}: "
                f"{str(e['msg']).removeprefix('Value error, ')}"
                for e in exc.errors()
            )
            raise InvalidSchedule(f"invalid schedule: {problems}") from None

    def trigger(self, anchor: datetime | None = None) -> Trigger:
        """The trigger (intervals count from ``anchor``, the schedule's creation)."""
        if self.every is not None and anchor is not None:
            return Trigger(interval=self.every, anchor=anchor)
        return Trigger(cron=self.cron, timezone=self.timezone, interval=self.every)

    def rules(self) -> tuple[Rule, ...]:
        """The parsed resolver rules."""
        return parse_rules(self.resolvers)

    def calendar_(self) -> Calendar | None:
        """The parsed calendar, if any."""
        return calendar(self.calendar) if self.calendar else None

    def period_for(self, fire: datetime) -> Period | None:
        """The last whole period before ``fire`` (in the schedule's zone), if a calendar is set."""
        cal = self.calendar_()
        if cal is None:
            return None
        local_day: date = fire.astimezone(zone(self.timezone)).date()
        current = cal.period_of(_business_floor(cal, local_day))
        return cal.period_of(_business_floor(cal, current.start - timedelta(days=1)))

    def jitter_for(self, name: str, fire: datetime) -> float:
        """A delay in ``[0, jitter_s)``, the same for one fire on every scheduler."""
        if not self.jitter_s:
            return 0.0
        digest = hashlib.sha256(f"{name}|{fire.isoformat()}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 * self.jitter_s


def _business_floor(cal: Calendar, day: date) -> date:
    """``day``, or for a business calendar the business day on or before it."""
    if cal.kind != "business":
        return day
    while not cal.is_business_day(day):
        day -= timedelta(days=1)
    return day
