"""The ``ocht-worker`` command.

Only click is imported at start; the bricks load when a command runs.
"""

from __future__ import annotations

import click

from ocht.console import OchtGroup
from ocht.worker.runs_command import runs

EXIT_CODES_HELP = """\b
Exit codes:
  0  stopped cleanly (signal, --max-batches or --drain)
  1  the run failed (the batch in flight was not committed)
  2  invalid pipeline or usage
  130 cancelled (Ctrl-C before the worker could stop cleanly)"""


@click.group(
    cls=OchtGroup,
    epilog=EXIT_CODES_HELP,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "console", "json"]),
    default="auto",
    help="Log format on stderr (default: console on a terminal, JSON otherwise).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_format: str) -> None:
    """Ocht worker: run a pipeline on a stream until stopped."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    from ocht.observability import configure_logging

    configure_logging(log_format, "debug" if debug else "info")


@cli.command()
@click.argument("pipeline", type=click.Path(dir_okay=False))
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a pipeline variable (repeatable).",
)
@click.option(
    "--profile",
    "-p",
    default=None,
    envvar="OCHT_PROFILE",
    help="Apply a profile from the pipeline (e.g. stream).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    envvar="OCHT_METRICS_PORT",
    help="Serve /healthz, /readyz and /metrics here.",
)
@click.option(
    "--metrics-host",
    default="127.0.0.1",
    show_default=True,
    help="Address the metrics endpoint binds.",
)
@click.option(
    "--home",
    default=".ocht",
    show_default=True,
    envvar="OCHT_HOME",
    help="Folder for run data, dead letters and checkpoints.",
)
@click.option(
    "--max-batches", type=click.IntRange(min=1), default=None, help="Stop after N batches."
)
@click.option(
    "--drain",
    "drain_s",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Stop once every partition is read to its end and "
    "nothing arrived for SECONDS (open windows are emitted).",
)
@click.option(
    "--lookup-refresh",
    "lookup_refresh_s",
    type=click.FloatRange(min=0),
    default=None,
    metavar="SECONDS",
    help="Re-read the bounded inputs (join lookups, read at start) this often.",
)
def run(
    pipeline: str,
    sets: tuple[str, ...],
    profile: str | None,
    metrics_port: int | None,
    metrics_host: str,
    home: str,
    max_batches: int | None,
    drain_s: float | None,
    lookup_refresh_s: float | None,
) -> None:
    """Run PIPELINE on its stream until SIGTERM/SIGINT.

    A signal finishes the batch in flight, commits it and leaves the consumer group.
    Several workers with the same consumer group share the partitions.
    """
    from ocht.config import parse_set
    from ocht.worker.serve import serve

    variables = parse_set(list(sets))
    result = serve(
        pipeline,
        profile=profile,
        variables=variables,
        home=home,
        metrics_port=metrics_port,
        metrics_host=metrics_host,
        max_batches=max_batches,
        idle_stop_s=drain_s,
        lookup_refresh_s=lookup_refresh_s,
    )
    click.echo(
        f"{result.pipeline}: {result.stop_reason} after {result.batches} batches; "
        f"read {result.rows_read:,}, wrote {result.rows_written:,}, "
        f"dead letters {result.dead_letters:,}",
        err=True,
    )


cli.add_command(runs)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ocht-worker")


if __name__ == "__main__":  # pragma: no cover
    main()
