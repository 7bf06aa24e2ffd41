"""The work behind each command (imported only when a command runs)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import click

from ocht.cli.consoles import out_console
from ocht.cli.render import Progress, render_error, render_summary
from ocht.cli.store_commands import open_store
from ocht.config import Settings, parse_set
from ocht.errors import EXIT_INVALID, OchtError
from ocht.executor import CancelToken, Runner, RunRequest, RunResult, RunServices
from ocht.observability import HookGroup, LoggingHooks, configure_logging
from ocht.pipeline_model import json_schema
from ocht.registry import default_registry


def _setup(obj: dict[str, Any]) -> Settings:
    settings = Settings()
    level = "debug" if obj.get("debug") else settings.log_level
    configure_logging(obj.get("log_format") or settings.log_format, level)
    return settings


def run_command(
    obj: dict[str, Any],
    pipeline: str,
    *,
    sets: tuple[str, ...],
    profile: str | None,
    dry_run: bool,
    explain: bool,
    limit: int | None,
    as_json: bool,
    quiet: bool,
    full_refresh: bool = False,
    no_store: bool = False,
    timeout: float | None = None,
    resume: bool = False,
) -> None:
    """``ocht run``: parse the options, call the runner, render its result."""
    settings = _setup(obj)
    request = RunRequest(
        pipeline,
        profile=profile or settings.profile,
        variables=parse_set(sets),
        limit=limit,
        dry_run=dry_run,
        full_refresh=full_refresh,
        timeout=timeout,
        resume=resume,
    )
    plain = Runner(RunServices(home=settings.home))
    # loaded before the store opens: an invalid pipeline leaves no store behind
    request = dataclasses.replace(request, pipeline=plain.load(request))
    if explain or dry_run:
        runner = plain
        if explain:
            click.echo(runner.explain(request))
            return
        plan = runner.compile(request)
        for source in plan.sources.values():
            source.close()
        click.echo(plan.describe())
        click.secho("ok: the pipeline compiles; nothing was read or written", fg="green")
        return
    if resume:
        for flag, given in (
            ("--no-store", no_store),
            ("--limit", limit is not None),
            ("--timeout", timeout is not None),
            ("--full-refresh", full_refresh),
        ):
            if given:
                raise click.UsageError(f"--resume cannot be combined with {flag}")
    hooks = HookGroup([LoggingHooks(), Progress(enabled=not quiet and not as_json)])
    store = None if no_store else open_store()
    try:
        runner = Runner(RunServices(store=store, hooks=hooks, home=settings.home))
        result = runner.run(request, cancel=CancelToken())
    finally:
        if store is not None:
            store.close()
    _show(result, as_json=as_json, quiet=quiet)


def _show(result: RunResult, *, as_json: bool, quiet: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_dict(), indent=2, default=str))
    elif not quiet:
        render_summary(result)


def validate_command(
    obj: dict[str, Any],
    pipelines: tuple[str, ...],
    *,
    sets: tuple[str, ...],
    profile: str | None,
    mode: str,
) -> None:
    """``ocht validate``: every file checked, every problem listed."""
    settings = _setup(obj)
    runner = Runner(RunServices(home=settings.home))
    failed = 0
    for path in pipelines:
        request = RunRequest(path, profile=profile or settings.profile, variables=parse_set(sets))
        try:
            plan = runner.compile(request, mode="stream" if mode == "stream" else "batch")
            for source in plan.sources.values():
                source.close()
        except OchtError as exc:
            failed += 1
            render_error(exc, debug=bool(obj.get("debug")))
            continue
        click.secho(f"ok  {path}", fg="green")
    if failed:
        raise click.exceptions.Exit(EXIT_INVALID)


def list_command(what: str) -> None:
    """``ocht list steps|connectors``."""
    from rich.table import Table

    reg = default_registry()
    table = Table(show_edge=False, pad_edge=False)
    if what == "steps":
        for col in ("kind", "batch", "stream", "stateful", "what it does"):
            table.add_column(col)
        for k in reg.steps():
            table.add_row(k.name, _yes(k.batch), _yes(k.stream), _yes(k.stateful), k.summary)
    else:
        for col in ("type", "read", "write", "batch", "stream", "what it does"):
            table.add_column(col)
        for c in reg.connectors():
            caps = set(c.capabilities)
            summary = c.summary if c.available else f"[dim]in the {c.artifact} artifact[/]"
            table.add_row(
                c.name, *(_yes(x in caps) for x in ("read", "write", "batch", "stream")), summary
            )
    out_console.print(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


def schema_command(output: str | None) -> None:
    """``ocht schema``."""
    text = json.dumps(json_schema(), indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)
