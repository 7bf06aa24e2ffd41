"""Runs through the front door in one call, for tests: a pipeline and a few options in,
a result out (``Runner(RunServices(...)).run(RunRequest(...))`` underneath)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ocht.executor import (
    BatchReport,
    CancelToken,
    Runner,
    RunRequest,
    RunResult,
    RunServices,
    RunStore,
    StreamResult,
)
from ocht.observability import RunHooks
from ocht.registry import Registry

Pipeline = str | Path | Mapping[str, Any] | Any


def run_pipeline(
    pipeline: Pipeline,
    *,
    registry: Registry | None = None,
    store: RunStore | None = None,
    hooks: RunHooks | None = None,
    home: str | Path = ".ocht",
    cancel: CancelToken | None = None,
    **request: Any,
) -> RunResult:
    """A batch run; ``request`` holds :class:`~ocht.executor.RunRequest` fields.

    Example:
        >>> run_pipeline("pipeline.yaml", limit=10).status  # doctest: +SKIP
        'succeeded'
    """
    services = RunServices(store=store, registry=registry, hooks=hooks, home=home)
    return Runner(services).run(RunRequest(pipeline, **request), cancel=cancel)


def stream_pipeline(
    pipeline: Pipeline,
    *,
    registry: Registry | None = None,
    store: RunStore | None = None,
    hooks: RunHooks | None = None,
    home: str | Path = ".ocht",
    cancel: CancelToken | None = None,
    stop: threading.Event | None = None,
    on_batch: Callable[[BatchReport], None] | None = None,
    idle_stop_s: float | None = None,
    lookup_refresh_s: float | None = None,
    **request: Any,
) -> StreamResult:
    """A stream run; ``idle_stop_s`` drains, other ``request`` keys are request fields."""
    services = RunServices(store=store, registry=registry, hooks=hooks, home=home)
    req = RunRequest(pipeline, drain=idle_stop_s, lookup_refresh=lookup_refresh_s, **request)
    return Runner(services).stream(req, cancel=cancel, on_batch=on_batch, stop=stop)
