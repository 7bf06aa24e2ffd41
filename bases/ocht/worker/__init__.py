"""The ``ocht-worker`` base: a long-running stream consumer with health and metrics.

Example:
    >>> from ocht.worker import serve  # doctest: +SKIP
    >>> serve("pipeline.yaml", metrics_port=9108)  # runs until SIGTERM  # doctest: +SKIP
"""

from ocht.worker.main import cli, main
from ocht.worker.metrics import WorkerMetrics
from ocht.worker.serve import serve

__all__ = ["WorkerMetrics", "cli", "main", "serve"]
