"""The work behind each command (imported only when a command runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ocht.cli.render import Progress, out_console, render_summary
from ocht.cli.store_commands import open_store
from ocht.config import Settings, load_pipeline, parse_set
from ocht.console import render_error
from ocht.errors import EXIT_INVALID, OchtError
from ocht.executor import (
    Plan,
    RunResult,
    compile_plan,
    forget_resume_point,
    make_context,
    prepare_tracked,
    resumable_run,
    run,
    tracked_run,
)
from ocht.observability import (
    HookGroup,
    LoggingHooks,
    add_secrets,
    configure_logging,
    redact_value,
)
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
    """``ocht run``: compile, run, record in the store, summarise."""
    settings = _setup(obj)
    loaded = load_pipeline(pipeline, profile=profile or settings.profile, variables=parse_set(sets))
    add_secrets(loaded.secrets)
    if resume and not (dry_run or explain):
        _resume_run(
            loaded,
            settings,
            no_store=no_store,
            limit=limit,
            timeout=timeout,
            full_refresh=full_refresh,
            as_json=as_json,
            quiet=quiet,
        )
        return
    store = None if (no_store or dry_run or explain) else open_store()
    if store is not None:
        try:
            plan = prepare_tracked(loaded, store, home=settings.home, full_refresh=full_refresh)
        except BaseException:
            store.close()
            raise
    else:
        plan = compile_plan(loaded, mode="batch", context=make_context(loaded, home=settings.home))
    if explain:
        from ocht.executor import explain as explain_plan

        click.echo(explain_plan(plan))
        return
    if dry_run:
        click.echo(plan.describe())
        click.secho("ok: the pipeline compiles; nothing was read or written", fg="green")
        return
    if store is not None:  # a run from scratch: an earlier --resume point no longer holds
        forget_resume_point(store, loaded.pipeline.name, list(loaded.pipeline.inputs))
    hooks = HookGroup([LoggingHooks(), Progress(enabled=not quiet and not as_json)])
    try:

        def runner(p: Plan) -> RunResult:
            if store is not None:
                return tracked_run(p, store, hooks=hooks, limit=limit)
            return run(p, hooks=hooks, limit=limit)

        if timeout is not None:
            from ocht.executor import run_with_timeout

            result = run_with_timeout(plan, timeout=timeout, runner=runner)
        else:
            result = runner(plan)
    finally:
        if store is not None:
            store.close()
    _show(result, as_json=as_json, quiet=quiet)


def _show(result: RunResult, *, as_json: bool, quiet: bool) -> None:
    if as_json:
        click.echo(json.dumps(redact_value(result.to_dict()), indent=2, default=str))
    elif not quiet:
        render_summary(result)


def _resume_run(
    loaded: Any,
    settings: Settings,
    *,
    no_store: bool,
    limit: int | None,
    timeout: float | None,
    full_refresh: bool,
    as_json: bool,
    quiet: bool,
) -> None:
    """``ocht run --resume``: one file per chunk, a checkpoint in the store after each."""
    for flag, given in (
        ("--no-store", no_store),
        ("--limit", limit is not None),
        ("--timeout", timeout is not None),
        ("--full-refresh", full_refresh),
    ):
        if given:
            raise click.UsageError(f"--resume cannot be combined with {flag}")
    hooks = HookGroup([LoggingHooks(), Progress(enabled=not quiet and not as_json)])
    with open_store() as store:
        result = resumable_run(loaded, store, resume=True, hooks=hooks, home=settings.home)
    _show(result, as_json=as_json, quiet=quiet)


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
    failed = 0
    for path in pipelines:
        try:
            loaded = load_pipeline(
                path, profile=profile or settings.profile, variables=parse_set(sets)
            )
            compile_plan(
                loaded,
                mode="stream" if mode == "stream" else "batch",
                context=make_context(loaded, home=settings.home),
            )
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
