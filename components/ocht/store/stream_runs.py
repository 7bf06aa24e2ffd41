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

import sqlalchemy as sa

from ocht.store import tables
from ocht.store.engine import redact_text


def heartbeat(
    conn: sa.Connection,
    run_id: str,
    *,
    rows_read: Mapping[str, int],
    rows_written: Mapping[str, int],
    step_rows: Mapping[str, Any],
    dead_letters: int,
    extra: Mapping[str, Any],
) -> bool:
    """Update a running run's counts; ``False`` when no running run has ``run_id``."""
    row = conn.execute(sa.select(tables.runs.c.extra).where(tables.runs.c.run_id == run_id)).first()
    if row is None:
        return False
    now = datetime.now(UTC)
    merged = {
        **(row.extra or {}),
        **json.loads(redact_text(json.dumps(dict(extra)))),
        "heartbeat_at": now.isoformat(),
    }
    done = conn.execute(
        tables.runs.update()
        .where(tables.runs.c.run_id == run_id, tables.runs.c.status == "running")
        .values(
            rows_read=dict(rows_read),
            rows_written=dict(rows_written),
            step_rows=dict(step_rows),
            dead_letters=int(dead_letters),
            extra=merged,
        )
    )
    return bool(done.rowcount)
