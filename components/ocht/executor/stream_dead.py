"""Dead letters of a stream run: one format, appended batch after batch, never rewritten.

Every producer's rows are normalised by :func:`ocht.executor.normalize_dead_letters`
(the batch normaliser); the Kafka source's ``topic``, ``partition`` and ``offset`` are
kept beside the standard columns and fill ``position``.

The pipeline's ``dead_letter`` output is used when it takes batches (a Kafka topic). A
file ``dead_letter`` is written in its declared format to the run's own file
(``<stem>.<run_id><suffix>``, see :mod:`ocht.executor.dead_files`): NDJSON and CSV are
appended to batch after batch, Parquet and JSON get one part per batch. Without a
declared output, dead letters are appended to ``<run folder>/dead_letters.ndjson``.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ocht.executor.dead_files import DeadLetterFile, dead_letter_file, default_dead_letter_file
from ocht.executor.dead_letters import (
    DEAD_LETTER_COLUMNS,
    POSITION_COLUMNS,
    normalize_dead_letters,
)
from ocht.executor.plan import Plan


def normalize(frame: pl.LazyFrame, *, run_id: str) -> pl.LazyFrame:
    """An already normalised part with the Kafka position columns added (null when absent)."""
    names = frame.collect_schema().names()
    if not set(DEAD_LETTER_COLUMNS) <= set(names):  # a producer nobody normalised yet
        return normalize_dead_letters(
            frame, run_id=run_id, step="stream", source=None, keep_positions=True
        )
    exprs = [pl.col(n) for n in DEAD_LETTER_COLUMNS]
    for name, dtype in POSITION_COLUMNS.items():
        exprs.append((pl.col(name) if name in names else pl.lit(None)).cast(dtype).alias(name))
    return frame.select(exprs)


def source_letters(frame: pl.LazyFrame, *, run_id: str, source: str) -> pl.LazyFrame:
    """A stream source's dead letters (raw records that could not be decoded)."""
    return normalize_dead_letters(
        frame,
        run_id=run_id,
        step=f"input:{source}",
        source=source,
        code="unreadable-record",
        record_is_json=False,
        keep_positions=True,
    )


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
        self.file: DeadLetterFile | None = None
        out = plan.dead_letter
        if out is not None and not getattr(out.sink, "atomic", True):
            self.sink = out.sink
        elif out is not None:
            self.file = dead_letter_file(out.sink.spec, plan.context)
            if self.file is None:
                self.sink = out.sink
        else:
            self.file = default_dead_letter_file(plan.context)

    def describe(self) -> str:
        """Where dead letters go."""
        return self.file.describe() if self.file is not None else str(self.sink.describe())

    def write(self, rows: pl.DataFrame) -> int:
        """Append ``rows``; returns how many were written."""
        if rows.height == 0:
            return 0
        if self.file is not None:
            self.file.append(rows)
            return rows.height
        self.sink.open()
        self.sink.write(rows)
        self.sink.commit()
        return rows.height
