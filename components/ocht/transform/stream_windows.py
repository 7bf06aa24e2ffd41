"""The windowed aggregate on a stream: event time per partition, one watermark.

Each source partition keeps its own partial aggregates per (keys, window start), the
largest event time it has sent, and the watermark through which windows were emitted
while it was held. The watermark is the **minimum** over the held partitions of their
largest event time, minus ``allowed_lateness`` (Flink, Kafka Streams), so a backlog read
in any interleaving of partitions closes no window early. A partition holds it back
unless it is at its end and either sent nothing yet or sent nothing for
``idle_timeout`` (Flink's idleness; a partition with records still to read is never
idle). When every partition with data is idle, every open window is emitted.

A window is emitted once the watermark passes its end: its partials are merged across
the partitions and finished. A record is late when its (last) window was already
emitted while its partition was held: it goes to dead letters or is dropped (``late``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ocht.transform.partials import Partials
from ocht.transform.stream_state import OperatorOutput, StreamOperator, concat
from ocht.transform.windows import Duration, WindowPlan


class WindowedAggregate(StreamOperator):
    """Event-time windows with a per-partition watermark (see the module docstring)."""

    def __init__(
        self,
        step_id: str,
        partials: Partials,
        plan: WindowPlan,
        *,
        ts_dtype: pl.DataType,
        lateness: Duration | None,
        idle_timeout_s: float | None,
        late: str,
        output: pl.Schema | None,
    ) -> None:
        super().__init__(step_id)
        self.plan = plan
        self.agg = partials
        self.columns = [
            *partials.keys,
            plan.start,
            plan.end,
            *(o.meta.output_name() for o in partials.outputs),
        ]
        self.ts_dtype = ts_dtype
        self.lateness = lateness
        self.idle_timeout_s = idle_timeout_s
        self.late = late
        self.output = output
        self.partials: dict[str, pl.DataFrame] = {}
        self.max_event: dict[str, Any] = {}
        self.emitted: dict[str, Any] = {}
        self.last_data: dict[str, float] = {}

    # -- time --------------------------------------------------------------------------
    def _idle(self, part: str, now: float) -> bool:
        at_end = self.at_end is None or part in self.at_end
        if not at_end:
            return False
        if self.max_event.get(part) is None:
            return True  # caught up and never sent anything: nothing to wait for
        return (
            self.idle_timeout_s is not None
            and now - self.last_data.get(part, now) >= self.idle_timeout_s
        )

    def watermark(self, now: float | None = None) -> Any:
        """Min over the partitions that hold it back of their max event time, minus the
        allowed lateness (``None`` while one of them sent nothing yet)."""
        tops = []
        for part in self.held | set(self.max_event):
            top = self.max_event.get(part)
            if now is not None and self._idle(part, now):
                continue
            if top is None:
                if self.at_end is None or part in self.at_end:
                    continue
                return None
            tops.append(top)
        if not tops:
            return None
        mark = pl.select(pl.lit(min(tops), dtype=self.ts_dtype))
        if self.lateness is not None:
            return mark.select(pl.first().dt.offset_by(self.lateness.times(-1))).item()
        return mark.item()

    def _last_end(self) -> pl.Expr:
        # the end of the latest window a row falls in: when it is closed, the row is late
        p = self.plan
        ts = pl.col(p.column)
        shifted = ts if p.offset is None else ts.dt.offset_by(p.offset.times(-1))
        last = shifted.dt.truncate(p.every.times(1))
        if p.offset is not None:
            last = last.dt.offset_by(p.offset.times(1))
        return last.dt.offset_by(p.period.times(1))

    # -- records -----------------------------------------------------------------------
    def process(self, batch: pl.DataFrame, *, now: float, part: str = "") -> OperatorOutput:
        col = self.plan.column
        batch = batch.filter(pl.col(col).is_not_null())
        self.held.add(part)
        if batch.height == 0:
            return OperatorOutput(self._emit(self.watermark(now)))
        self.last_data[part] = now
        done = self.emitted.get(part)
        late = None
        if done is not None:
            is_late = self._last_end() <= pl.lit(done, dtype=self.ts_dtype)
            late = batch.filter(is_late)
            batch = batch.filter(~is_late)
        if batch.height:
            assigned = self.plan.assign(batch.lazy())
            if done is not None:  # windows already emitted take no more rows
                assigned = assigned.filter(
                    pl.col(self.plan.start).dt.offset_by(self.plan.period.times(1))
                    > pl.lit(done, dtype=self.ts_dtype)
                )
            new = self.agg.of(assigned, [self.plan.start])
            old = self.partials.get(part)
            self.partials[part] = (
                new
                if old is None or old.height == 0
                else self.agg.merge([old, new], [self.plan.start])
            )
            top = batch.select(pl.col(col).max()).item()
            prev = self.max_event.get(part)
            if prev is None or top > prev:
                self.max_event[part] = top
        keep_late = (
            late if late is not None and late.height and self.late == "dead_letter" else None
        )
        return OperatorOutput(self._emit(self.watermark(now)), keep_late)

    def _emit(self, mark: Any, *, everything: bool = False) -> pl.DataFrame:
        if mark is None and not everything:
            return self._empty()
        ready: list[pl.DataFrame] = []
        for part, state in list(self.partials.items()):
            if state.height == 0:
                continue
            with_end = state.with_columns(self.plan.end_expr())
            done = pl.lit(True) if everything else pl.col(self.plan.end) <= pl.lit(mark)
            ready.append(with_end.filter(done).drop(self.plan.end))
            self.partials[part] = with_end.filter(~done).drop(self.plan.end)
        if not everything:
            for part in self.held | set(self.max_event):
                prev = self.emitted.get(part)
                self.emitted[part] = mark if prev is None or mark > prev else prev
        rows = concat(r for r in ready if r.height)
        if rows is None:
            return self._empty()
        merged = self.agg.merge([rows], [self.plan.start]).with_columns(self.plan.end_expr())
        return _cast_to(self.agg.finals(merged, self.columns), self.output)

    def idle_due(self, *, now: float) -> bool:
        return (
            self.idle_timeout_s is not None
            and any(s.height for s in self.partials.values())
            and any(self._idle(p, now) for p in self.partials)
        )

    def on_idle(self, *, now: float) -> pl.DataFrame | None:
        if not self.idle_due(now=now):
            return None
        with_data = [p for p, s in self.partials.items() if s.height]
        if all(self._idle(p, now) for p in with_data):
            out = self._emit(None, everything=True)  # nothing is coming: close them all
        else:
            out = self._emit(self.watermark(now))
        return out if out.height else None

    def flush(self) -> pl.DataFrame | None:
        out = self._emit(None, everything=True)
        return out if out.height else None

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.output) if self.output is not None else pl.DataFrame()

    # -- state -------------------------------------------------------------------------
    def parts(self) -> set[str]:
        return set(self.partials) | set(self.max_event)

    def part_frames(self, part: str) -> dict[str, pl.DataFrame]:
        marks = pl.DataFrame(
            {"max_event": [self.max_event.get(part)], "emitted": [self.emitted.get(part)]},
            schema={"max_event": self.ts_dtype, "emitted": self.ts_dtype},
        )
        out = {"marks": marks}
        if part in self.partials:
            out["partials"] = self.partials[part]
        return out

    def load_part(self, part: str, frames: dict[str, pl.DataFrame]) -> None:
        self.drop_part(part)
        if "partials" in frames:
            self.partials[part] = frames["partials"]
        marks = frames.get("marks")
        if marks is not None and marks.height:
            if marks["max_event"][0] is not None:
                self.max_event[part] = marks["max_event"][0]
            if "emitted" in marks.columns and marks["emitted"][0] is not None:
                self.emitted[part] = marks["emitted"][0]

    def drop_part(self, part: str) -> None:
        for held in (self.partials, self.max_event, self.emitted, self.last_data):
            held.pop(part, None)


def _cast_to(frame: pl.DataFrame, schema: pl.Schema | None) -> pl.DataFrame:
    """Rows cast to the schema batch mode gives the step (same types in both modes)."""
    if schema is None:
        return frame
    casts = [
        pl.col(c).cast(schema[c], strict=False)
        for c in frame.columns
        if c in schema and frame.schema[c] != schema[c]
    ]
    return frame.with_columns(casts) if casts else frame
