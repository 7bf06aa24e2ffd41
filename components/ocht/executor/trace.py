"""Per-step traces of a run, written as Parquet beside the run's other files.

One row per step: rows in, rows out, rows dropped, rows dead-lettered, rows per branch,
for ``check`` steps each check's result with a few failing values, for steps that
report on themselves (``predict``: the model; ``llm``: tokens) that report as JSON, and a
few rows the step dropped, changed (before and after, with the columns that changed) and
dead-lettered (with the reason), see :mod:`ocht.executor.samples`. Failed and cancelled
runs write their trace too, as far as they got (``status``, ``error``). Every text in it
went through the one redaction. The file is ``<home>/runs/<run id>/trace.parquet``;
``ocht trace RUN_ID`` prints it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import polars as pl

from ocht.executor.plan import Plan
from ocht.executor.result import RunResult
from ocht.executor.samples import Samples
from ocht.observability import get_logger, redact, redact_value
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
        "samples": pl.String(),
        "status": pl.String(),
        "error": pl.String(),
    }
)


def trace_frame(result: RunResult, samples: Samples | None = None) -> pl.DataFrame:
    """The trace of ``result`` as a frame (``branches``, ``checks``, ``samples`` as JSON).

    Example:
        >>> from ocht.executor.result import StepStats
        >>> r = RunResult("r", "p", "succeeded", steps=[StepStats("f", "filter", 4, 3)])
        >>> trace_frame(r).select("step", "dropped").row(0)
        ('f', 1)
    """
    rows = []
    error = redact(str(result.error.get("message", ""))) if result.error else None
    for i, s in enumerate(result.steps):
        shown = samples.of_step(s.step, result.checks) if samples is not None else {}
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
                "checks": json.dumps(redact_value(checks), default=str) if checks else None,
                "report": (
                    json.dumps(result.reports[s.step], default=str)
                    if s.step in result.reports
                    else None
                ),
                "samples": json.dumps(shown, default=str) if shown else None,
                "status": result.status,
                "error": error,
            }
        )
    return pl.DataFrame(rows, schema=TRACE_SCHEMA)


def write_trace(plan: Plan, result: RunResult, samples: Samples | None = None) -> Path | None:
    """Write the run's trace; a failure to write is logged, never raised."""
    path = plan.context.run_dir / TRACE_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        trace_frame(result, samples).write_parquet(path)
    except OSError:
        get_logger().warning("trace not written", path=str(path), exc_info=True)
        return None
    return path


def read_trace(home: str | Path, run_id: str) -> pl.DataFrame:
    """The trace of run ``run_id`` under ``home``.

    Raises:
        FileNotFoundError: there is no such run (or it wrote no trace).
    """
    frame = pl.read_parquet(Path(home) / "runs" / run_id / TRACE_FILE)
    missing = [n for n in TRACE_SCHEMA.names() if n not in frame.columns]  # an older trace
    return frame.with_columns(pl.lit(None, TRACE_SCHEMA[n]).alias(n) for n in missing)


def latest_trace(home: str | Path) -> pl.DataFrame | None:
    """The trace of the run under ``home`` that wrote one last (``None``: no run did)."""
    found = list((Path(home) / "runs").glob(f"*/{TRACE_FILE}"))
    if not found:
        return None
    newest = max(found, key=lambda p: p.stat().st_mtime_ns)
    return read_trace(home, newest.parent.name)


def trace_text(trace: pl.DataFrame) -> list[str]:
    """A trace as plain lines: per step its rows in and out, then its samples.

    Example:
        >>> from ocht.executor.result import StepStats
        >>> r = RunResult("r", "p", "failed", steps=[StepStats("f", "filter", 4, 3)])
        >>> trace_text(trace_frame(r))
        ['1 f [filter] 4 -> 3, dropped 1']
    """
    lines: list[str] = []
    for row in trace.iter_rows(named=True):
        counts = f"{row['position']} {row['step']} [{row['kind']}] {row['rows_in']:,} -> "
        counts += f"{row['rows_out']:,}"
        if row["dropped"]:
            counts += f", dropped {row['dropped']:,}"
        if row["dead_lettered"]:
            counts += f", dead letters {row['dead_lettered']:,}"
        lines.append(counts)
        lines.extend("  " + line for line in sample_lines(row))
    return lines


#: unchanged columns shown beside a change, for context
_CONTEXT_COLUMNS = 4


def sample_lines(
    row: Mapping[str, Any],
    *,
    mark: Callable[[str], str] = lambda text: f"*{text}*",
    quote: Callable[[str], str] = lambda text: text,
) -> list[str]:
    """Readable lines for the samples of one trace row (one step).

    Args:
        row: a row of :func:`read_trace` (``samples`` as JSON text).
        mark: highlights a changed column (default ``*col: before -> after*``).
        quote: escapes text taken from the data (for a markup language).

    Example:
        >>> row = {"dropped": 1, "dead_lettered": 0, "samples": json.dumps(
        ...     {"dropped": [{"a": 1}], "changed": [{"before": {"a": 1}, "after": {"a": 2},
        ...      "columns": ["a"]}]})}
        >>> sample_lines(row)
        ['dropped, e.g.:', '  {a: 1}', 'changed, e.g.:', '  *a: 1 -> 2*']
    """
    shown = json.loads(row["samples"]) if row.get("samples") else {}
    lines: list[str] = []
    if shown.get("dropped"):
        lines.append("dropped, e.g.:")
        lines.extend("  " + quote(_record(r)) for r in shown["dropped"])
    if shown.get("changed"):
        lines.append("changed, e.g.:")
        for change in shown["changed"]:
            before, after = change.get("before", {}), change.get("after", {})
            cols = change.get("columns", [])
            parts = [
                mark(
                    quote(
                        f"{c}: {_value(before[c]) if c in before else '(new)'} -> "
                        f"{_value(after[c])}"
                    )
                )
                for c in cols
                if c in after
            ]
            rest = [c for c in after if c not in cols]
            parts.extend(quote(f"{c}: {_value(after[c])}") for c in rest[:_CONTEXT_COLUMNS])
            if len(rest) > _CONTEXT_COLUMNS:
                parts.append("...")
            lines.append("  " + ", ".join(parts))
    if shown.get("dead_lettered"):
        lines.append("dead-lettered, e.g.:")
        for dead in shown["dead_lettered"]:
            why = dead.get("reason") or dead.get("code") or "?"
            check = f" [{dead['check']}]" if dead.get("check") else ""
            lines.append("  " + quote(f"{dead.get('record')}: {why}{check}"))
    return lines


def _value(value: Any) -> str:
    return "null" if value is None else repr(value) if isinstance(value, str) else str(value)


def _record(row: Mapping[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_value(v)}" for k, v in row.items()) + "}"
