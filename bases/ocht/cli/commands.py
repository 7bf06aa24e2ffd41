"""The work behind each command (imported only when a command runs)."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from ocht.cli.consoles import print_table
from ocht.cli.render import Progress, render_summary
from ocht.cli.store_commands import open_store
from ocht.config import Settings, parse_set
from ocht.console import render_error
from ocht.errors import EXIT_INVALID, OchtError
from ocht.executor import CancelToken, Runner, RunRequest, RunResult, RunServices
from ocht.observability import (
    HookGroup,
    LoggingHooks,
    RunHooks,
    configure_logging,
    redact_value,
)
from ocht.pipeline_model import json_schema
from ocht.registry import default_registry


def _setup(obj: dict[str, Any]) -> Settings:
    settings = Settings()
    fmt = obj.get("log_format") or settings.log_format
    json_lines = fmt == "json" or (fmt == "auto" and not sys.stderr.isatty())
    if obj.get("debug"):
        level = "debug"
    elif json_lines and not os.environ.get("OCHT_LOG_LEVEL"):
        level = "info"  # a machine reads the log: the run's lifecycle, one JSON line each
    else:
        level = settings.log_level
    configure_logging(fmt, level)
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
    trace_samples: int = 5,
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
        trace_samples=trace_samples,
    )
    home = settings.home_for(pipeline)
    plain = Runner(RunServices(home=home))
    # loaded before the store opens: an invalid pipeline leaves no store behind
    loaded = plain.load(request)
    _warn(loaded.warnings)
    request = dataclasses.replace(request, pipeline=loaded)
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
    hooks = HookGroup(
        [
            LoggingHooks(),
            _progress(loaded, enabled=not quiet and not as_json, limit=limit),
            *_lineage_hooks(),
        ]
    )
    store = None if no_store else open_store(home)
    try:
        if store is not None and not resume:
            _note_missing_state(loaded, store, home, full_refresh=full_refresh, quiet=quiet)
        runner = Runner(RunServices(store=store, hooks=hooks, home=home))
        result = runner.run(request, cancel=CancelToken())
    finally:
        if store is not None:
            store.close()
    _show(result, as_json=as_json, quiet=quiet)


def _lineage_hooks() -> list[RunHooks]:
    """OpenLineage events, when OCHT_LINEAGE_FILE or OCHT_LINEAGE_URL asks for them."""
    from ocht.lineage import LineageHooks

    hook = LineageHooks.from_settings()
    return [hook] if hook is not None else []


def _note_missing_state(
    loaded: Any, store: Any, home: Path, *, full_refresh: bool, quiet: bool
) -> None:
    """Say so when incremental inputs read everything because no state was found."""
    incremental = loaded.pipeline.incremental_inputs()
    if quiet or full_refresh or not incremental:
        return
    known = store.get_state(loaded.pipeline.name)
    missing = [name for name in incremental if name not in known]
    if missing:
        click.secho(
            f"note: no incremental state for {', '.join(missing)} in {store.url}: reading "
            f"everything (a first run; state lives in the project home {home})",
            fg="yellow",
            err=True,
        )


def _progress(loaded: Any, *, enabled: bool, limit: int | None = None) -> Progress:
    """The progress line, with the inputs' size when it is known (only on a terminal)."""
    progress = Progress(enabled=enabled)
    if progress.enabled:
        from ocht.cli.progress import estimate_input_rows

        inputs = dict(loaded.pipeline.inputs)
        total = estimate_input_rows(inputs, loaded.base_dir)
        if total is not None and limit is not None:
            total = min(total, limit * len(inputs))
        progress.total = total
    return progress


def _warn(warnings: Any) -> None:
    for issue in warnings:
        click.secho(f"warning[{issue.code}]: {issue.render()}", fg="yellow", err=True)


def _show(result: RunResult, *, as_json: bool, quiet: bool) -> None:
    if as_json:
        click.echo(json.dumps(redact_value(result.to_dict()), indent=2, default=str))
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
    failed = 0
    for path in pipelines:
        runner = Runner(RunServices(home=settings.home_for(path)))
        request = RunRequest(path, profile=profile or settings.profile, variables=parse_set(sets))
        try:
            loaded = runner.load(request)
            _warn(loaded.warnings)
            request = dataclasses.replace(request, pipeline=loaded)
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
    print_table(table)


def _yes(flag: bool) -> str:
    return "yes" if flag else "-"


def schema_command(output: str | None) -> None:
    """``ocht schema``."""
    from pydantic import BaseModel

    from ocht.pipeline_model import BUILTIN_CONNECTORS, BUILTIN_STEPS

    def model(spec: Any) -> type[BaseModel] | None:
        return spec if isinstance(spec, type) and issubclass(spec, BaseModel) else None

    reg = default_registry()
    plugin_steps = {k.name: model(k.spec) for k in reg.steps() if k.name not in BUILTIN_STEPS}
    plugin_connectors = {
        c.name: model(reg.connector(c.name).spec)
        for c in reg.connectors()
        if c.available and c.name not in BUILTIN_CONNECTORS
    }
    schema = json_schema(steps=plugin_steps, connectors=plugin_connectors)
    text = json.dumps(schema, indent=2)
    if output:
        Path(output).write_text(text + "\n", encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    else:
        click.echo(text)
