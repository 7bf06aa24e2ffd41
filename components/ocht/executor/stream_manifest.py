"""A stream run's manifest in the run store: running with a heartbeat, then how it ended."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from ocht.errors import OchtError
from ocht.executor.checks import check_stats, step_reports
from ocht.executor.plan import Plan
from ocht.executor.result import OutputStats, StepStats
from ocht.executor.stream_types import StreamResult
from ocht.observability import get_logger

#: the shortest time between two heartbeats written to the store
HEARTBEAT_S = 1.0


def open_store(home: Path) -> Any:
    """The run store of a stream run: ``$OCHT_STORE_URL``, else ``<home>/ocht.db``."""
    from ocht.store import ENV_URL, Store

    url = os.environ.get(ENV_URL) or f"sqlite:///{Path(home).resolve() / 'ocht.db'}"
    return Store(url)


def stream_extra(result: Any) -> dict[str, Any]:
    """What a stream run's manifest keeps beside the counts when it stops."""
    return {
        "stop_reason": result.stop_reason,
        "batches": result.batches,
        "lag": result.lag,
        "state_bytes": result.state_bytes,
    }


class Manifest:
    """A stream run's manifest (mode ``stream``) in ``store``: the heartbeat always; the
    start and the end only with ``record`` (when no caller records them, as the
    :class:`~ocht.executor.Runner` does)."""

    def __init__(self, store: Any, plan: Plan, input_name: str, *, record: bool) -> None:
        self.store = store
        self.plan = plan
        self.input = input_name
        self.record = record
        self.last = 0.0
        self.log = get_logger("ocht.stream")

    def start(self) -> None:
        if not self.record:
            return
        plan = self.plan
        self.store.start_run(
            pipeline=plan.pipeline.name,
            content_hash=plan.pipeline.content_hash,
            profile=plan.profile,
            mode="stream",
            run_id=plan.context.run_id,
            extra={
                "inputs": {n: s.describe() for n, s in plan.sources.items()},
                "outputs": {o.name: o.sink.describe() for o in plan.outputs},
            },
        )

    def beat(self, counts: dict[str, Any], *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < HEARTBEAT_S:
            return
        self.last = now
        try:
            self.store.heartbeat(self.plan.context.run_id, **counts)
        except OchtError:  # a heartbeat is a report; the stream goes on without it
            self.log.warning("heartbeat not recorded", exc_info=True)

    def stopped(self, result: Any) -> None:
        if not self.record:
            return
        self.store.finish_run(
            self.plan.context.run_id,
            "stopped",
            rows_read=result.inputs,
            rows_written={o.name: o.rows for o in result.outputs},
            step_rows={s.step: s.rows_out for s in result.steps},
            dead_letters=result.dead_letters,
            extra=stream_extra(result),
        )

    def failed(self, error: OchtError, counts: dict[str, Any]) -> None:
        if not self.record:
            return
        try:
            self.store.finish_run(
                self.plan.context.run_id,
                "failed",
                error_code=error.code,
                error_message=error.message,
                **counts,
            )
        except OchtError:  # the store is down too: the original error matters more
            self.log.warning("failed run not recorded", exc_info=True)


def counts_of(run: Any, lag: int = 0) -> dict[str, Any]:
    """A stream run's counts so far, as the manifest keeps them."""
    return {
        "rows_read": {run.input: run.read},
        "rows_written": dict(run.written),
        "step_rows": {sid: t[1] for sid, t in run.totals.items()},
        "dead_letters": run.dead_rows,
        "extra": {
            "batches": run.batches,
            "lag": lag,
            "state_bytes": run.state_bytes(),
            "group": getattr(run.source, "group", None),
            "stale_checkpoints": [
                {"topic": k[0], "partition": k[1], "reason": r}
                for k, r in (run.checkpointer.stale if run.checkpointer else [])
            ],
        },
    }


def stream_result(run: Any, started: float, reason: str, lag: int) -> StreamResult:
    """The result of a stream run that stopped cleanly (and the hooks told)."""
    plan, ctx = run.plan, run.plan.context
    steps = [
        StepStats(s.id, s.kind.name, run.totals[s.id][0], run.totals[s.id][1]) for s in plan.steps
    ]
    outputs = [OutputStats(o.name, o.sink.describe(), run.written[o.name]) for o in plan.outputs]
    for o in outputs:
        run.hooks.on_output(name=o.name, target=o.target, rows=o.rows)
    seconds = time.perf_counter() - started
    result = StreamResult(
        run_id=ctx.run_id,
        pipeline=plan.pipeline.name,
        status="succeeded",
        mode="stream",
        content_hash=plan.pipeline.content_hash,
        profile=plan.profile,
        inputs={run.input: run.read},
        steps=steps,
        outputs=outputs,
        dead_letters=run.dead_rows,
        dead_letter_target=run.dead.describe() if run.dead_rows else None,
        seconds=seconds,
        checks=check_stats(plan),
        reports=step_reports(plan),
        batches=run.batches,
        state_bytes=run.final_state,
        lag=lag,
        stop_reason=reason,
    )
    run.hooks.on_run_end(
        run_id=ctx.run_id,
        status="succeeded",
        seconds=seconds,
        rows_read=result.rows_read,
        rows_written=result.rows_written,
        dead_letters=run.dead_rows,
        batches=run.batches,
    )
    return result
