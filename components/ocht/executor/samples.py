"""A few rows per step that explain a run: what each step dropped, changed, dead-lettered.

Sampling is bounded and rides the run's own query; it never reads an input a second time:

- the row counter in front of each *replayable* step (see
  :class:`~ocht.transform.CompiledStep`) also keeps slices of the first rows that reach
  it, at most ``scan_rows`` per step, and then only counts: no node is added to the plan;
- after the query (or after it failed), the step's own batch form is run again on each
  kept slice, a few thousand rows, and the rows it dropped (in the slice, absent from the
  step's output) and changed (a column whose value differs, or a new column) are picked;
- each dead-letter producer's first ``size`` records (with their reason) are kept by the
  counter they pass on their way to the dead-letter output.

Every kept value goes through the one redaction (:func:`ocht.observability.redact_value`)
before it is stored. ``size=0`` turns sampling off.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import polars as pl

from ocht.executor.plan import PlannedStep
from ocht.executor.result import CheckStats, json_ready
from ocht.observability import get_logger, redact_value


@dataclass(frozen=True)
class SampleOptions:
    """How many rows a trace keeps.

    Attributes:
        size: rows kept per step and kind (dropped, changed, dead-lettered); 0: none.
        scan_rows: input rows per step kept to find them (the rows replayed after the run).
    """

    size: int = 5
    scan_rows: int = 10_000


class Samples:
    """The samples of one run, gathered while its query runs (thread-safe)."""

    def __init__(self, options: SampleOptions | None = None) -> None:
        self.options = options or SampleOptions()
        self._lock = threading.Lock()
        self._slices: dict[str, list[pl.DataFrame]] = {}
        self._steps: dict[str, PlannedStep] = {}
        self._dead: dict[str, list[dict[str, Any]]] = {}

    @property
    def enabled(self) -> bool:
        """Whether anything is sampled."""
        return self.options.size > 0

    def watch_step(self, step: PlannedStep) -> None:
        """Sample what ``step`` does, if it is replayable (its input is then tapped)."""
        if self.enabled and step.compiled.replayable and len(step.reads) == 1:
            self._steps[step.id] = step
            self._slices[step.id] = []

    def tap(self, frame: str) -> Callable[[pl.DataFrame], None] | None:
        """What the counter of ``frame`` calls with each batch: keeps the first rows for
        every watched step reading ``frame`` (``None`` when no step needs them)."""
        readers = [s.id for s in self._steps.values() if s.reads[0] == frame]
        if not readers:
            return None
        limit = self.options.scan_rows
        kept = [0]

        def keep(df: pl.DataFrame) -> None:
            if kept[0] >= limit or df.height == 0:
                return
            with self._lock:
                room = limit - kept[0]
                if room > 0:
                    part = df.head(room)
                    kept[0] += part.height
                    for sid in readers:
                        self._slices[sid].append(part)

        return keep

    def dead_tap(self, producer: str) -> Callable[[pl.DataFrame], None] | None:
        """What the counter of a producer's normalized dead letters calls with each batch:
        keeps its first records."""
        if not self.enabled:
            return None
        self._dead[producer] = []
        size = self.options.size

        def keep(df: pl.DataFrame) -> None:
            if len(self._dead[producer]) >= size or df.height == 0:
                return
            picked = df.head(size).select("record", "reason", "code", "check").to_dicts()
            with self._lock:
                room = size - len(self._dead[producer])
                self._dead[producer].extend(redact_value(json_ready(picked[: max(room, 0)])))

        return keep

    def of_step(self, step: str, checks: list[CheckStats] | None = None) -> dict[str, Any]:
        """``{"dropped": [...], "changed": [...], "dead_lettered": [...]}`` for ``step``.

        ``checks`` adds the rows that the step's ``fix`` checks changed. Empty lists are
        left out; a step with nothing to show gives ``{}``.
        """
        size = self.options.size
        out: dict[str, list[Any]] = {}
        if step in self._steps:
            with self._lock:
                slices = list(self._slices[step])
            dropped, changed = _replay(self._steps[step], slices, size)
            out["dropped"], out["changed"] = dropped, changed
        for c in checks or []:
            if c.step == step:
                fixed = [_change(d.get("before", {}), d.get("after", {})) for d in c.changes]
                room = size - len(out.get("changed", []))
                out.setdefault("changed", []).extend(redact_value(fixed[: max(room, 0)]))
        with self._lock:
            out["dead_lettered"] = list(self._dead.get(step, []))
        return {k: v for k, v in out.items() if v}

    def of_producer(self, producer: str) -> list[dict[str, Any]]:
        """The dead letters kept for a producer that is not a step (``input:NAME``)."""
        with self._lock:
            return list(self._dead.get(producer, []))

    def producers(self) -> list[str]:
        """Every dead-letter producer watched."""
        return list(self._dead)


def _replay(
    step: PlannedStep, slices: list[pl.DataFrame], size: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Run ``step`` again on each kept slice; the rows it dropped and changed."""
    dropped: list[dict[str, Any]] = []
    changed: list[dict[str, Any]] = []
    for part in slices:
        if len(dropped) >= size and len(changed) >= size:
            break
        try:
            after = step.compiled.apply([part.lazy()]).collect()
        except Exception:  # a slice pruned of columns the replay wants: nothing to show
            get_logger().debug("trace replay skipped", step=step.id, exc_info=True)
            return dropped, changed
        if after.height == part.height:
            changed.extend(_changes(part, after, size - len(changed)))
        elif after.height < part.height:
            dropped.extend(_dropped(part, after, size - len(dropped)))
    return redact_value(dropped[:size]), redact_value(changed[:size])


def _changes(before: pl.DataFrame, after: pl.DataFrame, room: int) -> list[dict[str, Any]]:
    """Rows (same position in and out) where a column changed or appeared."""
    if room <= 0:
        return []
    mask = pl.Series([False] * before.height)
    for c in after.columns:
        if c not in before.columns or before.schema[c] != after.schema[c]:
            mask = pl.Series([True] * before.height)  # a new or converted column
            break
        try:
            mask = mask | before.get_column(c).ne_missing(after.get_column(c))
        except pl.exceptions.PolarsError:  # a type without equality
            continue
    idx = mask.arg_true().head(room)
    b_rows = before[idx].to_dicts()
    a_rows = after[idx].to_dicts()
    return [_change(json_ready(b), json_ready(a)) for b, a in zip(b_rows, a_rows, strict=True)]


def _change(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    # repr, not ==: a cast from 1 to 1.0 is a change
    cols = [c for c in after if c not in before or repr(before[c]) != repr(after[c])]
    return {"before": before, "after": after, "columns": cols}


def _dropped(before: pl.DataFrame, after: pl.DataFrame, room: int) -> list[dict[str, Any]]:
    """Rows of ``before`` that ``after`` lacks (as multisets, on the columns both have)."""
    if room <= 0:
        return []
    common = [c for c in after.columns if c in before.columns]
    if not common or set(common) != set(after.columns):
        return []  # the step also changed columns: rows cannot be matched
    left = Counter(repr(r) for r in after.select(common).iter_rows())
    out = []
    for key, row in zip(
        (repr(r) for r in before.select(common).iter_rows()),
        before.iter_rows(named=True),
        strict=True,
    ):
        if left[key] > 0:
            left[key] -= 1
            continue
        out.append(json_ready(row))
        if len(out) >= room:
            break
    return out
