"""Stream runs in the runs table: a heartbeat with the counts so far.

A stream run's manifest is written like a batch run's (``start_run`` with mode
``stream``, status ``running``); while it runs, :func:`heartbeat` updates its counts and
``extra.heartbeat_at`` (batches, lag, state size), so ``ocht runs`` shows how far a
worker got and when it last answered. It ends ``stopped`` (drained, max batches, a
signal), ``failed``, or ``abandoned`` when its process is found gone.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ocht.store.db import Transaction
from ocht.store.engine import redact_text


def heartbeat(
    tx: Transaction,
    run_id: str,
    *,
    rows_read: Mapping[str, int],
    rows_written: Mapping[str, int],
    step_rows: Mapping[str, Any],
    dead_letters: int,
    extra: Mapping[str, Any],
) -> bool:
    """Update a running run's counts; ``False`` when no running run has ``run_id``."""
    rows = tx.rows("SELECT extra FROM ocht_runs WHERE run_id = :run_id", {"run_id": run_id})
    if not rows:
        return False
    now = datetime.now(UTC)
    merged = {
        **(rows[0]["extra"] or {}),
        **json.loads(redact_text(json.dumps(dict(extra)))),
        "heartbeat_at": now.isoformat(),
    }
    done = tx.execute(
        "UPDATE ocht_runs SET rows_read = :rows_read, rows_written = :rows_written, "
        "step_rows = :step_rows, dead_letters = :dead_letters, extra = :extra "
        "WHERE run_id = :run_id AND status = 'running'",
        {
            "run_id": run_id,
            "rows_read": dict(rows_read),
            "rows_written": dict(rows_written),
            "step_rows": dict(step_rows),
            "dead_letters": int(dead_letters),
            "extra": merged,
        },
    )
    return bool(done)
