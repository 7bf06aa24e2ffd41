"""Run a compiled plan in batch mode: Pull → Transform → Push, all in one Polars query.

Every output becomes a sink node of one ``pl.collect_all`` on Polars' streaming engine,
so inputs shared by several outputs are read once and memory stays bounded. Sinks write
to temporary places; only when the whole query succeeded are they committed, so a failed
run leaves every output as it was.

The commit runs in a fixed order (docs/architecture.md, "Outputs commit together"):

1. every sink's ``prepare`` (flush buffers, check deferred constraints): any failure here
   aborts everything, and no output changed;
2. the transactional sinks (SQL tables) commit, in pipeline order;
3. only when all of them committed, the sinks that publish by a rename (files, the dead
   letters) commit. A failed SQL commit aborts every file output, so files never show a
   run whose tables did not take it.

The run's cancel token is looked at between the query and the commit: a cancelled run
commits nothing.
"""

from __future__ import annotations

import time
from typing import Any

import polars as pl

from ocht.errors import ExecutionError, OchtError, OutputWriteError, engine_failure
from ocht.executor.checks import check_stats, step_reports, verify_checks
from ocht.executor.contracts import contract_of, enforce, rejects_key
from ocht.executor.counting import Counters
from ocht.executor.dead_files import dead_letter_file, default_dead_letter_file
from ocht.executor.dead_letters import dead_letter_frame
from ocht.executor.plan import Plan, PlannedOutput
from ocht.executor.result import OutputStats, RunResult, StepStats
from ocht.executor.samples import SampleOptions, Samples
from ocht.executor.services import Cancelled, raise_if_cancelled
from ocht.executor.trace import write_trace
from ocht.observability import RunHooks, bound, get_logger
from ocht.registry import default_registry
from ocht.transform import DEAD_LETTER


def run(
    plan: Plan,
    *,
    hooks: RunHooks | None = None,
    limit: int | None = None,
    samples: SampleOptions | None = None,
) -> RunResult:
    """Run a batch plan to completion.

    The run's trace (rows per step, and a few rows each step dropped, changed or
    dead-lettered) is written whether the run succeeds or fails.

    Args:
        plan: from :func:`~ocht.executor.compile_plan`.
        hooks: lifecycle observers (logs, progress, metrics).
        limit: read at most this many rows from each input (a quick look at real data).
        samples: how many rows the trace keeps (default: 5 per step and kind).

    Returns:
        The run's :class:`RunResult` (status ``succeeded``).

    Raises:
        OchtError: the run failed; every output was left as it was before the run.
    """
    hooks = hooks or RunHooks()
    ctx = plan.context
    started = time.perf_counter()
    phases: dict[str, float] = {}
    with bound(run_id=ctx.run_id, pipeline=plan.pipeline.name):
        hooks.on_plan(run_id=ctx.run_id, plan=plan)
        hooks.on_run_start(
            run_id=ctx.run_id,
            pipeline=plan.pipeline.name,
            mode=plan.mode,
            inputs=list(plan.sources),
            outputs=[o.name for o in plan.outputs],
        )
        counters = Counters(lambda rows: hooks.on_progress(run_id=ctx.run_id, rows=rows))
        sampled = Samples(samples)
        opened: list[PlannedOutput] = []
        try:
            t0 = time.perf_counter()
            raise_if_cancelled(ctx.cancel)
            frames = _build_frames(plan, counters, limit, sampled)
            dead, producers = dead_letter_frame(plan, frames, counters, sampled)
            dead_output = _dead_letter_output(plan) if dead is not None else None
            nodes = []
            for out in list(plan.outputs) + ([dead_output] if dead_output else []):
                frame = dead if out is dead_output else frames[out.reads]
                assert frame is not None
                out.sink.open()
                opened.append(out)
                counted = counters.wrap(f"output:{out.name}", frame)
                node = out.sink.plan(counted)
                nodes.append(
                    node
                    if node is not None
                    else counted.sink_batches(_cancellable(out, ctx.cancel), lazy=True)
                )
            _phase(hooks, phases, ctx.run_id, "prepare", t0)
            t0 = time.perf_counter()
            pl.collect_all(nodes, engine="streaming")
            verify_checks(plan)  # a failing check raises here, before any commit
            _phase(hooks, phases, ctx.run_id, "execute", t0)
            t0 = time.perf_counter()
            dead_rows = counters.get("output:dead_letter")
            empty_dead = dead_output is not None and dead_rows == 0 and plan.dead_letter is None
            if empty_dead and dead_output is not None:
                dead_output.sink.abort()  # no dead letters: leave no empty default file
                opened.remove(dead_output)
            raise_if_cancelled(ctx.cancel)  # a cancelled run never commits
            commit_outputs(opened)
            written: list[OutputStats] = []
            for out in plan.outputs:
                rows = counters.get(f"output:{out.name}")
                written.append(OutputStats(out.name, out.sink.describe(), rows))
                hooks.on_output(name=out.name, target=out.sink.describe(), rows=rows)
            _phase(hooks, phases, ctx.run_id, "commit", t0)
        except BaseException as exc:
            for out in opened:
                _quiet_abort(out)
            error = _as_error(plan, exc)
            _failed_trace(plan, counters, sampled, error, time.perf_counter() - started)
            hooks.on_run_end(
                run_id=ctx.run_id,
                status=_status(error),
                seconds=time.perf_counter() - started,
                error=error.to_dict(),
            )
            if error is exc:
                raise
            raise error from exc
        finally:
            for src in plan.sources.values():
                src.close()
        steps = _step_stats(plan, counters)
        for s in steps:
            hooks.on_step_end(step=s.step, kind=s.kind, rows_in=s.rows_in, rows_out=s.rows_out)
        result = RunResult(
            run_id=ctx.run_id,
            pipeline=plan.pipeline.name,
            status="succeeded",
            mode=plan.mode,
            content_hash=plan.pipeline.content_hash,
            profile=plan.profile,
            inputs={n: counters.get(f"input:{n}") for n in plan.sources},
            steps=steps,
            outputs=written,
            dead_letters=dead_rows,
            dead_letter_target=dead_output.sink.describe() if dead_output and dead_rows else None,
            phases=phases,
            seconds=time.perf_counter() - started,
            checks=check_stats(plan),
            rejected={p: counters.get(f"dead:{p}") for p in producers},
            reports=step_reports(plan),
            fanout=_fanout(plan, counters),
            files={
                n: counts
                for n, src in plan.sources.items()
                if (counts := src.file_counts()) is not None
            },
            skipped={n: k for n, src in plan.sources.items() if (k := src.skipped_rows())},
        )
        write_trace(plan, result, sampled)
        hooks.on_run_end(
            run_id=ctx.run_id,
            status="succeeded",
            seconds=result.seconds,
            rows_read=result.rows_read,
            rows_written=result.rows_written,
            dead_letters=dead_rows,
        )
        return result


def commit_outputs(outputs: list[PlannedOutput]) -> None:
    """Commit ``outputs`` together, in the documented order (see the module docstring).

    Every sink is prepared first; the transactional ones commit next; those that publish
    by a rename (``commit_last``) commit only when every other one did. A sink that
    fails to prepare or commit raises; the caller aborts the ones not committed yet.
    """
    for out in outputs:
        out.sink.prepare()
    first = [o for o in outputs if not o.sink.commit_last]
    last = [o for o in outputs if o.sink.commit_last]
    for out in first + last:
        out.sink.commit()
        outputs.remove(out)  # committed: no longer to abort


def _cancellable(out: PlannedOutput, cancel: Any) -> Any:
    """``out.sink.write`` that stops the query when the run is cancelled."""
    write = out.sink.write

    def guarded(batch: pl.DataFrame) -> None:
        raise_if_cancelled(cancel)
        write(batch)

    return guarded


def _phase(hooks: RunHooks, phases: dict[str, float], run_id: str, phase: str, t0: float) -> None:
    phases[phase] = time.perf_counter() - t0
    hooks.on_phase(run_id=run_id, phase=phase, seconds=phases[phase])


def _status(error: OchtError) -> str:
    return "cancelled" if isinstance(error, Cancelled) else "failed"


def build_frames(plan: Plan, *, limit: int | None = None) -> dict[str, pl.LazyFrame]:
    """Every named frame of the plan (inputs, steps, branches) as lazy frames, uncounted."""
    return _build_frames(plan, None, limit)


def _build_frames(
    plan: Plan, counters: Counters | None, limit: int | None, samples: Samples | None = None
) -> dict[str, pl.LazyFrame]:
    shared = _shared_frames(plan)
    frames: dict[str, pl.LazyFrame] = {}
    if samples is not None:
        for step in plan.steps:  # before the counters are placed: they carry the taps
            samples.watch_step(step)

    def tap(name: str) -> Any:
        return samples.tap(name) if samples is not None else None

    def keep(name: str, frame: pl.LazyFrame) -> None:
        # A frame read by several consumers is cached, so it is computed once: Polars finds
        # common subplans on its own only one fork deep.
        frames[name] = frame.cache() if name in shared else frame

    for name, source in plan.sources.items():
        limit_scan = getattr(source, "limit_scan", None)
        if limit is not None and callable(limit_scan):
            limit_scan(limit)  # the source's own reading (bad lines too) stops there
        frame = source.scan()
        if limit is not None:
            frame = frame.head(limit)
        contract = contract_of(plan.pipeline.inputs[name])
        if counters:
            # rows before a schema contract are not what the first step reads: no samples
            taps = tap(name) if contract is None else None
            frame = counters.wrap(f"input:{name}", frame, is_input=True, tap=taps)
        if contract is not None:
            frame, rejects = enforce(frame, name, contract, plan.schemas[name])
            if rejects is not None:
                frames[rejects_key(name)] = rejects
        keep(name, frame)
    for step in plan.steps:
        inputs = [frames[r] for r in step.reads]
        for branch, frame_name in step.frame_names().items():
            out = step.compiled.apply(inputs, branch)
            keep(
                frame_name, counters.wrap(frame_name, out, tap=tap(frame_name)) if counters else out
            )
    return frames


def _shared_frames(plan: Plan) -> set[str]:
    """Frames consumed more than once: by several steps, branches or outputs."""
    uses: dict[str, int] = {}
    for step in plan.steps:
        for ref in step.reads:
            uses[ref] = uses.get(ref, 0) + len(step.compiled.outputs)
    for out in plan.outputs:
        uses[out.reads] = uses.get(out.reads, 0) + 1
    return {name for name, n in uses.items() if n > 1}


def _dead_letter_output(plan: Plan) -> PlannedOutput:
    """The dead-letter output: a declared file in its format, one file per run."""
    out = plan.dead_letter
    if out is None:
        conn = default_registry().connector("ndjson")
        return PlannedOutput("dead_letter", "", conn, default_dead_letter_file(plan.context))
    file = dead_letter_file(out.sink.spec, plan.context)
    return out if file is None else PlannedOutput(out.name, out.reads, out.connector, file)


def _step_stats(plan: Plan, counters: Counters) -> list[StepStats]:
    def rows_of(frame_name: str) -> int:
        key = f"input:{frame_name}" if frame_name in plan.sources else frame_name
        return counters.get(key)

    out = []
    for step in plan.steps:
        branches = {b or "out": counters.get(n) for b, n in step.frame_names().items()}
        rows_out = sum(v for b, v in branches.items() if b != DEAD_LETTER)
        out.append(
            StepStats(
                step.id,
                step.kind.name,
                rows_of(step.reads[0]),
                rows_out,
                branches if len(branches) > 1 else {},
                rows_other=sum(rows_of(r) for r in step.reads[1:]),
            )
        )
    return out


def _fanout(plan: Plan, counters: Counters) -> int:
    """The sum of rows * (readers - 1) over every frame but dead-letter branches: rows a second
    reader counts again, minus rows no reader takes."""
    readers: dict[str, int] = {}
    for step in plan.steps:
        for r in step.reads:
            readers[r] = readers.get(r, 0) + 1
    for o in plan.outputs:
        readers[o.reads] = readers.get(o.reads, 0) + 1
    total = 0
    for name in plan.sources:
        total += counters.get(f"input:{name}") * (readers.get(name, 0) - 1)
    for step in plan.steps:
        for branch, frame in step.frame_names().items():
            if branch != DEAD_LETTER:
                total += counters.get(frame) * (readers.get(frame, 0) - 1)
    return total


def _failed_trace(
    plan: Plan, counters: Counters, samples: Samples, error: OchtError, seconds: float
) -> None:
    """The trace of a run that failed: rows and samples as far as it got."""
    try:
        result = RunResult(
            run_id=plan.context.run_id,
            pipeline=plan.pipeline.name,
            status=_status(error),
            mode=plan.mode,
            steps=_step_stats(plan, counters),
            seconds=seconds,
            error=error.to_dict(),
            checks=check_stats(plan),
        )
        write_trace(plan, result, samples)
    except Exception:  # the run's own error is what the caller must see
        get_logger().warning("trace not written", run_id=plan.context.run_id, exc_info=True)


def _quiet_abort(out: PlannedOutput) -> None:
    try:
        out.sink.abort()
    except Exception:  # the original failure is what the user needs to see
        get_logger().warning("abort failed", output=out.name, exc_info=True)


def _as_error(plan: Plan, exc: BaseException) -> OchtError:
    """Map anything raised while running to an :class:`OchtError` with a stable code."""
    if isinstance(exc, OchtError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return Cancelled("run cancelled; no output was changed")
    panic = engine_failure(exc, inputs=list(plan.sources), outputs=[o.name for o in plan.outputs])
    if panic is not None:
        return panic
    for source in plan.sources.values():
        mapped = source.explain_error(exc)
        if isinstance(mapped, OchtError):
            return mapped
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, pl.exceptions.InvalidOperationError) and "conversion" in text:
        return ExecutionError(
            f"a value could not be converted: {first}",
            code="cast-failed",
            hint="use `strict: false` on the cast step to get nulls instead",
        )
    if isinstance(exc, OSError):
        return OutputWriteError(
            f"writing failed: {first}", hint="check the output paths and free disk space"
        )
    details: dict[str, Any] = {"exception": type(exc).__name__}
    return ExecutionError(f"the run failed: {first}", **details)
