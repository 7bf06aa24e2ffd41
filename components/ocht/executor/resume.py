"""Resumable runs: a multi-file input read one file per chunk, each chunk committed.

:func:`resumable_run` is what ``ocht run --resume`` calls. The pipeline runs once per file
of its only input (in sorted order), each time through :func:`~ocht.executor.run`, so
every chunk commits on its own; after a chunk committed, the files done so far are saved
as a checkpoint in the store (key ``input:<name>``, position ``{"done": [...]}``). A later
``--resume`` skips those files; a run that completes clears the checkpoint.

Outputs must accumulate across chunks, so only SQL outputs written with ``mode: append``
or ``mode: upsert`` are accepted; anything else is refused with ``resume-unsupported``.

The whole chunked run is one run in the store: ``succeeded``; ``partial`` when it failed
after some chunk committed; ``failed`` when none did.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

from ocht.config import LoadedPipeline
from ocht.errors import OchtError
from ocht.executor.plan import Plan, compile_plan, make_context
from ocht.executor.result import OutputStats, RunResult, StepStats
from ocht.executor.runner import run
from ocht.executor.services import RunStore
from ocht.executor.tracking import (
    checkpoint_key,
    error_fields,
    manifest_extra,
    record_schemas,
    result_counts,
    status_of,
)
from ocht.observability import RunHooks
from ocht.registry import Registry

#: output types and modes whose rows accumulate across chunks
_APPENDING_MODES = ("append", "upsert")


class ResumeUnsupported(OchtError):
    """The pipeline cannot run in resumable chunks (its input or an output does not fit)."""

    code = "resume-unsupported"


def resumable_run(
    loaded: LoadedPipeline,
    full: Plan,
    store: RunStore,
    *,
    resume: bool = True,
    hooks: RunHooks | None = None,
    registry: Registry | None = None,
    home: str | Path = ".ocht",
) -> RunResult:
    """Run ``loaded`` one input file at a time, saving a checkpoint after each commit.

    Args:
        loaded: the pipeline; its only input is a file input naming several files (a glob
            or a directory), every output a SQL table written with ``append`` or ``upsert``.
        full: ``loaded`` compiled whole (for the checks, the run id and the state).
        store: the run store (manifest and checkpoint).
        resume: skip the files a previous run recorded as done; without it the checkpoint
            is cleared and every file is read.
        hooks: lifecycle observers, called for every chunk.
        registry: the connector and step registry.
        home: where run folders go.

    Returns:
        The totals over the chunks run now (files skipped by ``resume`` are not counted).

    Raises:
        ResumeUnsupported: the pipeline does not fit (nothing was read or written).
        OchtError: a chunk failed; chunks committed before it stay, and are in the
            checkpoint for the next ``resume``.

    Example:
        ``ocht run pipeline.yaml --resume`` runs this; after a failure, fix the cause and
        run the same command again.
    """
    pipeline = loaded.pipeline.name
    try:
        name, found = _check(full)
    finally:
        for src in full.sources.values():
            src.close()
    # kept relative to the pipeline's folder, so a moved project still resumes
    base = Path(loaded.base_dir).resolve()
    files = [str(f.relative_to(base)) if f.is_relative_to(base) else str(f) for f in found]
    key = checkpoint_key(name)
    if not resume:
        store.clear_checkpoints(pipeline, key)
    saved = store.load_checkpoint(pipeline, key) if resume else None
    done: list[str] = list((saved.position or {}).get("done", [])) if saved else []
    todo = [f for f in files if f not in set(done)]
    ctx = full.context
    store.start_run(
        pipeline=pipeline,
        content_hash=full.pipeline.content_hash,
        profile=full.profile,
        mode=full.mode,
        run_id=ctx.run_id,
        cursors_before=dict(ctx.state),
        extra={
            "inputs": {name: full.sources[name].describe()},
            "outputs": {o.name: o.sink.describe() for o in full.outputs},
            "resume": {"files": len(files), "skipped": len(files) - len(todo)},
        },
    )
    started = time.perf_counter()
    results: list[RunResult] = []
    try:
        for i, file in enumerate(todo, start=1):
            chunk = _chunk_plan(loaded, full, name, file, i, registry, home, store)
            results.append(run(chunk, hooks=hooks))
            record_schemas(chunk, store)
            done.append(file)
            store.save_checkpoint(pipeline, key, {"done": done}, run_id=ctx.run_id)
    except BaseException as exc:
        total = _total(full, results, "failed", started)
        store.finish_run(
            ctx.run_id,
            "partial" if results else status_of(exc),
            **result_counts(total),
            **error_fields(exc),
            extra={"resume": {"files": len(files), "committed": len(done)}},
        )
        raise
    store.clear_checkpoints(pipeline, key)
    total = _total(full, results, "succeeded", started)
    store.finish_run(
        ctx.run_id,
        "succeeded",
        **result_counts(total),
        extra={
            **manifest_extra(total),
            "resume": {"files": len(files), "committed": len(done), "chunks": len(todo)},
        },
    )
    return total


def _check(plan: Plan) -> tuple[str, list[Path]]:
    """The input's name and its files, or :class:`ResumeUnsupported`."""
    hint = (
        "--resume needs one file input (a glob or a directory) and SQL outputs with "
        "`mode: append` or `mode: upsert`; run without --resume"
    )
    if len(plan.sources) != 1:
        raise ResumeUnsupported(
            f"--resume reads one input file by file; this pipeline has {len(plan.sources)}",
            hint=hint,
        )
    ((name, source),) = plan.sources.items()
    files = source.files()
    if files is None:
        raise ResumeUnsupported(
            f"input '{name}' ({source.describe()}) is not a file input", hint=hint
        )
    for step in plan.steps:
        # a step that needs every row at once would give per-file results, silently wrong
        if step.kind.stateful or not step.kind.stream:
            raise ResumeUnsupported(
                f"step '{step.id}' ({step.kind.name}) needs all rows at once, so it cannot "
                "run file by file",
                hint="run without --resume, or move the step after the load",
            )
    outputs = [(o.name, o.sink.spec) for o in plan.outputs]
    if plan.dead_letter is not None:
        outputs.append(("dead_letter", plan.dead_letter.sink.spec))
    for out, spec in outputs:
        kind, mode = getattr(spec, "type", None), getattr(spec, "mode", None)
        if kind != "sql" or mode not in _APPENDING_MODES:
            shown = f"type {kind}" + (f", mode {mode}" if mode else "")
            raise ResumeUnsupported(
                f"output '{out}' ({shown}) would not keep the rows of earlier chunks",
                hint=hint,
            )
    return name, [Path(f).resolve() for f in files]


def _chunk_plan(
    loaded: LoadedPipeline,
    full: Plan,
    name: str,
    file: str,
    index: int,
    registry: Registry | None,
    home: str | Path,
    store: RunStore,
) -> Plan:
    """The pipeline with its input narrowed to ``file``, under the same run id."""
    spec = loaded.pipeline.inputs[name].model_copy(update={"path": file})
    pipeline = loaded.pipeline.model_copy(update={"inputs": {name: spec}})
    narrowed = dataclasses.replace(loaded, pipeline=pipeline)
    ctx = make_context(
        narrowed,
        run_id=full.context.run_id,
        home=home,
        full_refresh=full.context.full_refresh,
        state=full.context.state,
        cancel=full.context.cancel,
    )
    # each chunk gets its own folder, so default dead letters and traces are not replaced
    ctx = dataclasses.replace(ctx, run_dir=full.context.run_dir / f"chunk-{index:05d}")
    return compile_plan(narrowed, mode=full.mode, registry=registry, context=ctx, store=store)


def _total(full: Plan, results: list[RunResult], status: str, started: float) -> RunResult:
    """One result for the whole chunked run: rows summed over the chunks."""
    inputs = dict.fromkeys(full.sources, 0)
    outputs = {o.name: OutputStats(o.name, o.sink.describe(), 0) for o in full.outputs}
    steps: dict[str, StepStats] = {}
    dead = 0
    for r in results:
        for n, rows in r.inputs.items():
            inputs[n] = inputs.get(n, 0) + rows
        for o in r.outputs:
            prior = outputs.get(o.name, OutputStats(o.name, o.target, 0))
            outputs[o.name] = OutputStats(o.name, prior.target, prior.rows + o.rows)
        for s in r.steps:
            p = steps.get(s.step)
            steps[s.step] = (
                s
                if p is None
                else StepStats(s.step, s.kind, p.rows_in + s.rows_in, p.rows_out + s.rows_out)
            )
        dead += r.dead_letters
    return RunResult(
        run_id=full.context.run_id,
        pipeline=full.pipeline.name,
        status=status,
        mode=full.mode,
        content_hash=full.pipeline.content_hash,
        profile=full.profile,
        inputs=inputs,
        steps=list(steps.values()),
        outputs=list(outputs.values()),
        dead_letters=dead,
        seconds=time.perf_counter() - started,
    )
