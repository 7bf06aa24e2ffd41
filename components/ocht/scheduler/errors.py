"""The scheduler's errors.

OchtError                     (ocht.errors)
└── SchedulerError            scheduler-error
    ├── InvalidSchedule       invalid-schedule    a cron, interval, policy or window refused (exit 2)
    ├── InvalidPeriod         invalid-period      a calendar, date or period range refused (exit 2)
    ├── ScheduleNotFound      schedule-not-found  no schedule has that name (exit 2)
    ├── MissingLocation       missing-location    no file where a period's input should be (exit 2)
    ├── JobNotFound           job-not-found       no queued run has that id (exit 2)
    └── QueueUnavailable      queue-unavailable   the queue's database cannot be used
"""

from __future__ import annotations

from ocht.errors import EXIT_INVALID, OchtError


class SchedulerError(OchtError):
    """Something went wrong scheduling or dispatching runs."""

    code = "scheduler-error"


class InvalidSchedule(SchedulerError):
    """A schedule's cron expression, time zone, interval, policy or window is refused."""

    code = "invalid-schedule"
    exit_code = EXIT_INVALID


class InvalidPeriod(SchedulerError):
    """A calendar name, a date or a range of periods is refused."""

    code = "invalid-period"
    exit_code = EXIT_INVALID


class ScheduleNotFound(SchedulerError):
    """No schedule has the name asked for."""

    code = "schedule-not-found"
    exit_code = EXIT_INVALID


class MissingLocation(SchedulerError):
    """A period's input resolves to a location where no file exists."""

    code = "missing-location"
    exit_code = EXIT_INVALID


class JobNotFound(SchedulerError):
    """No queued or finished run has the id asked for."""

    code = "job-not-found"
    exit_code = EXIT_INVALID


class QueueUnavailable(SchedulerError):
    """The queue's database cannot be reached or prepared."""

    code = "queue-unavailable"
