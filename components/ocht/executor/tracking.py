"""Runs recorded in the store: the manifest, incremental state, schema history.

:func:`tracked_run` wraps :func:`~ocht.executor.run`: it writes the manifest before any
data is read (status ``running``, so a killed run is found abandoned by the next one),
hands sources their incremental state, and only after every output committed saves the
new state and marks the run ``succeeded``. A failed run is recorded with its error code
and message, and its state is left where it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocht.config import LoadedPipeline
from ocht.errors import OchtError
from ocht.executor.plan import Plan, compile_plan, make_context
from ocht.executor.result import RunResult
from ocht.executor.runner import run
from ocht.observability import RunHooks
from ocht.registry import Mode, Registry

if TYPE_CHECKING:  # the store (SQLAlchemy) is imported only by runs that use it
    from ocht.store import Store


def prepare_tracked(
    loaded: LoadedPipeline,
    store: Store,
    *,
    mode: Mode = "batch",
    registry: Registry | None = None,
    home: str | Path = ".ocht",
    full_refresh: bool = False,
    options: Mapping[str, Any] | None = None,
) -> Plan:
    """Compile a plan whose sources see their stored incremental state.

    With ``full_refresh`` the stored state is ignored (and replaced when the run succeeds).
    """
    prior = {} if full_refresh else store.get_state(loaded.pipeline.name)
    opts = {**(options or {}), "state": prior, "full_refresh": full_refresh, "store": store}
    context = make_context(loaded, mode=mode, home=home, options=opts)
    return compile_plan(loaded, mode=mode, registry=registry, context=context)


def tracked_run(
    plan: Plan,
    store: Store,
    *,
    hooks: RunHooks | None = None,
    limit: int | None = None,
) -> RunResult:
    """Run ``plan`` with its manifest, state and schema history kept in ``store``.

    Raises:
        OchtError: the run failed; the manifest says so and the state did not move.
    """
    ctx = plan.context
    before = dict(ctx.options.get("state") or {})
    store.start_run(
        pipeline=plan.pipeline.name,
        content_hash=plan.pipeline.content_hash,
        profile=plan.profile,
        mode=plan.mode,
        run_id=ctx.run_id,
        cursors_before=before,
        extra={
            "inputs": {n: s.describe() for n, s in plan.sources.items()},
            "outputs": {o.name: o.sink.describe() for o in plan.outputs},
            "full_refresh": bool(ctx.options.get("full_refresh")),
            "limit": limit,
        },
    )
    try:
        result = run(plan, hooks=hooks, limit=limit)
    except BaseException as exc:
        store.finish_run(ctx.run_id, "failed", **error_fields(exc))
        raise
    after = {
        name: state for name, src in plan.sources.items() if (state := _state_of(src)) is not None
    }
    if after:
        store.set_state(plan.pipeline.name, after, run_id=ctx.run_id)
    store.finish_run(
        ctx.run_id,
        "succeeded",
        **result_counts(result),
        cursors_after={**before, **after},
        extra=manifest_extra(result),
    )
    return result


def _state_of(source: Any) -> dict[str, Any] | None:
    state = getattr(source, "state", None)
    return state() if callable(state) else None


def error_fields(exc: BaseException) -> dict[str, Any]:
    """The manifest's error code and message for whatever ended a run."""
    if isinstance(exc, OchtError):
        return {"error_code": exc.code, "error_message": exc.message}
    return {"error_code": "internal-error", "error_message": f"{type(exc).__name__}: {exc}"}


def result_counts(result: RunResult) -> dict[str, Any]:
    """The manifest's row counts from a run's result."""
    return {
        "rows_read": result.inputs,
        "rows_written": {o.name: o.rows for o in result.outputs},
        "step_rows": {s.step: s.rows_out for s in result.steps},
        "dead_letters": result.dead_letters,
    }


def manifest_extra(result: RunResult) -> dict[str, Any]:
    """What the manifest keeps beside the counts: per-step rows, phases, checks."""
    return {
        "steps": [
            {
                "step": s.step,
                "kind": s.kind,
                "rows_in": s.rows_in,
                "rows_out": s.rows_out,
                "branches": s.branches,
            }
            for s in result.steps
        ],
        "phases": {k: round(v, 4) for k, v in result.phases.items()},
        "dead_letter_target": result.dead_letter_target,
        "checks": [
            {
                "step": c.step,
                "check": c.check,
                "action": c.action,
                "rows_checked": c.rows_checked,
                "failed": c.failed,
            }
            for c in result.checks
        ],
        "reports": result.reports,
    }
