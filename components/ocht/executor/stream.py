"""Run a compiled plan in stream mode: micro-batch after micro-batch, until stopped.

Per batch: poll → the plan's compiled steps, per source partition when the plan is
stateful (:mod:`ocht.executor.stream_batch`) → one ``pl.collect_all`` for every output →
each sink ``open``/``write``. Then, oldest batch first, once its sinks acknowledged it
(``settled``, or ``commit`` for sinks that confirm there): the per-partition checkpoints
(state right after that batch + offsets, :mod:`ocht.executor.stream_checkpoints`) are
saved — inside a SQL output's transaction when there is one, so rows, offsets and state
commit together — and the source offsets are committed. A crash before that replays the
batch (sinks are idempotent by key or position, DESIGN §6); a crash after it loses
nothing.

The run has a manifest in the run store (mode ``stream``): ``running`` with a heartbeat
of its counts, then ``stopped`` or ``failed`` (``abandoned`` when its process is found
gone).

Back-pressure: at most ``max_in_flight`` batches wait for acknowledgements; past that the
loop waits for the oldest before polling again, and the Kafka client's fetch queue is
bounded, so a slow sink pauses consumption instead of buffering without end.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from ocht.errors import InvalidPipeline
from ocht.executor.checks import check_stats
from ocht.executor.plan import Plan, PlannedOutput
from ocht.executor.services import Clock, SystemClock, raise_if_cancelled
from ocht.executor.stream_batch import copartitioning, split, transform
from ocht.executor.stream_checkpoints import Checkpointer
from ocht.executor.stream_dead import DeadLetterWriter, normalize, source_letters
from ocht.executor.stream_files import StreamFiles
from ocht.executor.stream_manifest import Manifest, counts_of, open_store, stream_result
from ocht.executor.stream_types import (
    BatchReport,
    Pending,
    StreamResult,
    StreamSource,
    TransactionalSink,
    concat_dead,
    explain,
    lag_of,
    quiet,
    settled,
)
from ocht.observability import RunHooks, bound, get_logger
from ocht.transform import DEAD_LETTER, StreamOperator


def run_stream(
    plan: Plan,
    *,
    hooks: RunHooks | None = None,
    stop: threading.Event | None = None,
    max_batches: int | None = None,
    idle_stop_s: float | None = None,
    store: Any = None,
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
        store: the run store (an :class:`ocht.store.Store`): the per-partition
            checkpoints and the manifest's heartbeat (the caller records the manifest's
            start and end). Default: ``$OCHT_STORE_URL``, else ``ocht.db`` in the run
            home, and then this run records its whole manifest there.
        on_batch: called after every committed batch (metrics).
        max_in_flight: batches handed to the sinks but not yet confirmed, at most.
        lookup_refresh_s: re-read the bounded inputs (lookups for joins, read once at
            start) when they are this old; ``None`` never re-reads them.
        clock: where event-time windows read the time (default: the real clock).

    The plan's cancel token is looked at before every poll and every commit: a
    cancelled run stops there with :class:`~ocht.executor.Cancelled`.

    Raises:
        InvalidPipeline: the plan has no stream source.
        OchtError: a batch failed; its offsets were not committed.

    Example:
        >>> from ocht.executor import compile_plan, run_stream  # doctest: +SKIP
        >>> plan = compile_plan(loaded, mode="stream")           # doctest: +SKIP
        >>> run_stream(plan, idle_stop_s=2).rows_written          # doctest: +SKIP
    """
    owned = store is None
    store = store if store is not None else open_store(plan.context.run_dir.parent.parent)
    try:
        return _StreamRun(
            plan,
            hooks or RunHooks(),
            stop or threading.Event(),
            store,
            on_batch,
            max(1, max_in_flight),
            clock or SystemClock(),
            record=owned,
        ).run(max_batches, idle_stop_s, lookup_refresh_s)
    finally:
        if owned:
            store.close()


class _StreamRun:
    def __init__(
        self,
        plan: Plan,
        hooks: RunHooks,
        stop: threading.Event,
        store: Any,
        on_batch: Callable[[BatchReport], None] | None,
        max_in_flight: int = 8,
        clock: Clock | None = None,
        *,
        record: bool = True,
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
        self.ops: dict[str, StreamOperator] = {
            s.id: s.compiled.operator() for s in plan.steps if s.compiled.operator is not None
        }
        # a SQL output holds the checkpoints, written in its own transaction
        exact = [o for o in plan.outputs if isinstance(o.sink, TransactionalSink)]
        self.exact: PlannedOutput | None = exact[0] if exact else None
        if len(exact) > 1:
            self.log.warning(
                "several SQL outputs: offsets commit with the first; the others are "
                "effectively once (use upsert)",
                output=exact[0].name,
            )
        self.files = StreamFiles(plan)  # file outputs: their journals ride in the checkpoints
        self.checkpointer: Checkpointer | None = None
        if self.ops or self.exact is not None or self.files:
            self.checkpointer = Checkpointer(
                self.ops,
                self._checkpoints(store),
                pipeline=plan.pipeline.name,
                group=str(getattr(self.source, "group", "default")),
                run_id=plan.context.run_id,
                cluster_id=getattr(self.source, "cluster_id", lambda: ""),
                verify=getattr(self.source, "verify_offsets", None),
            )
        loose = copartitioning(plan, self.input, self.ops)
        if loose:
            self.log.warning(
                "state is per partition and merged within one worker: run one worker for "
                "these steps, or key the input by their group columns and declare it "
                "(partitioned_by); repartitioning is not built in",
                steps=loose,
                code="not-copartitioned",
            )
        self.manifest = Manifest(store, plan, self.input, record=record)
        self.dead = DeadLetterWriter(plan)
        self.totals: dict[str, list[int]] = {s.id: [0, 0] for s in plan.steps}
        self.written: dict[str, int] = {o.name: 0 for o in plan.outputs}
        self.read = 0
        self.dead_rows = 0
        self.batches = 0
        self.pending: list[Pending] = []
        self.final_state = 0

    def _checkpoints(self, store: Any) -> Any:
        if self.exact is None:
            return store.partitions
        from ocht.store import PartitionCheckpoints

        sink = self.exact.sink
        assert isinstance(sink, TransactionalSink)
        cps = PartitionCheckpoints(sink.checkpoint_engine())
        cps.ensure()
        return cps

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
            self.hooks.on_plan(run_id=ctx.run_id, plan=plan)
            self.hooks.on_run_start(
                run_id=ctx.run_id,
                pipeline=plan.pipeline.name,
                mode="stream",
                inputs=list(plan.sources),
                outputs=[o.name for o in plan.outputs],
            )
            self.manifest.start()
            try:
                self._wire()
                lookups = self._lookups()
                loaded_at = time.monotonic()
                idle_since: float | None = None
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
                    self.files.roll(self.checkpointer)  # parts older than roll_seconds
                    if batch.at_end and idle_since is None:
                        idle_since = time.monotonic()
                    self._positions()
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
                self.files.roll(self.checkpointer, force=True)  # a clean stop publishes all
            except BaseException as exc:
                error = explain(exc)
                self.hooks.on_run_end(
                    run_id=ctx.run_id,
                    status="failed",
                    seconds=time.perf_counter() - started,
                    error=error.to_dict(),
                )
                self.manifest.failed(error, self._snapshot())
                self._close()
                if error is exc:
                    raise
                raise error from exc
            lag = lag_of(self.source)
            self.final_state = self.state_bytes()  # leaving the group drops the state
            self._close()
        result = stream_result(self, started, reason, lag)
        self.manifest.stopped(result)
        return result

    def _wire(self) -> None:
        self.source.before_revoke = self._finish_pending
        cp = self.checkpointer
        if cp is None:
            return
        cp.start()
        self.files.recover(cp)
        self.source.on_assigned = cp.assigned
        self.source.on_revoked = cp.revoked
        self.source.track_partitions = bool(self.ops)

    def _positions(self) -> None:
        at_end = getattr(self.source, "at_end", None)
        ends = at_end() if callable(at_end) else None
        for op in self.ops.values():
            op.positions(ends)

    def _lookups(self) -> dict[str, pl.LazyFrame]:
        # bounded inputs (a join's other side) are read whole, once per (re)load
        return {
            n: s.scan().collect().lazy() for n, s in self.plan.sources.items() if n != self.input
        }

    # -- one batch -----------------------------------------------------------------------
    def _write(
        self, batch: Any, lookups: dict[str, pl.LazyFrame], now: float, phase: str, t0: float
    ) -> Pending:
        """Transform one batch and hand it to the sinks (not yet confirmed)."""
        plan = self.plan
        cp = self.checkpointer
        for key in getattr(batch, "stale", ()) or ():
            if cp is not None:
                cp.discard(key, "its first record came before the checkpoint's offset")
        self._positions()
        frame = batch.frame if batch.frame.width else pl.DataFrame(schema=plan.schemas[self.input])
        pieces = split(frame, getattr(batch, "parts", None) if self.ops else None)
        done = transform(plan, self.input, pieces, lookups, self.ops, now=now, phase=phase)
        dead_parts = list(done.dead_parts)
        if batch.dead_letters is not None and batch.dead_letters.height:
            raw = batch.dead_letters.lazy()
            dead_parts.insert(0, source_letters(raw, run_id=plan.context.run_id, source=self.input))
        dead = concat_dead([normalize(p, run_id=plan.context.run_id) for p in dead_parts])
        collected = pl.collect_all(done.targets + ([dead] if dead is not None else []))
        outs, dead_df = collected[: len(done.targets)], collected[len(done.targets) :]
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
        per_step: dict[str, tuple[int, int]] = {}
        for step in plan.steps:
            rin = done.rows_of(step.reads[0])
            rout = sum(done.rows_of(n) for b, n in step.frame_names().items() if b != DEAD_LETTER)
            per_step[step.id] = (rin, rout)
        # the checkpoint is the state right after this batch, taken now
        rows = cp.rows(dict(batch.offsets), done.dirty) if cp is not None else []
        return Pending(
            batch,
            written,
            tickets,
            {o.name: d.height for o, d in zip(plan.outputs, outs, strict=True)},
            dead_df[0] if dead_df else None,
            per_step,
            rows,
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
        # dead letters first: a crash after them re-sends them, never loses them
        dead_rows = self.dead.write(p.dead) if p.dead is not None else 0
        cp = self.checkpointer
        states = p.states + self.files.stage(p)
        saved = False
        for i, (out, ticket) in enumerate(zip(p.written, p.tickets, strict=True)):
            if ticket is not None:
                continue
            try:
                if cp is not None and out is self.exact:
                    # rows, offsets and state in one database transaction: exactly once
                    assert isinstance(out.sink, TransactionalSink)
                    out.sink.commit_with(lambda conn: cp.save(states, conn))
                    saved = True
                else:
                    out.sink.commit()  # a transaction, or a sink that confirms on commit
            except BaseException:
                for o in p.written[i:]:
                    quiet(o.sink.abort)
                raise
        if cp is not None and not saved:
            cp.save(states)
        if p.batch.offsets:
            self.source.commit(p.batch.offsets)
        self.files.publish()  # file outputs' parts, now that their offsets are saved
        # bookkeeping after the commit: only committed batches count
        self._account(p, dead_rows)
        if p.batch.records:
            self.hooks.on_checkpoint(run_id=self.plan.context.run_id, batches=self.batches)

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
        lag = lag_of(self.source)
        self.manifest.beat(self._snapshot(lag))
        if self.on_batch is not None:
            self.on_batch(
                BatchReport(
                    batch=self.batches,
                    records=batch.records,
                    steps=pending.steps,
                    outputs=pending.outputs,
                    dead_letters=dead_rows,
                    seconds=time.perf_counter() - pending.t0,
                    lag=lag,
                    state_bytes=self.state_bytes(),
                    checks=check_stats(self.plan),
                )
            )

    def _snapshot(self, lag: int = 0) -> dict[str, Any]:
        return counts_of(self, lag)

    def state_bytes(self) -> int:
        return sum(op.state_bytes() for op in self.ops.values())

    def _close(self) -> None:
        for out in self.plan.outputs:
            quiet(out.sink.close)
        for src in self.plan.sources.values():
            quiet(src.close)
