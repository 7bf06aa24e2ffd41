"""``ocht schedule``, ``ocht scheduler``, ``ocht backfill`` and ``ocht runs cancel``.

Definitions only import click; the scheduler brick loads when a command runs (and
procrastinate only when the store is on PostgreSQL).
"""

from __future__ import annotations

import json
from typing import Any

import click

from ocht.cli.jobs_view import show_jobs
from ocht.cli.store_commands import open_store

OVERLAPS = ["skip", "buffer-one", "cancel-running", "allow"]


def _logging(obj: dict[str, Any] | None, level: str | None = None) -> None:
    """Logs on stderr as ``ocht run`` sets them up (``level`` for long-running commands)."""
    from ocht.config import Settings
    from ocht.observability import configure_logging

    obj = obj or {}
    settings = Settings()
    chosen = "debug" if obj.get("debug") else (level or settings.log_level)
    configure_logging(obj.get("log_format") or settings.log_format, chosen)


def _rules(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    from ocht.pipeline_model import read_document

    data = read_document(path).data
    if not isinstance(data, dict):
        raise click.UsageError(f"{path}: resolver rules are a mapping of variable → rule")
    return data


def _retry_options(func: Any) -> Any:
    func = click.option(
        "--max-attempts",
        type=click.IntRange(1, 100),
        default=1,
        show_default=True,
        help="Attempts per run in all (retries = attempts - 1).",
    )(func)
    return click.option(
        "--backoff",
        default="30s",
        show_default=True,
        metavar="DURATION",
        help="Wait before the first retry; doubled after each failure.",
    )(func)


def _run_options(func: Any) -> Any:
    for option in reversed(
        [
            click.option("--set", "sets", multiple=True, metavar="NAME=VALUE",
                         help="Set a pipeline variable for every run (repeatable)."),
            click.option("--profile", "-p", default=None, help="Apply a profile to every run."),
            click.option("--resolve", "resolve_file", type=click.Path(exists=True, dir_okay=False),
                         default=None, help="YAML file of resolver rules (input location per period)."),
            click.option("--queue", default="ocht", show_default=True,
                         help="The queue the runs go to (PostgreSQL workers listen to queues)."),
        ]
    ):  # fmt: skip
        func = option(func)
    return _retry_options(func)


@click.group()
def schedule() -> None:
    """Run pipelines on a schedule: cron with a time zone, or an interval.

    `ocht scheduler` fires the schedules; `ocht-worker runs` executes the runs.

    \b
    Examples:
      ocht schedule add nightly pipeline.yaml --cron '0 2 * * *' --tz Europe/Paris
      ocht schedule add sync pipeline.yaml --every 15m --overlap buffer-one
      ocht schedule add daily pipeline.yaml --cron '0 6 * * *' --calendar daily
      ocht schedule list
    """


@schedule.command("add")
@click.argument("name")
@click.argument("pipeline", type=click.Path(exists=True, dir_okay=False))
@click.option("--cron", default=None, help="Five-field cron expression.")
@click.option("--every", default=None, metavar="DURATION", help="Fire every 30s, 15m, 1h ...")
@click.option("--tz", "timezone", default="UTC", show_default=True, help="Time zone of --cron.")
@click.option("--overlap", type=click.Choice(OVERLAPS), default="skip", show_default=True,
              help="What a fire does while the last run is still active.")  # fmt: skip
@click.option("--max-active", type=click.IntRange(1, 1000), default=1, show_default=True,
              help="Runs of this schedule active at once before --overlap applies.")  # fmt: skip
@click.option("--catch-up", "catch_up", default="0s", show_default=True, metavar="DURATION",
              help="After downtime, run missed fires at most this old (the latest always runs).")  # fmt: skip
@click.option("--jitter", default="0s", show_default=True, metavar="DURATION",
              help="Start each run up to this long after its fire.")  # fmt: skip
@click.option("--calendar", "calendar_spec", default=None,
              help="Give each run the period before its fire: daily, monthly, fiscal-quarter:4 ...")  # fmt: skip
@_run_options
def schedule_add(
    name: str,
    pipeline: str,
    cron: str | None,
    every: str | None,
    timezone: str,
    overlap: str,
    max_active: int,
    catch_up: str,
    jitter: str,
    calendar_spec: str | None,
    sets: tuple[str, ...],
    profile: str | None,
    resolve_file: str | None,
    queue: str,
    max_attempts: int,
    backoff: str,
) -> None:
    """Add schedule NAME for PIPELINE and print its next fire times."""
    from ocht.config import parse_set
    from ocht.scheduler import ScheduleSpec, add_schedule, list_schedules, parse_duration

    spec = ScheduleSpec.parse(
        {
            "cron": cron,
            "timezone": timezone,
            "every": parse_duration(every, "--every") if every else None,
            "overlap": overlap,
            "max_active": max_active,
            "catchup_s": parse_duration(catch_up, "--catch-up"),
            "jitter_s": parse_duration(jitter, "--jitter"),
            "retry": {
                "max_attempts": max_attempts,
                "backoff_s": parse_duration(backoff, "--backoff"),
            },
            "calendar": calendar_spec,
            "resolvers": _rules(resolve_file),
            "profile": profile,
            "variables": parse_set(list(sets)),
            "queue": queue,
        }
    )
    with open_store() as store:
        add_schedule(store, name, pipeline, spec)
        view = next(v for v in list_schedules(store) if v.record.name == name)
    click.secho(f"added schedule '{name}' ({view.to_dict()['trigger']})", fg="green")
    for fire in view.next_fires:
        click.echo(f"  next  {fire:%Y-%m-%d %H:%M:%S} UTC")


@schedule.command("list")
@click.option("--next", "count", type=click.IntRange(1, 50), default=3, show_default=True,
              help="How many next fire times to show.")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def schedule_list(count: int, as_json: bool) -> None:
    """List schedules with their next fire times (UTC)."""
    from rich.table import Table

    from ocht.cli.consoles import out_console
    from ocht.scheduler import list_schedules

    with open_store() as store:
        views = list_schedules(store, count=count)
    if as_json:
        click.echo(json.dumps([v.to_dict() for v in views], indent=2, default=str))
        return
    if not views:
        click.echo("no schedules yet (ocht schedule add NAME PIPELINE --cron ...)")
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in ("name", "pipeline", "trigger", "overlap", "state", "next fires (UTC)"):
        table.add_column(col)
    for v in views:
        table.add_row(
            v.record.name,
            v.record.pipeline,
            v.to_dict()["trigger"],
            v.spec.overlap,
            "[yellow]paused[/]" if v.record.paused else "[green]active[/]",
            ", ".join(f"{f:%Y-%m-%d %H:%M}" for f in v.next_fires) or "-",
        )
    out_console.print(table)


@schedule.command("pause")
@click.argument("name")
def schedule_pause(name: str) -> None:
    """Pause schedule NAME: it fires nothing until resumed."""
    from ocht.scheduler import set_paused

    with open_store() as store:
        set_paused(store, name, True)
    click.echo(f"paused '{name}'")


@schedule.command("resume")
@click.argument("name")
def schedule_resume(name: str) -> None:
    """Resume schedule NAME from now on (fires missed while paused are not run)."""
    from ocht.scheduler import set_paused

    with open_store() as store:
        set_paused(store, name, False)
    click.echo(f"resumed '{name}'")


@schedule.command("remove")
@click.argument("name")
def schedule_remove(name: str) -> None:
    """Remove schedule NAME (its runs stay in `ocht runs`)."""
    from ocht.scheduler import remove_schedule

    with open_store() as store:
        remove_schedule(store, name)
    click.echo(f"removed '{name}'")


@click.command("scheduler")
@click.option("--tick", "tick_s", type=click.FloatRange(min=0.1), default=5.0, show_default=True,
              metavar="SECONDS", help="How often to look for due fires.")  # fmt: skip
@click.option("--once", is_flag=True, help="Handle what is due now, then stop.")
@click.pass_obj
def scheduler(obj: dict[str, Any] | None, tick_s: float, once: bool) -> None:
    """Fire schedules until stopped: queue one run per due fire.

    Runs are executed by `ocht-worker runs` (any number, on PostgreSQL on any number of
    machines). Several schedulers may run at once: each fire is queued once.
    """
    import signal
    import threading

    from ocht.scheduler import run_scheduler

    _logging(obj, "info")
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with open_store() as store:
        ticks = run_scheduler(store, tick_s=tick_s, stop=stop, max_ticks=1 if once else None)
    click.echo(f"scheduler stopped after {ticks} tick(s)", err=True)


@click.command("backfill")
@click.argument("pipeline", type=click.Path(exists=True, dir_okay=False))
@click.option("--from", "first", required=True, metavar="DATE", help="First day (YYYY-MM-DD).")
@click.option("--to", "last", required=True, metavar="DATE", help="Last day, included.")
@click.option("--calendar", "calendar_spec", default="daily", show_default=True,
              help="daily, weekly, monthly, quarterly, yearly, business, fiscal-year:M, "
              "fiscal-quarter:M.")  # fmt: skip
@click.option("--holiday", "holidays", multiple=True, metavar="DATE",
              help="A day the business calendar skips (repeatable).")  # fmt: skip
@click.option("--concurrency", "-c", type=click.IntRange(min=1), default=1, show_default=True,
              help="Runs at once; 1 runs the periods in order.")  # fmt: skip
@click.option("--reprocess", type=click.Choice(["none", "failed", "all"]), default="none",
              show_default=True, help="Periods processed before: leave, redo failed, redo all.")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="List the runs it would make; queue nothing.")
@click.option("--wait/--no-wait", default=True, show_default=True,
              help="Follow the runs to the end (on SQLite: run them here).")  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@_run_options
@click.pass_obj
def backfill(
    obj: dict[str, Any] | None,
    pipeline: str,
    first: str,
    last: str,
    calendar_spec: str,
    holidays: tuple[str, ...],
    concurrency: int,
    reprocess: str,
    dry_run: bool,
    wait: bool,
    as_json: bool,
    sets: tuple[str, ...],
    profile: str | None,
    resolve_file: str | None,
    queue: str,
    max_attempts: int,
    backoff: str,
) -> None:
    """Run PIPELINE once per period from --from to --to (${period.start}, ${period.key} ...).

    Every period's inputs are checked before anything runs. Progress and the result per
    period: `ocht runs --backfill ID`.

    \b
    Examples:
      ocht backfill pipeline.yaml --from 2024-01-01 --to 2024-01-31 --concurrency 4
      ocht backfill pipeline.yaml --from 2023-04-01 --to 2024-03-31 --calendar fiscal-quarter:4
      ocht backfill pipeline.yaml --from 2024-01-01 --to 2024-06-30 --calendar monthly --dry-run
    """
    from ocht.config import parse_set
    from ocht.scheduler import RetryPolicy, parse_date, parse_duration, plan_backfill

    _logging(obj)
    retry = RetryPolicy(max_attempts=max_attempts, backoff_s=parse_duration(backoff, "--backoff"))
    with open_store() as store:
        plan = plan_backfill(
            store,
            pipeline,
            parse_date(first, "--from"),
            parse_date(last, "--to"),
            calendar_spec=calendar_spec,
            holidays=holidays,
            reprocess=reprocess,  # type: ignore[arg-type]
            concurrency=concurrency,
            resolvers=_rules(resolve_file),
            variables=parse_set(list(sets)),
            profile=profile,
            retry=retry,
            queue=queue,
        )
        if dry_run:
            _show_plan(plan, as_json)
            return
        _submit_and_follow(store, plan, wait=wait, as_json=as_json)


def _show_plan(plan: Any, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(plan.to_dict(), indent=2))
        return
    todo = len(plan.to_run)
    click.echo(f"{plan.pipeline}: {todo} run(s) of {len(plan.runs)} {plan.calendar} period(s)")
    for run in plan.runs:
        p = run.period
        mark = "run " if run.action == "run" else "keep"
        click.echo(f"  {mark}  {p.key:12} {p.start} .. {p.last}  ({run.reason})")
    click.echo("dry run: nothing was queued")


def _submit_and_follow(store: Any, plan: Any, *, wait: bool, as_json: bool) -> None:
    import time

    from ocht.scheduler import (
        LocalPool,
        backfill_progress,
        open_queue,
        submit_backfill,
        uses_postgres,
    )

    queue = open_queue(store)
    try:
        record = submit_backfill(store, queue, plan)
    finally:
        queue.close()
    if not as_json:
        click.echo(f"backfill {record.id}: queued {len(plan.to_run)} run(s)", err=True)
    if wait and plan.to_run:
        if uses_postgres(store):
            seen = -1
            while not (progress := backfill_progress(store, record.id)).done:
                done = sum(n for s, n in progress.counts.items() if s not in ("queued", "running"))
                if done != seen and not as_json:
                    click.echo(f"  {done}/{len(progress.jobs)} done", err=True)
                    seen = done
                time.sleep(1.0)
        else:
            LocalPool(store, concurrency=plan.concurrency).run(until_idle=True)
    progress = backfill_progress(store, record.id)
    if as_json:
        click.echo(json.dumps(progress.to_dict(), indent=2, default=str))
        return
    show_jobs(progress.jobs)
    counts = ", ".join(f"{n} {s}" for s, n in sorted(progress.counts.items()))
    click.echo(f"backfill {record.id}: {counts or 'nothing to do'}")
    if any(j.status in ("failed", "abandoned") for j in progress.jobs):
        raise click.exceptions.Exit(1)


@click.command("cancel")
@click.argument("job_id")
def cancel(job_id: str) -> None:
    """Cancel queued or running run JOB_ID (a unique prefix will do).

    A queued run never starts; a running one stops without changing any output and is
    recorded cancelled.
    """
    from ocht.scheduler import cancel_job

    with open_store() as store:
        job = cancel_job(store, job_id)
    state = "cancel requested" if job.status == "running" else job.status
    click.echo(f"{job.id}: {state}")
