"""Prometheus metrics of the server: requests by route and status, latencies, runs.

Each app has its own registry (tests start several servers in one process).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class ApiMetrics:
    """The server's metrics in their own registry."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ocht_api_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ocht_api_request_seconds",
            "Time to answer, by method and route template.",
            ["method", "route"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.runs = Counter(
            "ocht_api_runs", "Runs ended, by status.", ["status"], registry=self.registry
        )
        self.submitted = Counter(
            "ocht_api_runs_submitted", "Runs accepted.", registry=self.registry
        )
        self.rejected = Counter(
            "ocht_api_runs_rejected",
            "Runs refused because the queue was full.",
            registry=self.registry,
        )
        self.running = Gauge("ocht_api_runs_running", "Runs executing now.", registry=self.registry)

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def install(app: FastAPI, metrics: ApiMetrics) -> None:
    """Count and time every request by its route template (never its raw path)."""

    @app.middleware("http")
    async def _measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = request.method if request.method in _METHODS else "OTHER"
            metrics.requests.labels(method, template, str(status)).inc()
            metrics.latency.labels(method, template).observe(time.perf_counter() - started)
