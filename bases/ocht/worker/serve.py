"""Run one pipeline as a worker: signals, metrics endpoint, the stream loop."""

from __future__ import annotations

import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from types import FrameType
from typing import Any

from ocht.executor import (
    BatchReport,
    CancelToken,
    Plan,
    Runner,
    RunRequest,
    RunServices,
    StreamResult,
)
from ocht.observability import HookGroup, LoggingHooks, get_logger
from ocht.registry import Registry
from ocht.worker.metrics import WorkerMetrics, serve_http


def serve(
    pipeline: str | Path | Mapping[str, Any],
    *,
    profile: str | None = None,
    variables: Mapping[str, Any] | None = None,
    registry: Registry | None = None,
    home: str | Path = ".ocht",
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
    max_batches: int | None = None,
    idle_stop_s: float | None = None,
    stop: threading.Event | None = None,
    lookup_refresh_s: float | None = None,
    cancel: CancelToken | None = None,
) -> StreamResult:
    """Join the consumer group and run until SIGTERM/SIGINT (or ``stop``).

    A signal finishes the batch in flight, commits it and leaves the group; a second
    SIGINT is not needed and is ignored until then.

    Args:
        pipeline: a pipeline file or dict.
        profile: the profile to apply (e.g. ``stream``).
        variables: ``--set`` values.
        registry: step kinds and connectors (default: built-ins and plugins).
        home: run data, dead letters, checkpoints.
        metrics_port: serve ``/healthz``, ``/readyz`` and ``/metrics`` on this port.
        metrics_host: the address to bind (default loopback).
        max_batches: stop after this many batches.
        idle_stop_s: stop once the input is drained and idle this long.
        stop: an event that stops the worker like a signal does.
        lookup_refresh_s: re-read bounded inputs (join lookups) this often.
        cancel: cancel the run (it ends with ``Cancelled``, exit 130).
    """
    log = get_logger("ocht.worker")
    stop = stop or threading.Event()
    previous: dict[int, Any] = {}

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping: finishing the current batch", signal=signal.Signals(signum).name)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            previous[int(sig)] = signal.signal(sig, on_signal)
    metrics: WorkerMetrics | None = None
    server = None

    def ready(plan: Plan) -> None:  # compiled, connected: taking work
        nonlocal metrics, server
        metrics = WorkerMetrics(plan.pipeline.name)
        if metrics_port is not None:
            server = serve_http(metrics, metrics_host, metrics_port)
            log.info(
                "metrics endpoint", url=f"http://{metrics_host}:{server.server_address[1]}/metrics"
            )
        metrics.ready.set()

    def observe(report: BatchReport) -> None:
        if metrics is not None:
            metrics.observe(report)

    request = RunRequest(
        pipeline,
        profile=profile,
        variables=dict(variables or {}),
        max_batches=max_batches,
        drain=idle_stop_s,
        lookup_refresh=lookup_refresh_s,
    )
    from ocht.lineage import LineageHooks

    lineage = LineageHooks.from_settings()
    hooks = HookGroup([LoggingHooks(), lineage]) if lineage is not None else LoggingHooks()
    runner = Runner(RunServices(registry=registry, hooks=hooks, home=home))
    try:
        return runner.stream(request, cancel=cancel, on_batch=observe, stop=stop, on_ready=ready)
    finally:
        if metrics is not None:
            metrics.ready.clear()
        if server is not None:
            server.shutdown()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
