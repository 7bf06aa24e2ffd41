"""Per-step traces of a run, written as Parquet beside the run's other files.

One row per step: rows in, rows out, rows dropped, rows dead-lettered, rows per branch,
for ``check`` steps each check's result with a few failing values, and for steps that
report on themselves (``predict``: the model; ``llm``: tokens) that report as JSON. The file is
``<home>/runs/<run id>/trace.parquet``; ``ocht trace RUN_ID`` prints it.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from ocht.executor.plan import Plan
from ocht.executor.result import RunResult
from ocht.observability import get_logger
from ocht.transform import DEAD_LETTER

TRACE_FILE = "trace.parquet"

TRACE_SCHEMA = pl.Schema(
    {
        "run_id": pl.String(),
        "pipeline": pl.String(),
        "position": pl.Int32(),
        "step": pl.String(),
        "kind": pl.String(),
        "rows_in": pl.Int64(),
        "rows_out": pl.Int64(),
        "dropped": pl.Int64(),
        "dead_lettered": pl.Int64(),
        "branches": pl.String(),
        "checks": pl.String(),
        "report": pl.String(),
    }
)


def trace_frame(result: RunResult) -> pl.DataFrame:
    """The trace of ``result`` as a frame (``branches`` and ``checks`` as JSON text).

    Example:
        >>> from ocht.executor.result import StepStats
        >>> r = RunResult("r", "p", "succeeded", steps=[StepStats("f", "filter", 4, 3)])
        >>> trace_frame(r).select("step", "dropped").row(0)
        ('f', 1)
    """
    rows = []
    for i, s in enumerate(result.steps):
        dead = s.branches.get(DEAD_LETTER, 0)
        checks = [
            {
                "check": c.check,
                "type": c.type,
                "action": c.action,
                "rows_checked": c.rows_checked,
                "failed": c.failed,
                "samples": c.samples,
                "changes": c.changes,
            }
            for c in result.checks
            if c.step == s.step
        ]
        rows.append(
            {
                "run_id": result.run_id,
                "pipeline": result.pipeline,
                "position": i + 1,
                "step": s.step,
                "kind": s.kind,
                "rows_in": s.rows_in,
                "rows_out": s.rows_out,
                "dropped": s.rows_in - s.rows_out - dead,
                "dead_lettered": dead,
                "branches": json.dumps(s.branches) if s.branches else None,
                "checks": json.dumps(checks, default=str) if checks else None,
                "report": (
                    json.dumps(result.reports[s.step], default=str)
                    if s.step in result.reports
                    else None
                ),
            }
        )
    return pl.DataFrame(rows, schema=TRACE_SCHEMA)


def write_trace(plan: Plan, result: RunResult) -> Path | None:
    """Write the run's trace; a failure to write is logged, never raised."""
    path = plan.context.run_dir / TRACE_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        trace_frame(result).write_parquet(path)
    except OSError:
        get_logger().warning("trace not written", path=str(path), exc_info=True)
        return None
    return path


def read_trace(home: str | Path, run_id: str) -> pl.DataFrame:
    """The trace of run ``run_id`` under ``home``.

    Raises:
        FileNotFoundError: there is no such run (or it wrote no trace).
    """
    return pl.read_parquet(Path(home) / "runs" / run_id / TRACE_FILE)
