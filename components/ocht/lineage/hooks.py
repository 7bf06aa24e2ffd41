"""Lineage as a run hook: START when a run begins, COMPLETE or FAIL when it ends.

The executor passes the compiled plan to ``on_plan``; the hook builds
the lineage graph from it (datasets, schema facets) and sends the events through a
:class:`~ocht.lineage.LineageEmitter`. Stream runs send RUNNING at each checkpoint.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from ocht.lineage.events import LineageEmitter
from ocht.lineage.graph import LineageGraph, graph
from ocht.observability import RunHooks
from ocht.pipeline_model import Pipeline


class _Context(Protocol):
    @property
    def base_dir(self) -> Path: ...


class _Output(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def reads(self) -> str: ...


class PlanLike(Protocol):
    """What lineage reads of a compiled plan (``ocht.executor.Plan`` has it)."""

    @property
    def pipeline(self) -> Pipeline: ...

    @property
    def context(self) -> _Context: ...

    @property
    def schemas(self) -> Mapping[str, pl.Schema]: ...

    @property
    def outputs(self) -> Sequence[_Output]: ...


def graph_of(plan: PlanLike) -> LineageGraph:
    """The lineage graph of a compiled plan (its pipeline, base folder and schemas)."""
    return graph(
        plan.pipeline,
        base_dir=plan.context.base_dir,
        schemas=plan.schemas,
        output_frames={o.name: o.reads for o in plan.outputs},
    )


class LineageHooks(RunHooks):
    """Sends OpenLineage events for every run it observes.

    Example:
        >>> LineageHooks.from_settings({}) is None   # nothing configured: no hook
        True
    """

    def __init__(self, emitter: LineageEmitter, *, running_every_s: float = 60.0) -> None:
        self.emitter = emitter
        self.running_every_s = running_every_s
        self._graphs: dict[str, LineageGraph] = {}
        self._last_running: dict[str, float] = {}

    @classmethod
    def from_settings(cls, env: Mapping[str, str] | None = None) -> LineageHooks | None:
        """The hook ``OCHT_LINEAGE_FILE`` / ``OCHT_LINEAGE_URL`` ask for, or ``None``
        (``OCHT_LINEAGE_RUNNING_EVERY``: seconds between a stream's RUNNING events)."""
        import os

        env = os.environ if env is None else env
        emitter = LineageEmitter.from_settings(env)
        if emitter is None:
            return None
        return cls(emitter, running_every_s=float(env.get("OCHT_LINEAGE_RUNNING_EVERY", "60")))

    def on_plan(self, *, run_id: str, plan: Any, **future: Any) -> None:
        self._graphs[run_id] = graph_of(plan)

    def on_run_start(self, *, run_id: str, pipeline: str, mode: str, **future: Any) -> None:
        data = self._graphs.get(run_id)
        if data is not None:
            self.emitter.emit(data, run_id=run_id, event_type="START")

    def on_checkpoint(self, *, run_id: str, **future: Any) -> None:
        """A stream run checkpointed: a RUNNING event (at most one per ``running_every_s``:
        a stream checkpoints every micro-batch, a lineage consumer needs far fewer)."""
        data = self._graphs.get(run_id)
        now = time.monotonic()
        if data is None or now - self._last_running.get(run_id, -1e18) < self.running_every_s:
            return
        self._last_running[run_id] = now
        self.emitter.emit(data, run_id=run_id, event_type="RUNNING")

    def on_run_end(self, *, run_id: str, status: str, seconds: float, **future: Any) -> None:
        data = self._graphs.pop(run_id, None)
        self._last_running.pop(run_id, None)
        if data is None:
            return
        if status == "succeeded" or status == "stopped":
            self.emitter.emit(data, run_id=run_id, event_type="COMPLETE")
        elif status == "cancelled":
            self.emitter.emit(data, run_id=run_id, event_type="ABORT", error=future.get("error"))
        else:
            self.emitter.emit(data, run_id=run_id, event_type="FAIL", error=future.get("error"))
