"""One call from a pipeline file (or dict) to a stream run: load, compile, run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ocht.config import LoadedPipeline, load_pipeline
from ocht.executor.plan import Plan, compile_plan, make_context
from ocht.executor.stream import run_stream
from ocht.executor.stream_types import BatchReport, StreamResult
from ocht.observability import RunHooks, add_secrets
from ocht.registry import Registry


def plan_stream(
    source: str | Path | Mapping[str, Any] | LoadedPipeline,
    *,
    profile: str | None = None,
    variables: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
    home: str | Path = ".ocht",
    options: Mapping[str, Any] | None = None,
) -> Plan:
    """Load and compile a pipeline for stream mode (batch-only steps are refused).

    Raises:
        InvalidPipeline: the pipeline cannot run on a stream, with every reason.
    """
    loaded = (
        source
        if isinstance(source, LoadedPipeline)
        else load_pipeline(source, profile=profile, variables=variables)
    )
    add_secrets(loaded.secrets)
    context = make_context(loaded, mode="stream", home=home, options=options)
    # stateful steps build their stream operators while compiling (not-streamable
    # aggregates are refused there, with every other problem)
    return compile_plan(loaded, mode="stream", registry=registry, context=context)


def execute_stream(
    source: str | Path | Mapping[str, Any] | LoadedPipeline,
    *,
    profile: str | None = None,
    variables: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
    hooks: RunHooks | None = None,
    home: str | Path = ".ocht",
    stop: threading.Event | None = None,
    max_batches: int | None = None,
    idle_stop_s: float | None = None,
    on_batch: Callable[[BatchReport], None] | None = None,
    store: Any = None,
    max_in_flight: int = 8,
    lookup_refresh_s: float | None = None,
) -> StreamResult:
    """Load, compile and run a pipeline in stream mode (see :func:`run_stream`).

    Example:
        >>> result = execute_stream("pipeline.yaml", idle_stop_s=2)  # doctest: +SKIP
        >>> result.stop_reason                                        # doctest: +SKIP
        'drained'
    """
    plan = plan_stream(source, profile=profile, variables=variables, registry=registry, home=home)
    return run_stream(
        plan,
        hooks=hooks,
        stop=stop,
        max_batches=max_batches,
        idle_stop_s=idle_stop_s,
        on_batch=on_batch,
        store=store,
        max_in_flight=max_in_flight,
        lookup_refresh_s=lookup_refresh_s,
    )
