"""A worker process whose registry also knows the testkit's SQLite upsert sink.

Usage: python upsert_worker.py PIPELINE HOME [DRAIN_SECONDS]
"""

from __future__ import annotations

import sys

from ocht.observability import configure_logging
from ocht.registry import Registry
from ocht.testkit.broker import UPSERT
from ocht.worker import serve

if __name__ == "__main__":
    configure_logging("json", "info")
    drain = float(sys.argv[3]) if len(sys.argv) > 3 else None
    serve(sys.argv[1], registry=Registry(connectors=[UPSERT]), home=sys.argv[2], idle_stop_s=drain)
