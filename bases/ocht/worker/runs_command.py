"""``ocht-worker runs``: take queued runs and execute them until stopped.

Definitions only import click; the scheduler (and procrastinate) load when it runs.
"""

from __future__ import annotations

import click


@click.command("runs")
@click.option(
    "--concurrency",
    "-c",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Runs at once in this worker.",
)
@click.option(
    "--queue",
    "queues",
    multiple=True,
    metavar="NAME",
    help="Take runs from this queue (repeatable; default: ocht). PostgreSQL only.",
)
@click.option(
    "--store",
    "store_url",
    default=None,
    envvar="OCHT_STORE_URL",
    help="The run store; on PostgreSQL the queue lives in the same database.",
)
@click.option(
    "--home",
    default=None,
    envvar="OCHT_HOME",
    help="Folder for run data (default: .ocht here).",
)
@click.option("--until-idle", is_flag=True, help="Stop once no run is waiting.")
@click.option(
    "--heartbeat",
    "heartbeat_s",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    metavar="SECONDS",
    help="How often this worker tells the queue it is alive.",
)
@click.option(
    "--stalled-after",
    "stalled_s",
    type=click.FloatRange(min=0.5),
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="A worker silent this long is taken for dead; its runs are retried by policy.",
)
def runs(
    concurrency: int,
    queues: tuple[str, ...],
    store_url: str | None,
    home: str | None,
    until_idle: bool,
    heartbeat_s: float,
    stalled_s: float,
) -> None:
    """Execute queued runs (schedules, backfills) until SIGTERM/SIGINT.

    Point any number of workers, on any number of machines, at the same PostgreSQL
    store: each takes runs as it has room. With the default SQLite store this worker
    runs a local pool on this machine. SIGTERM lets the runs in flight finish.
    """
    from pathlib import Path

    from ocht.scheduler import run_workers
    from ocht.store import Store

    with Store(store_url, base_dir=Path.cwd()) as store:
        ran = run_workers(
            store,
            concurrency=concurrency,
            queues=list(queues) or None,
            home=home,
            wait=not until_idle,
            heartbeat_s=heartbeat_s,
            stalled_s=stalled_s,
        )
    if ran is not None:
        click.echo(f"ran {ran} run(s)", err=True)
