"""One call from a pipeline file (or dict) to a result: load, compile, run."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocht.config import LoadedPipeline, load_pipeline
from ocht.executor.plan import Plan, compile_plan, make_context
from ocht.executor.result import RunResult
from ocht.executor.runner import build_frames, run
from ocht.executor.tracking import prepare_tracked, tracked_run
from ocht.observability import RunHooks, add_secrets
from ocht.registry import Mode, Registry

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by runs that use it
    from ocht.store import Store


def execute(
    source: str | Path | Mapping[str, Any] | LoadedPipeline,
    *,
    profile: str | None = None,
    variables: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
    hooks: RunHooks | None = None,
    limit: int | None = None,
    dry_run: bool = False,
    home: str | Path = ".ocht",
    options: Mapping[str, Any] | None = None,
    store: Store | None = None,
    full_refresh: bool = False,
) -> RunResult:
    """Load, compile and run a pipeline in batch mode.

    Args:
        source: a pipeline file, a dict, or an already loaded pipeline.
        profile: the profile to apply.
        variables: ``--set`` values.
        registry: step kinds and connectors (default: built-ins and plugins).
        hooks: lifecycle observers.
        limit: read at most this many rows per input.
        dry_run: compile and check only; read no data, write nothing.
        home: folder for run data (dead letters by default).
        options: run options for connectors.
        store: record the run's manifest there, and keep incremental state in it.
        full_refresh: ignore stored incremental state (needs ``store``).

    Raises:
        OchtError: invalid pipeline (``exit_code`` 2) or failed run (1); outputs untouched.
    """
    loaded = (
        source
        if isinstance(source, LoadedPipeline)
        else load_pipeline(source, profile=profile, variables=variables)
    )
    add_secrets(loaded.secrets)
    if store is not None:
        plan = prepare_tracked(
            loaded, store, registry=registry, home=home, full_refresh=full_refresh, options=options
        )
    else:
        context = make_context(loaded, mode="batch", home=home, options=options)
        plan = compile_plan(loaded, mode="batch", registry=registry, context=context)
    if dry_run:
        return RunResult(
            run_id=plan.context.run_id,
            pipeline=plan.pipeline.name,
            status="planned",
            content_hash=plan.pipeline.content_hash,
            profile=plan.profile,
        )
    if store is not None:
        return tracked_run(plan, store, hooks=hooks, limit=limit)
    return run(plan, hooks=hooks, limit=limit)


def explain(plan: Plan, *, mode: Mode = "batch") -> str:
    """The step graph and, per output, Polars' optimized streaming plan."""
    parts = [plan.describe()]
    frames = build_frames(plan)
    for out in plan.outputs:
        text = frames[out.reads].explain(engine="streaming")
        parts.append(f"\n-- output {out.name} ({out.sink.describe()}) --\n{text}")
    return "\n".join(parts)
