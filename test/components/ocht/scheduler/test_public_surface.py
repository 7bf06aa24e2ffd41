import subprocess
import sys

import ocht.scheduler as scheduler_brick


def test_public_surface_is_pinned() -> None:
    assert scheduler_brick.__all__ == [
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
    for name in scheduler_brick.__all__:
        assert getattr(scheduler_brick, name).__doc__, name


def test_importing_the_brick_does_not_load_the_queue_library() -> None:
    code = "import sys, ocht.scheduler; print('procrastinate' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
