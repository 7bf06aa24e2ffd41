"""Run a compiled plan in stream mode: micro-batch after micro-batch, until stopped.

Per batch: poll → the plan's compiled steps (stateless steps exactly as in batch mode,
lazily; stateful steps through their :func:`~ocht.transform.stream_operator`) → one
``pl.collect_all`` for every output → each sink ``open``/``write``. Then, oldest batch
first, once its sinks acknowledged it (``settled``, or ``commit`` for sinks that confirm
there): the checkpoint (the state right after that batch + offsets) is saved and the
source offsets are committed. A crash before that commit replays the batch (sinks are
idempotent by key or position, DESIGN §6); a crash after it loses nothing.

Back-pressure: at most ``max_in_flight`` batches wait for acknowledgements; past that the
loop waits for the oldest before polling again, and the Kafka client's fetch queue is
bounded, so a slow sink pauses consumption instead of buffering without end.

A stream source implements :class:`StreamSource` (the Kafka connector does).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from ocht.errors import InvalidPipeline
from ocht.executor.checkpoint import Checkpoint, FileCheckpointStore
from ocht.executor.checks import check_stats
from ocht.executor.contracts import CONTRACT_CODE, contract_of, enforce, rejects_key
from ocht.executor.counting import Counters
from ocht.executor.dead_letters import normalize_dead_letters
from ocht.executor.plan import Plan, PlannedOutput
from ocht.executor.result import OutputStats, StepStats
from ocht.executor.services import Clock, SystemClock, raise_if_cancelled
from ocht.executor.stream_dead import DeadLetterWriter, late_letters, normalize
from ocht.executor.stream_types import (
    BatchReport,
    PartitionKey,
    Pending,
    StreamResult,
    StreamSource,
    concat_dead,
    explain,
    lag_of,
    quiet,
    settled,
)
from ocht.observability import RunHooks, bound, get_logger
from ocht.transform import DEAD_LETTER, StreamOperator, stream_operator


def run_stream(
    plan: Plan,
    *,
    hooks: RunHooks | None = None,
    stop: threading.Event | None = None,
    max_batches: int | None = None,
    idle_stop_s: float | None = None,
    checkpoints: FileCheckpointStore | None = None,
    on_batch: Callable[[BatchReport], None] | None = None,
    max_in_flight: int = 8,
    lookup_refresh_s: float | None = None,
    clock: Clock | None = None,
) -> StreamResult:
    """Run a stream plan until ``stop`` is set, ``max_batches`` ran, or the input is drained.

    Args:
        plan: compiled with ``mode="stream"``.
        hooks: lifecycle observers.
        stop: set it (from a signal handler, another thread) to finish the current batch,
            commit and return.
        max_batches: stop after this many non-empty batches.
        idle_stop_s: drain mode: once every partition is at its end and nothing arrived
            for this long, emit every open window and stop. A drained stream gives the
            same rows as a batch run over the same records.
        checkpoints: where state and offsets are saved (default: a file under the run
            home, keyed by pipeline and consumer group).
        on_batch: called after every committed batch (metrics).
        max_in_flight: batches handed to the sinks but not yet confirmed, at most. While
            their records are being acknowledged the next batches are read; past this
            bound the run waits. A crash re-delivers at most these batches.
        lookup_refresh_s: re-read the bounded inputs (lookups for joins, read once at
            start) when they are this old; ``None`` never re-reads them.
        clock: where event-time windows read the time (default: the real clock).

    The plan's cancel token is looked at before every poll and every commit: a
    cancelled run stops there with :class:`~ocht.executor.Cancelled`.

    Raises:
        InvalidPipeline: the plan has no stream source, or a stateful step cannot stream.
        OchtError: a batch failed; its offsets were not committed.

    Example:
        >>> from ocht.executor import compile_plan, run_stream  # doctest: +SKIP
        >>> plan = compile_plan(loaded, mode="stream")           # doctest: +SKIP
        >>> run_stream(plan, idle_stop_s=2).rows_written          # doctest: +SKIP
    """
    return _StreamRun(
        plan,
        hooks or RunHooks(),
        stop or threading.Event(),
        checkpoints,
        on_batch,
        max(1, max_in_flight),
        clock or SystemClock(),
    ).run(max_batches, idle_stop_s, lookup_refresh_s)


class _StreamRun:
    def __init__(
        self,
        plan: Plan,
        hooks: RunHooks,
        stop: threading.Event,
        checkpoints: FileCheckpointStore | None,
        on_batch: Callable[[BatchReport], None] | None,
        max_in_flight: int = 8,
        clock: Clock | None = None,
    ) -> None:
        self.plan = plan
        self.clock = clock or SystemClock()
        self.hooks = hooks
        self.stop = stop
        self.on_batch = on_batch
        self.max_in_flight = max_in_flight
        self.log = get_logger("ocht.stream")
        streams = [n for n, s in plan.sources.items() if isinstance(s, StreamSource)]
        if len(streams) != 1:
            raise InvalidPipeline(
                f"a stream run reads exactly one stream input; this pipeline has {len(streams)}",
                code="no-stream-input",
                hint="use a kafka input (other inputs are read once, as lookups)",
            )
        self.input = streams[0]
        self.source: Any = plan.sources[self.input]
        self.ops: dict[str, StreamOperator] = {}
        for step in plan.steps:
            op = stream_operator(
                step.spec,
                plan.schemas[step.reads[0]],
                step_id=step.id,
                path=step.path,
                output=plan.schemas.get(step.id),
            )
            if op is not None:
                self.ops[step.id] = op
        home = plan.context.run_dir.parent.parent
        group = str(getattr(self.source, "group", "default"))
        self.store = checkpoints or FileCheckpointStore.for_run(home, plan.pipeline.name, group)
        self.offsets: dict[PartitionKey, int] = {}
        self.dead = DeadLetterWriter(plan)
        self.totals: dict[str, list[int]] = {s.id: [0, 0] for s in plan.steps}
        self.written: dict[str, int] = {o.name: 0 for o in plan.outputs}
        self.read = 0
        self.dead_rows = 0
        self.batches = 0
        self.pending: list[Pending] = []
        self.resumed_batches = 0

    # -- the loop ------------------------------------------------------------------------
    def run(
        self,
        max_batches: int | None,
        idle_stop_s: float | None,
        lookup_refresh_s: float | None = None,
    ) -> StreamResult:
        plan, ctx = self.plan, self.plan.context
        started = time.perf_counter()
        reason = "stopped"
        with bound(run_id=ctx.run_id, pipeline=plan.pipeline.name):
            self.hooks.on_run_start(
                run_id=ctx.run_id,
                pipeline=plan.pipeline.name,
                mode="stream",
                inputs=list(plan.sources),
                outputs=[o.name for o in plan.outputs],
            )
            try:
                self._resume()
                lookups = self._lookups()
                loaded_at = time.monotonic()
                idle_since: float | None = None
                self.source.before_revoke = self._finish_pending
                while not self.stop.is_set():
                    raise_if_cancelled(ctx.cancel)
                    done = self.batches + len(self.pending)
                    if max_batches is not None and done >= max_batches:
                        reason = "max_batches"
                        break
                    if (
                        lookup_refresh_s is not None
                        and time.monotonic() - loaded_at >= lookup_refresh_s
                    ):
                        lookups, loaded_at = self._lookups(), time.monotonic()
                    t0 = time.perf_counter()
                    # the previous batch's records are on their way while this one is polled;
                    # its offsets are committed only once they are confirmed (just below)
                    batch = self.source.poll_batch()
                    now = self.clock.time()
                    if batch.records:
                        idle_since = None
                        self.pending.append(self._write(batch, lookups, now, "batch", t0))
                        self._finish_pending(wait=False)
                        continue
                    self._finish_pending(wait=False)
                    if batch.at_end and idle_since is None:
                        idle_since = time.monotonic()
                    if any(op.idle_due(now=now) for op in self.ops.values()):
                        self.pending.append(self._write(batch, lookups, now, "idle", t0))
                        self._finish_pending()
                    if (
                        idle_stop_s is not None
                        and idle_since is not None
                        and time.monotonic() - idle_since >= idle_stop_s
                    ):
                        if self.ops:
                            self.pending.append(self._write(batch, lookups, now, "flush", t0))
                        reason = "drained"
                        break
                self._finish_pending()
            except BaseException as exc:
                error = explain(exc)
                self.hooks.on_run_end(
                    run_id=ctx.run_id,
                    status="failed",
                    seconds=time.perf_counter() - started,
                    error=error.to_dict(),
                )
                self._close()
                if error is exc:
                    raise
                raise error from exc
            lag = lag_of(self.source)
            self._close()
        return self._result(started, reason, lag)

    def _lookups(self) -> dict[str, pl.LazyFrame]:
        # bounded inputs (a join's other side) are read whole, once per (re)load
        return {
            n: s.scan().collect().lazy() for n, s in self.plan.sources.items() if n != self.input
        }

    def _resume(self) -> None:
        if not self.ops:
            return
        cp = self.store.load()
        if cp is None:
            return
        for sid, data in cp.states.items():
            if sid in self.ops:
                self.ops[sid].restore(data)
        self.offsets = dict(cp.offsets)
        self.resumed_batches = cp.batches
        self.source.start_at(cp.offsets)
        self.log.info(
            "resumed from checkpoint",
            path=str(self.store.path),
            partitions=len(cp.offsets),
            batches=cp.batches,
        )

    # -- one batch -----------------------------------------------------------------------
    def _write(
        self, batch: Any, lookups: dict[str, pl.LazyFrame], now: float, phase: str, t0: float
    ) -> Pending:
        """Transform one batch and hand it to the sinks (not yet confirmed)."""
        plan = self.plan
        counts: dict[str, int] = {}
        counters = Counters()  # rows through the lazily fused stateless steps
        source_frame = (
            batch.frame if batch.frame.width else pl.DataFrame(schema=plan.schemas[self.input])
        )
        frames: dict[str, pl.LazyFrame] = {self.input: source_frame.lazy(), **lookups}
        counts[self.input] = source_frame.height
        dead_parts: list[pl.LazyFrame] = []
        if batch.dead_letters is not None and batch.dead_letters.height:
            dead_parts.append(batch.dead_letters.lazy())
        contract = contract_of(plan.pipeline.inputs[self.input])
        if contract is not None:  # checked per micro-batch: a stream's schema can drift
            shaped, rejects = enforce(
                frames[self.input], self.input, contract, plan.schemas[self.input]
            )
            frames[self.input] = shaped
            if rejects is not None:
                dead_parts.append(
                    normalize_dead_letters(
                        rejects,
                        run_id=plan.context.run_id,
                        step=rejects_key(self.input),
                        source=self.input,
                        code=CONTRACT_CODE,
                    )
                )
        for step in plan.steps:
            inputs = [frames[r] for r in step.reads]
            op = self.ops.get(step.id)
            if op is None:
                for branch, name in step.frame_names().items():
                    branch_frame = step.compiled.apply(inputs, branch)
                    if branch == DEAD_LETTER:
                        dead_parts.append(
                            normalize_dead_letters(
                                branch_frame,
                                run_id=plan.context.run_id,
                                step=step.id,
                                source=self.input,
                            )
                        )
                    else:
                        frames[name] = counters.wrap(name, branch_frame)
                continue
            df = inputs[0].collect()
            parts = []
            if df.height:
                result = op.process(df, now=now)
                parts.append(result.rows)
                if result.late is not None and result.late.height:
                    dead_parts.append(late_letters(result.late, step.id).lazy())
            extra = (
                op.on_idle(now=now) if phase == "idle" else op.flush() if phase == "flush" else None
            )
            if extra is not None:
                parts.append(extra)
            parts = [p for p in parts if p.width]
            rows = (
                pl.concat(parts, how="vertical_relaxed")
                if parts
                else pl.DataFrame(schema=plan.schemas[step.id])
            )
            frames[step.id] = rows.lazy()
            counts[step.id] = rows.height
        targets = [frames[o.reads] for o in plan.outputs]
        dead = concat_dead([normalize(p, run_id=plan.context.run_id) for p in dead_parts])
        collected = pl.collect_all(targets + ([dead] if dead is not None else []))
        outs, dead_df = collected[: len(targets)], collected[len(targets) :]
        written: list[PlannedOutput] = []
        tickets: list[Any] = []
        for out, df in zip(plan.outputs, outs, strict=True):
            if df.height == 0:
                continue
            out.sink.open()  # per batch: a transaction, or nothing
            written.append(out)
            try:
                out.sink.write(df)
            except BaseException:
                for o in written:
                    quiet(o.sink.abort)
                raise
            tickets.append(out.sink.mark())

        def rows_of(name: str) -> int:
            return counts[name] if name in counts else counters.get(name)

        per_step: dict[str, tuple[int, int]] = {}
        for step in plan.steps:
            rin = rows_of(step.reads[0])
            rout = sum(rows_of(n) for b, n in step.frame_names().items() if b != DEAD_LETTER)
            per_step[step.id] = (rin, rout)
        states = {sid: op.snapshot() for sid, op in self.ops.items()}
        return Pending(
            batch,
            written,
            tickets,
            {o.name: d.height for o, d in zip(plan.outputs, outs, strict=True)},
            dead_df[0] if dead_df else None,
            per_step,
            states,
            t0,
        )

    def _finish_pending(self, *, wait: bool = True) -> None:
        """Confirm batches handed to the sinks, oldest first: save state, commit offsets.

        With ``wait=False`` only the batches whose records are already acknowledged are
        finished, except that the oldest is waited for while more than
        ``max_in_flight`` are pending. With ``wait=True`` (stop, revoke, idle) every
        pending batch is confirmed.
        """
        while self.pending:
            p = self.pending[0]
            block = wait or len(self.pending) > self.max_in_flight
            for out, ticket in zip(p.written, p.tickets, strict=True):
                if ticket is not None and not settled(out.sink, ticket, block=block):
                    return  # not yet acknowledged: look again after the next poll
            self.pending.pop(0)
            self._finish(p)

    def _finish(self, p: Pending) -> None:
        raise_if_cancelled(self.plan.context.cancel)  # a cancelled run commits nothing more
        for i, (out, ticket) in enumerate(zip(p.written, p.tickets, strict=True)):
            if ticket is not None:
                continue
            try:
                out.sink.commit()  # a transaction, or a sink that confirms on commit
            except BaseException:
                for o in p.written[i:]:
                    quiet(o.sink.abort)
                raise
        dead_rows = self.dead.write(p.dead) if p.dead is not None else 0
        if self.ops:
            self.offsets.update(p.batch.offsets)
            total = self.resumed_batches + self.batches + 1  # across restarts
            self.store.save(Checkpoint(self.offsets, p.states, total))
        if p.batch.offsets:
            self.source.commit(p.batch.offsets)
        # bookkeeping after the commit: only committed batches count
        self._account(p, dead_rows)

    def _account(self, pending: Pending, dead_rows: int) -> None:
        batch = pending.batch
        if batch.records:
            self.batches += 1
        self.read += batch.records
        self.dead_rows += dead_rows
        for name, rows in pending.outputs.items():
            self.written[name] += rows
        for sid, (rin, rout) in pending.steps.items():
            self.totals[sid][0] += rin
            self.totals[sid][1] += rout
        if self.on_batch is not None:
            self.on_batch(
                BatchReport(
                    batch=self.batches,
                    records=batch.records,
                    steps=pending.steps,
                    outputs=pending.outputs,
                    dead_letters=dead_rows,
                    seconds=time.perf_counter() - pending.t0,
                    lag=lag_of(self.source),
                    state_bytes=self.state_bytes(),
                    checks=check_stats(self.plan),
                )
            )

    def state_bytes(self) -> int:
        return sum(op.state_bytes() for op in self.ops.values())

    def _close(self) -> None:
        for out in self.plan.outputs:
            quiet(out.sink.close)
        for src in self.plan.sources.values():
            quiet(src.close)

    def _result(self, started: float, reason: str, lag: int) -> StreamResult:
        plan, ctx = self.plan, self.plan.context
        steps = [
            StepStats(s.id, s.kind.name, self.totals[s.id][0], self.totals[s.id][1])
            for s in plan.steps
        ]
        outputs = [
            OutputStats(o.name, o.sink.describe(), self.written[o.name]) for o in plan.outputs
        ]
        for o in outputs:
            self.hooks.on_output(name=o.name, target=o.target, rows=o.rows)
        seconds = time.perf_counter() - started
        result = StreamResult(
            run_id=ctx.run_id,
            pipeline=plan.pipeline.name,
            status="succeeded",
            mode="stream",
            content_hash=plan.pipeline.content_hash,
            profile=plan.profile,
            inputs={self.input: self.read},
            steps=steps,
            outputs=outputs,
            dead_letters=self.dead_rows,
            dead_letter_target=self.dead.describe() if self.dead_rows else None,
            seconds=seconds,
            checks=check_stats(plan),
            batches=self.batches,
            state_bytes=self.state_bytes(),
            lag=lag,
            stop_reason=reason,
        )
        self.hooks.on_run_end(
            run_id=ctx.run_id,
            status="succeeded",
            seconds=seconds,
            rows_read=result.rows_read,
            rows_written=result.rows_written,
            dead_letters=self.dead_rows,
            batches=self.batches,
        )
        return result
