"""The ``ocht`` command: validate and run pipelines.

This module imports only click so ``ocht --help`` stays fast; each command imports the
bricks it needs when it runs.
"""

from __future__ import annotations

import click

from ocht.cli.lineage_commands import lineage
from ocht.cli.schedule_commands import backfill, cancel, schedule, scheduler
from ocht.cli.store_commands import runs, state
from ocht.cli.test_commands import test_command
from ocht.cli.version import VERSION
from ocht.console import OchtGroup

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  the run failed (outputs are left as they were)
  2  invalid pipeline or usage
  130 cancelled (Ctrl-C)"""


@click.group(
    cls=OchtGroup, epilog=EXIT_CODES_HELP, context_settings={"help_option_names": ["-h", "--help"]}
)
@click.version_option(VERSION, "-V", "--version", prog_name="ocht")
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.option(
    "--log-format",
    type=click.Choice(["auto", "console", "json"]),
    default=None,
    help="Log format on stderr (default: console on a terminal; otherwise JSON lines, one "
    "per lifecycle event: run started, step finished, output written, run ended).",
)
@click.pass_context
def cli(ctx: click.Context, debug: bool, log_format: str | None) -> None:
    """Ocht: data pipelines as data, one executor for batch and streaming.

    \b
    Start with:
      ocht validate examples/orders_clean.yaml
      ocht init
      ocht run examples/orders_clean.yaml
      ocht list steps
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug
    ctx.obj["log_format"] = log_format


@cli.command()
@click.argument("pipeline", type=click.Path())
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="NAME=VALUE",
    help="Set a pipeline variable (repeatable): --set min_amount=10.",
)
@click.option(
    "--profile",
    "-p",
    default=None,
    envvar="OCHT_PROFILE",
    help="Apply a profile from the pipeline's profiles: (inputs/outputs overlay).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check everything (connectors, columns, expressions); read and write nothing.",
)
@click.option("--explain", is_flag=True, help="Print the plan and stop.")
@click.option(
    "--limit", type=click.IntRange(min=0), default=None, help="Read at most N rows from each input."
)
@click.option("--json", "as_json", is_flag=True, help="Print the run result as JSON.")
@click.option("--quiet", "-q", is_flag=True, help="No progress and no summary.")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Fail the run (changing no output) if it takes longer than this.",
)
@click.option(
    "--full-refresh",
    is_flag=True,
    help="Ignore what incremental inputs remember and read everything again.",
)
@click.option(
    "--no-store",
    is_flag=True,
    help="Do not record the run in the run store (and keep no incremental state).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Read a multi-file input file by file, committing each; continue after the "
    "files an earlier --resume run committed.",
)
@click.option(
    "--trace-samples",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Rows `ocht trace` keeps per step of what it dropped, changed, dead-lettered "
    "(0: counts only).",
)
@click.pass_context
def run(
    ctx: click.Context,
    pipeline: str,
    sets: tuple[str, ...],
    profile: str | None,
    dry_run: bool,
    explain: bool,
    limit: int | None,
    as_json: bool,
    quiet: bool,
    full_refresh: bool,
    no_store: bool,
    timeout: float | None,
    resume: bool,
    trace_samples: int,
) -> None:
    """Run PIPELINE once in batch mode.

    Nothing is written unless every step succeeds: outputs go to temporary files that
    replace the old ones only at the end. Each run is recorded in the run store
    (`ocht runs`), with the state incremental inputs resume from.

    \b
    Examples:
      ocht run pipeline.yaml
      ocht run pipeline.yaml --profile test --set min_amount=50
      ocht run pipeline.yaml --explain
      ocht run pipeline.yaml --full-refresh
      ocht run pipeline.yaml --timeout 600
      ocht run pipeline.yaml --resume
    """
    from ocht.cli.commands import run_command

    run_command(
        ctx.obj,
        pipeline,
        sets=sets,
        profile=profile,
        dry_run=dry_run,
        explain=explain,
        limit=limit,
        as_json=as_json,
        quiet=quiet,
        full_refresh=full_refresh,
        no_store=no_store,
        timeout=timeout,
        resume=resume,
        trace_samples=trace_samples,
    )


@cli.command()
@click.argument("pipelines", nargs=-1, required=True, type=click.Path())
@click.option("--set", "sets", multiple=True, metavar="NAME=VALUE", help="Set a variable.")
@click.option("--profile", "-p", default=None, envvar="OCHT_PROFILE", help="Apply a profile.")
@click.option(
    "--mode",
    type=click.Choice(["batch", "stream"]),
    default="batch",
    help="Check the pipeline for this mode (stream refuses batch-only steps).",
)
@click.pass_context
def validate(
    ctx: click.Context,
    pipelines: tuple[str, ...],
    sets: tuple[str, ...],
    profile: str | None,
    mode: str,
) -> None:
    """Check PIPELINES without running them.

    Checks keys, types, references, connectors and columns (input schemas are read;
    no data is).

    Every problem is listed with its file, line and field.
    """
    from ocht.cli.commands import validate_command

    validate_command(ctx.obj, pipelines, sets=sets, profile=profile, mode=mode)


@cli.command("list")
@click.argument("what", type=click.Choice(["steps", "connectors"]))
def list_(what: str) -> None:
    """List step kinds or connectors, with what each can do."""
    from ocht.cli.commands import list_command

    list_command(what)


@cli.group(invoke_without_command=True)
@click.option(
    "--output",
    "-o",
    type=click.Path(),
    default=None,
    help="Write to a file instead of standard output.",
)
@click.pass_context
def schema(ctx: click.Context, output: str | None) -> None:
    """Print the JSON Schema of pipeline documents.

    Point your editor's YAML support at it for completion and checks as you type.
    `ocht schema infer INPUT` prints an input's inferred schema as pipeline YAML.
    """
    if ctx.invoked_subcommand is not None:
        return
    from ocht.cli.commands import schema_command

    schema_command(output)


@schema.command("infer")
@click.argument("target", type=click.Path(exists=True, dir_okay=True))
@click.argument("inputs", nargs=-1)
def schema_infer(target: str, inputs: tuple[str, ...]) -> None:
    """Print inputs with their inferred schema, as pipeline YAML.

    TARGET is a data file (csv, parquet, ndjson, json) or a pipeline (then every input,
    or the INPUTS named, is inferred).

    \b
    Examples:
      ocht schema infer data/orders.csv
      ocht schema infer pipeline.yaml orders
    """
    from ocht.cli.quality_commands import schema_infer_command

    schema_infer_command(target, inputs)


@cli.command()
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the trace as JSON.")
def trace(run_id: str, as_json: bool) -> None:
    """Show the per-step trace of a run: rows in, out, dropped, dead-lettered, checks.

    RUN_ID (or a unique prefix of it) is printed by `ocht run`; traces live in the
    project home, under .ocht/runs/RUN_ID/ ($OCHT_HOME overrides; see `ocht init`).
    """
    from ocht.cli.quality_commands import trace_command

    trace_command(run_id, as_json=as_json)


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False), default=".")
@click.option("--name", default=None, help="The project's name (default: the folder's).")
def init(folder: str, name: str | None) -> None:
    """Make FOLDER (default: here) an Ocht project by writing its ocht.toml.

    Pipelines in FOLDER and below then keep their run store, incremental state, traces
    and dead letters in FOLDER/.ocht/, whatever folder `ocht` is run from ($OCHT_HOME
    overrides it).
    """
    from ocht.config import init_project

    try:
        path = init_project(folder, name=name)
    except FileExistsError:
        raise click.UsageError(
            f"{folder} is already an Ocht project (it has an ocht.toml)"
        ) from None
    click.echo(f"wrote {path}; run data will live in {path.parent / '.ocht'}")


cli.add_command(runs)
cli.add_command(test_command)
cli.add_command(lineage)
cli.add_command(state)
cli.add_command(schedule)
cli.add_command(scheduler)
cli.add_command(backfill)
runs.add_command(cancel)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="ocht")


if __name__ == "__main__":  # pragma: no cover
    main()
