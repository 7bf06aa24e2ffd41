"""Dead letters of a stream run: one format, appended batch after batch, never rewritten.

Every dead letter gets the columns ``record, reason, code, step, check, run_id, source,
position, ts`` (the batch format); producers may add more (the Kafka source adds
``topic``, ``partition`` and ``offset``). A producer's columns outside that list are the
original record, JSON-encoded into ``record`` when it gave none.

The pipeline's ``dead_letter`` output is used when it takes batches (a Kafka topic); a
file ``dead_letter`` (``path:``) and the default (``<run folder>/dead_letters.ndjson``)
are appended to as NDJSON, so a long-running worker keeps every batch's dead letters.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from ocht.executor.plan import Plan
from ocht.transform import DEAD_LETTER_SCHEMA

COLUMNS = DEAD_LETTER_SCHEMA
#: Columns kept beside the standard ones when a producer gives them.
EXTRA: dict[str, pl.DataType] = {
    "topic": pl.String(),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
}


def normalize(frame: pl.LazyFrame, *, run_id: str) -> pl.LazyFrame:
    """``frame`` with exactly the dead-letter columns (plus Kafka's position columns)."""
    names = frame.collect_schema().names()
    record_cols = [n for n in names if n not in COLUMNS and n not in EXTRA]
    defaults: dict[str, pl.Expr] = {
        "record": pl.struct(record_cols).struct.json_encode() if record_cols else pl.lit(None),
        "code": pl.lit("rejected"),
        "run_id": pl.lit(run_id),
        "ts": pl.lit(datetime.now(UTC)),
    }
    exprs = []
    for name, dtype in {**COLUMNS, **EXTRA}.items():
        expr = pl.col(name) if name in names else defaults.get(name, pl.lit(None))
        exprs.append(expr.cast(dtype).alias(name))
    return frame.select(exprs)


def late_letters(late: pl.DataFrame, step: str) -> pl.DataFrame:
    """Dead letters for records that reached a windowed aggregate after their window."""
    return late.select(
        pl.struct(pl.all()).struct.json_encode().alias("record"),
        pl.lit("late record: every window it falls in was already emitted").alias("reason"),
        pl.lit("late-record").alias("code"),
        pl.lit(step).alias("step"),
    )


class DeadLetterWriter:
    """Writes dead-letter rows for a stream run (see the module docstring)."""

    def __init__(self, plan: Plan) -> None:
        self.sink: Any = None
        self.path: Path | None = None
        out = plan.dead_letter
        if out is not None and not getattr(out.sink, "atomic", True):
            self.sink = out.sink
        elif out is not None and getattr(out.sink.spec, "path", None):
            self.path = plan.context.resolve(out.sink.spec.path)
        else:
            self.path = plan.context.run_dir / "dead_letters.ndjson"

    def describe(self) -> str:
        """Where dead letters go."""
        return str(self.sink.describe()) if self.sink is not None else str(self.path)

    def write(self, rows: pl.DataFrame) -> int:
        """Append ``rows``; returns how many were written."""
        if rows.height == 0:
            return 0
        if self.sink is not None:
            self.sink.open()
            self.sink.write(rows)
            self.sink.commit()
            return rows.height
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as fh:
            rows.write_ndjson(fh)
        return rows.height
