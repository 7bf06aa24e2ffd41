"""How the CLI shows queued runs (jobs): per period or per fire, with attempt and worker.

Takes an open store, so ``ocht runs`` and ``ocht backfill`` share it without importing
each other.
"""

from __future__ import annotations

import json
from typing import Any

import click


def show_jobs(jobs: list[Any]) -> None:
    """A table of jobs: period, status, attempt, worker, run id, error."""
    from rich.table import Table

    from ocht.cli.consoles import out_console

    colors = {"succeeded": "green", "failed": "red", "abandoned": "yellow", "running": "cyan",
              "cancelled": "magenta", "skipped": "dim"}  # fmt: skip
    table = Table(show_edge=False, pad_edge=False)
    for col in ("job", "period", "status", "attempt", "worker", "run id", "error"):
        table.add_column(col)
    for j in jobs:
        table.add_row(
            j.id,
            j.period_key or (f"{j.fire_at:%Y-%m-%d %H:%M}" if j.fire_at else "-"),
            f"[{colors.get(j.status, 'white')}]{j.status}[/]",
            f"{j.attempt}/{j.max_attempts}",
            j.worker or "-",
            j.run_id or "-",
            j.error_code or "",
        )
    out_console.print(table)


def jobs_command(
    store: Any, *, backfill: str | None, schedule: str | None, as_json: bool, limit: int
) -> None:
    """``ocht runs --backfill ID`` / ``--schedule NAME``: the runs asked for, per period."""
    from ocht.scheduler import backfill_progress
    from ocht.store import SchedulingStore

    if backfill is not None:
        progress = backfill_progress(store, backfill)
        jobs = progress.jobs
    else:
        jobs = SchedulingStore(store).jobs(schedule=schedule)[-limit:]
    if as_json:
        click.echo(json.dumps([j.to_dict() for j in jobs], indent=2, default=str))
        return
    show_jobs(jobs)
    if backfill is not None:
        counts = ", ".join(f"{n} {s}" for s, n in sorted(progress.counts.items()))
        click.echo(f"backfill {progress.backfill.id}: {counts}")
