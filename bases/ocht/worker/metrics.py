"""Prometheus metrics of a worker and the HTTP endpoint (``/healthz``, ``/readyz``,
``/metrics``) served from a thread with the standard library."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from ocht.executor import BatchReport

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class WorkerMetrics:
    """The worker's metrics, in their own registry (so tests can run several workers)."""

    def __init__(self, pipeline: str) -> None:
        self.pipeline = pipeline
        self.registry = CollectorRegistry()
        labels = ["pipeline"]
        self.records = Counter(
            "ocht_records_read",
            "Kafka records read (good and bad).",
            labels,
            registry=self.registry,
        )
        self.step_rows = Counter(
            "ocht_step_rows",
            "Rows into and out of each step.",
            [*labels, "step", "direction"],
            registry=self.registry,
        )
        self.output_rows = Counter(
            "ocht_output_rows",
            "Rows written per output.",
            [*labels, "output"],
            registry=self.registry,
        )
        self.dead_letters = Counter(
            "ocht_dead_letters", "Records sent to the dead letters.", labels, registry=self.registry
        )
        self.batches = Counter(
            "ocht_batches", "Micro-batches committed.", labels, registry=self.registry
        )
        self.batch_seconds = Histogram(
            "ocht_batch_seconds",
            "Poll to commit, per batch.",
            labels,
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.lag = Gauge(
            "ocht_consumer_lag",
            "Records behind the end of the assigned partitions.",
            labels,
            registry=self.registry,
        )
        self.state_bytes = Gauge(
            "ocht_state_bytes", "Bytes held by stateful steps.", labels, registry=self.registry
        )
        self.checked = Counter(
            "ocht_check_rows",
            "Rows checked by each data-quality check.",
            [*labels, "step", "check", "action"],
            registry=self.registry,
        )
        self.failed = Counter(
            "ocht_check_failures",
            "Rows that failed each data-quality check.",
            [*labels, "step", "check", "action"],
            registry=self.registry,
        )
        self._check_totals: dict[tuple[str, str], tuple[int, int]] = {}
        self.ready = threading.Event()
        self.healthy = threading.Event()
        self.healthy.set()

    def observe(self, report: BatchReport) -> None:
        """Record one committed batch (the executor's ``on_batch`` callback)."""
        p = self.pipeline
        self.ready.set()
        self.records.labels(p).inc(report.records)
        for step, (rows_in, rows_out) in report.steps.items():
            self.step_rows.labels(p, step, "in").inc(rows_in)
            self.step_rows.labels(p, step, "out").inc(rows_out)
        for output, rows in report.outputs.items():
            self.output_rows.labels(p, output).inc(rows)
        self.dead_letters.labels(p).inc(report.dead_letters)
        self.batches.labels(p).inc()
        self.batch_seconds.labels(p).observe(report.seconds)
        self.lag.labels(p).set(report.lag)
        self.state_bytes.labels(p).set(report.state_bytes)
        for c in report.checks:  # totals so far: count what is new since the last batch
            seen, failed = self._check_totals.get((c.step, c.check), (0, 0))
            self.checked.labels(p, c.step, c.check, c.action).inc(max(c.rows_checked - seen, 0))
            self.failed.labels(p, c.step, c.check, c.action).inc(max(c.failed - failed, 0))
            self._check_totals[(c.step, c.check)] = (c.rows_checked, c.failed)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)


def serve_http(metrics: WorkerMetrics, host: str, port: int) -> ThreadingHTTPServer:
    """Start the endpoint in a daemon thread; ``server.shutdown()`` stops it."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path == "/metrics":
                self._send(200, metrics.render(), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok = metrics.healthy.is_set()
                self._send(200 if ok else 503, b"ok\n" if ok else b"unhealthy\n")
            elif path == "/readyz":
                ok = metrics.ready.is_set()
                self._send(200 if ok else 503, b"ready\n" if ok else b"not ready\n")
            else:
                self._send(404, b"not found\n")

        def _send(self, code: int, body: bytes, ctype: str = "text/plain") -> None:
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # scrapes are not worth a log line each

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="ocht-metrics", daemon=True).start()
    return server
