"""Runs recorded in the run store: the manifest, incremental state, schema history.

:func:`tracked_run` wraps :func:`~ocht.executor.runner.run`: it writes the manifest before
any data is read (status ``running``, so a killed run is found abandoned by the next one);
everything else is written at the end, in one place (:func:`record_commit`), and only
after every output committed: the new incremental state, the schemas of inputs and
outputs, the counts and status ``succeeded``. A failed run is recorded with its error
code and message (``cancelled`` for a cancelled one), and its state is left where it was.
"""

from __future__ import annotations

from typing import Any

from ocht.config import LoadedPipeline
from ocht.errors import OchtError
from ocht.executor.plan import Plan
from ocht.executor.result import RunResult
from ocht.executor.runner import run
from ocht.executor.services import Cancelled, RunStore
from ocht.observability import RunHooks
from ocht.registry import Mode


def tracked_run(
    plan: Plan,
    store: RunStore,
    *,
    hooks: RunHooks | None = None,
    limit: int | None = None,
) -> RunResult:
    """Run ``plan`` with its manifest, state and schema history kept in ``store``.

    Raises:
        OchtError: the run failed; the manifest says so and the state did not move.
    """
    start_record(plan, store, limit=limit)
    try:
        result = run(plan, hooks=hooks, limit=limit)
    except BaseException as exc:
        record_failure(store, plan.context.run_id, exc)
        raise
    record_commit(plan, store, result)
    return result


def start_record(plan: Plan, store: RunStore, *, limit: int | None = None, **extra: Any) -> None:
    """The manifest of a run about to read data (status ``running``)."""
    ctx = plan.context
    store.start_run(
        pipeline=plan.pipeline.name,
        content_hash=plan.pipeline.content_hash,
        profile=plan.profile,
        mode=plan.mode,
        run_id=ctx.run_id,
        cursors_before=dict(ctx.state),
        extra={
            "inputs": {n: s.describe() for n, s in plan.sources.items()},
            "outputs": {o.name: o.sink.describe() for o in plan.outputs},
            "full_refresh": ctx.full_refresh,
            "limit": limit,
            **extra,
        },
    )


def record_commit(
    plan: Plan, store: RunStore, result: RunResult, *, status: str = "succeeded", **extra: Any
) -> None:
    """Everything a committed run leaves in the store, written in one place.

    The sources' new incremental state, the input schemas the contracts keep, the schemas
    the outputs wrote, the end of an earlier ``--resume`` point (batch), then the
    manifest's counts and final status.
    """
    ctx = plan.context
    after = {n: state for n, src in plan.sources.items() if (state := src.state()) is not None}
    if after:
        store.set_state(plan.pipeline.name, after, run_id=ctx.run_id)
    record_schemas(plan, store)
    if plan.mode == "batch":  # a whole run committed: an earlier --resume point no longer holds
        forget_resume_point(store, plan.pipeline.name, list(plan.pipeline.inputs))
    store.finish_run(
        ctx.run_id,
        status,
        **result_counts(result),
        cursors_after={**ctx.state, **after},
        extra={**manifest_extra(result), **extra},
    )


def checkpoint_key(input_name: str) -> str:
    """The store key under which a resumable run keeps the files done of ``input_name``."""
    return f"input:{input_name}"


def forget_resume_point(store: RunStore, pipeline: str, inputs: list[str]) -> int:
    """Drop the resume points of ``inputs`` (a run from scratch); returns how many."""
    return sum(store.clear_checkpoints(pipeline, checkpoint_key(name)) for name in inputs)


def record_schemas(plan: Plan, store: RunStore) -> None:
    """The input schemas the contracts keep and the schemas the outputs wrote."""
    name, run_id = plan.pipeline.name, plan.context.run_id
    for key, columns in plan.schemas_to_record.items():
        store.record_schema(name, key, columns, run_id=run_id)
    for out in plan.outputs:
        written = out.sink.written_columns()
        if written:
            store.record_schema(name, out.name, written, run_id=run_id)


def record_failure(store: RunStore, run_id: str, exc: BaseException, **fields: Any) -> None:
    """The end of a run that did not commit: ``cancelled``, or ``failed`` with its code."""
    store.finish_run(run_id, status_of(exc), **error_fields(exc), **fields)


def record_preparation_failure(
    store: RunStore,
    loaded: LoadedPipeline,
    *,
    run_id: str,
    mode: Mode,
    exc: BaseException,
) -> None:
    """A run that failed before reading data (an unreachable database, a missing table)
    recorded as a failed (or cancelled) run."""
    store.start_run(
        pipeline=loaded.pipeline.name,
        content_hash=loaded.pipeline.content_hash,
        profile=loaded.profile,
        mode=mode,
        run_id=run_id,
        extra={"phase": "prepare"},
    )
    record_failure(store, run_id, exc)


def status_of(exc: BaseException) -> str:
    """``cancelled`` for a cancelled run (Ctrl-C included), else ``failed``."""
    return "cancelled" if isinstance(exc, Cancelled | KeyboardInterrupt) else "failed"


def error_fields(exc: BaseException) -> dict[str, Any]:
    """The manifest's error code and message for whatever ended a run."""
    if isinstance(exc, OchtError):
        return {"error_code": exc.code, "error_message": exc.message}
    if isinstance(exc, KeyboardInterrupt):
        return {"error_code": Cancelled.code, "error_message": "run cancelled (Ctrl-C)"}
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
    }
