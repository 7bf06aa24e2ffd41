"""``ocht runs`` and ``ocht state``: what ran, and what incremental loads remember.

Definitions only import click; the store is opened when a command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from ocht.store import Store

STATUSES = ["running", "succeeded", "failed", "partial", "abandoned", "cancelled", "stopped"]


def open_store(home: Path | None = None) -> Store:
    """The project's run store: ``$OCHT_STORE_URL``, else ``ocht.db`` in the project home.

    Args:
        home: the project home (default: the one found from the working directory).
    """
    from ocht.config import Settings
    from ocht.store import Store

    settings = Settings()
    return Store(settings.store_url_for(home or settings.home_for(None)))


@click.group(invoke_without_command=True)
@click.option("--pipeline", "-P", default=None, help="Only runs of this pipeline.")
@click.option("--status", type=click.Choice(STATUSES), default=None, help="Only this status.")
@click.option("--limit", "-n", type=click.IntRange(min=1), default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--backfill", default=None, metavar="ID", help="A backfill's runs, per period.")
@click.option("--schedule", default=None, metavar="NAME", help="A schedule's runs, per fire.")
@click.pass_context
def runs(
    ctx: click.Context,
    pipeline: str | None,
    status: str | None,
    limit: int,
    as_json: bool,
    backfill: str | None,
    schedule: str | None,
) -> None:
    """List recent runs (newest first), from the run store.

    \b
    Examples:
      ocht runs
      ocht runs --pipeline orders_clean --status failed
      ocht runs show 20240301T101500-3f9a2c
    """
    if ctx.invoked_subcommand is not None:
        return
    if backfill is not None or schedule is not None:
        from ocht.cli.jobs_view import jobs_command

        with open_store() as store:
            jobs_command(store, backfill=backfill, schedule=schedule, as_json=as_json, limit=limit)
        return
    from rich.table import Table

    from ocht.cli.consoles import print_table

    with open_store() as store:
        records = store.runs(pipeline=pipeline, status=status, limit=limit)
    if as_json:
        click.echo(json.dumps([r.to_dict() for r in records], indent=2, default=str))
        return
    if not records:
        click.echo("no runs recorded yet")
        return
    table = Table(show_edge=False, pad_edge=False)
    for col in (
        "run id",
        "pipeline",
        "status",
        "started (UTC)",
        "seconds",
        "read",
        "written",
        "dead",
        "error",
    ):
        table.add_column(
            col, justify="right" if col in ("seconds", "read", "written", "dead") else "left"
        )
    colors = {
        "succeeded": "green",
        "stopped": "green",
        "failed": "red",
        "abandoned": "yellow",
        "running": "cyan",
    }
    for r in records:
        secs = f"{r.seconds:.2f}" if r.seconds is not None else "-"
        table.add_row(
            r.run_id,
            r.pipeline,
            f"[{colors.get(r.status, 'white')}]{r.status}[/]",
            f"{r.started_at:%Y-%m-%d %H:%M:%S}",
            secs,
            f"{sum(r.rows_read.values()):,}",
            f"{sum(r.rows_written.values()):,}",
            f"{r.dead_letters:,}",
            r.error_code or "",
        )
    print_table(table)


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the manifest as JSON.")
def runs_show(run_id: str, as_json: bool) -> None:
    """Show one run's full manifest: counts per input, step and output, cursors, error.

    RUN_ID may be a unique prefix.
    """
    from ocht.cli.consoles import out_console
    from ocht.store import SchedulingStore

    with open_store() as store:
        record = store.run(run_id)
        origins = SchedulingStore(store).origins(run_ids=[record.run_id])
    data = record.to_dict()
    if origins:  # queued by a schedule or a backfill: which, for which period, which attempt
        data["origin"] = origins[0].to_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
        return
    out_console.print(
        f"[bold]{record.run_id}[/]  {record.pipeline}  status [bold]{record.status}[/]"
    )
    for key in (
        "content_hash",
        "profile",
        "mode",
        "started_at",
        "ended_at",
        "seconds",
        "host",
        "pid",
        "dead_letters",
        "error_code",
        "error_message",
    ):
        if data.get(key) not in (None, ""):
            out_console.print(f"  {key:14} {data[key]}")
    if origins:
        o = origins[0]
        source = f"schedule {o.schedule}" if o.schedule else f"backfill {o.backfill}"
        period = f", period {o.period_key}" if o.period_key else ""
        out_console.print(
            f"  {'origin':14} {source}{period}, job {o.job_id}, attempt {o.attempt}, "
            f"worker {o.worker}"
        )
    for key in ("rows_read", "rows_written"):
        for name, rows in data[key].items():
            out_console.print(f"  {key:14} {name}: {rows:,}")
    for step in data.get("extra", {}).get("steps", []):
        out_console.print(
            f"  step           {step['step']} [{step['kind']}] "
            f"{step['rows_in']:,} → {step['rows_out']:,}"
        )
    for key in ("cursors_before", "cursors_after"):
        if data[key]:
            out_console.print(f"  {key:14} {json.dumps(data[key], default=str)}")


@click.group()
def state() -> None:
    """Show or reset what incremental loads remember (cursors, boundary keys)."""


@state.command("show")
@click.argument("pipeline")
def state_show(pipeline: str) -> None:
    """Print PIPELINE's stored state as JSON."""
    with open_store() as store:
        values = store.get_state(pipeline)
    if not values:
        click.echo(f"no state stored for '{pipeline}'")
        return
    click.echo(json.dumps(values, indent=2, default=str))


@state.command("reset")
@click.argument("pipeline")
@click.option("--key", default=None, help="Reset one input's state only.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
def state_reset(pipeline: str, key: str | None, yes: bool) -> None:
    """Forget PIPELINE's state: the next run reads everything again."""
    if not yes:
        click.confirm(f"forget the stored state of '{pipeline}'?", abort=True)
    with open_store() as store:
        removed = store.reset_state(pipeline, key)
    click.echo(f"removed {removed} state entr{'y' if removed == 1 else 'ies'} of '{pipeline}'")
