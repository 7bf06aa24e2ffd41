"""Lineage as a run hook: START when a run begins, COMPLETE or FAIL when it ends.

The executor passes the compiled plan to ``on_plan``; the hook builds
the lineage graph from it (datasets, schema facets) and sends the events through a
:class:`~ocht.lineage.LineageEmitter`. Stream runs send RUNNING at each checkpoint.
"""

from __future__ import annotations

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

    def __init__(self, emitter: LineageEmitter) -> None:
        self.emitter = emitter
        self._graphs: dict[str, LineageGraph] = {}

    @classmethod
    def from_settings(cls, env: dict[str, str] | None = None) -> LineageHooks | None:
        """The hook ``OCHT_LINEAGE_FILE`` / ``OCHT_LINEAGE_URL`` ask for, or ``None``."""
        emitter = LineageEmitter.from_settings(env)
        return cls(emitter) if emitter is not None else None

    def on_plan(self, *, run_id: str, plan: Any, **future: Any) -> None:
        self._graphs[run_id] = graph_of(plan)

    def on_run_start(self, *, run_id: str, pipeline: str, mode: str, **future: Any) -> None:
        data = self._graphs.get(run_id)
        if data is not None:
            self.emitter.emit(data, run_id=run_id, event_type="START")

    def on_checkpoint(self, *, run_id: str, **future: Any) -> None:
        """A stream run checkpointed: a RUNNING event."""
        data = self._graphs.get(run_id)
        if data is not None:
            self.emitter.emit(data, run_id=run_id, event_type="RUNNING")

    def on_run_end(self, *, run_id: str, status: str, seconds: float, **future: Any) -> None:
        data = self._graphs.pop(run_id, None)
        if data is None:
            return
        if status == "succeeded" or status == "stopped":
            self.emitter.emit(data, run_id=run_id, event_type="COMPLETE")
        elif status == "cancelled":
            self.emitter.emit(data, run_id=run_id, event_type="ABORT", error=future.get("error"))
        else:
            self.emitter.emit(data, run_id=run_id, event_type="FAIL", error=future.get("error"))
