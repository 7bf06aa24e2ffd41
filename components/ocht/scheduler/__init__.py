"""Runs at scale and on time: schedules, calendars and periods, backfills, the run queue.

Runs are queued as jobs and executed by workers through the executor's front door: on
PostgreSQL through procrastinate (any number of ``ocht-worker runs`` processes on any
number of machines), on the embedded SQLite store by a local pool with the same
semantics. Schedules fire on cron (with a time zone) or an interval, with an overlap
policy, a catch-up window, jitter and retries; backfills queue one run per period of a
calendar. Every function here takes a :class:`~ocht.store.Store`, so the CLI and the
HTTP API call the same operations.

Example:
    >>> from datetime import date
    >>> from ocht.scheduler import calendar
    >>> [p.key for p in calendar("quarterly").periods(date(2024, 2, 1), date(2024, 7, 1))]
    ['2024-Q1', '2024-Q2', '2024-Q3']
"""

from ocht.scheduler.backfill import (
    BackfillPlan,
    BackfillProgress,
    PlannedRun,
    backfill_progress,
    plan_backfill,
    submit_backfill,
)
from ocht.scheduler.calendars import CALENDARS, Calendar, Period, calendar, parse_date
from ocht.scheduler.dispatch import (
    LocalQueue,
    Queue,
    cancel_job,
    enqueue,
    open_queue,
    uses_postgres,
)
from ocht.scheduler.errors import (
    InvalidPeriod,
    InvalidSchedule,
    JobNotFound,
    MissingLocation,
    QueueUnavailable,
    ScheduleNotFound,
    SchedulerError,
)
from ocht.scheduler.execute import Outcome, run_attempt
from ocht.scheduler.local_pool import LocalPool, reap_local
from ocht.scheduler.resolvers import Rule, When, parse_rules, resolve
from ocht.scheduler.schedules import (
    ScheduleView,
    TickReport,
    add_schedule,
    get_schedule,
    list_schedules,
    pipeline_name,
    remove_schedule,
    run_scheduler,
    set_paused,
    tick,
)
from ocht.scheduler.spec import OVERLAPS, RetryPolicy, ScheduleSpec
from ocht.scheduler.triggers import Trigger, parse_duration
from ocht.scheduler.workers import run_workers

__all__ = [
    "CALENDARS",
    "OVERLAPS",
    "BackfillPlan",
    "BackfillProgress",
    "Calendar",
    "InvalidPeriod",
    "InvalidSchedule",
    "JobNotFound",
    "LocalPool",
    "LocalQueue",
    "MissingLocation",
    "Outcome",
    "Period",
    "PlannedRun",
    "Queue",
    "QueueUnavailable",
    "RetryPolicy",
    "Rule",
    "ScheduleNotFound",
    "ScheduleSpec",
    "ScheduleView",
    "SchedulerError",
    "TickReport",
    "Trigger",
    "When",
    "add_schedule",
    "backfill_progress",
    "calendar",
    "cancel_job",
    "enqueue",
    "get_schedule",
    "list_schedules",
    "open_queue",
    "parse_date",
    "parse_duration",
    "parse_rules",
    "pipeline_name",
    "plan_backfill",
    "reap_local",
    "remove_schedule",
    "resolve",
    "run_attempt",
    "run_scheduler",
    "run_workers",
    "set_paused",
    "submit_backfill",
    "tick",
    "uses_postgres",
]
