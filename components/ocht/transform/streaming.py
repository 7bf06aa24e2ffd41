"""Stateful stream operators: aggregate (windowed or running) and dedupe across micro-batches.

In batch mode a stateful step is one Polars query over all rows. In stream mode its step
kind also builds a factory of :class:`~ocht.transform.StreamOperator` from the same
compiled expressions (``CompiledStep.operator``); the executor feeds each operator one
micro-batch per source partition. Operators keep **mergeable partial state per
partition** so that the rows they emit over a whole (drained) stream equal the batch
result, however the records were spread over partitions and micro-batches:

- windowed aggregate: see :mod:`ocht.transform.stream_windows` (event time per
  partition, the watermark is the minimum over partitions).
- unwindowed aggregate: running totals per key and partition, emitted as upserts (the
  updated groups of each batch, merged across partitions; the last row per key is the
  batch result).
- dedupe: the keys seen per partition (with when), forgotten after ``ttl``;
  ``keep: first`` only.

An aggregate that cannot be merged (median, count distinct, ...) is refused for stream
mode when the plan is compiled (``not-streamable``).
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from ocht.pipeline_model import Aggregate, Dedupe
from ocht.transform.errors import step_error
from ocht.transform.kinds import BuildContext
from ocht.transform.partials import Partials
from ocht.transform.stream_state import (
    NOT_STREAMABLE,
    OperatorOutput,
    StreamOperator,
    concat,
)
from ocht.transform.stream_windows import WindowedAggregate, _cast_to
from ocht.transform.windows import Duration, WindowPlan

__all__ = [
    "NOT_STREAMABLE",
    "RunningAggregate",
    "StreamDedupe",
    "aggregate_operator",
    "dedupe_operator",
]


class RunningAggregate(StreamOperator):
    """Unwindowed aggregate: running totals per key and partition, emitted as upserts."""

    def __init__(self, step_id: str, partials: Partials, output: pl.Schema | None) -> None:
        super().__init__(step_id)
        self.agg = partials
        self.columns = [*partials.keys, *(o.meta.output_name() for o in partials.outputs)]
        self.output = output
        self.partials: dict[str, pl.DataFrame] = {}

    def process(self, batch: pl.DataFrame, *, now: float, part: str = "") -> OperatorOutput:
        self.held.add(part)
        if batch.height == 0:
            return OperatorOutput(self._empty())
        new = self.agg.of(batch.lazy())
        old = self.partials.get(part)
        self.partials[part] = new if old is None else self.agg.merge([old, new])
        keys = self.agg.keys
        states = list(self.partials.values())
        if keys:  # only the groups this batch touched, merged over every partition
            touched = new.select(keys)
            states = [s.join(touched, on=keys, how="semi", nulls_equal=True) for s in states]
        merged = self.agg.merge(states)
        return OperatorOutput(_cast_to(self.agg.finals(merged, self.columns), self.output))

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.output) if self.output is not None else pl.DataFrame()

    def parts(self) -> set[str]:
        return set(self.partials)

    def part_frames(self, part: str) -> dict[str, pl.DataFrame]:
        return {"partials": self.partials[part]} if part in self.partials else {}

    def load_part(self, part: str, frames: dict[str, pl.DataFrame]) -> None:
        self.drop_part(part)
        if "partials" in frames:
            self.partials[part] = frames["partials"]

    def drop_part(self, part: str) -> None:
        self.partials.pop(part, None)


class StreamDedupe(StreamOperator):
    """First row per key across batches and partitions; a key is forgotten ``ttl``
    seconds after it was first seen (processing time)."""

    def __init__(self, step_id: str, keys: list[str], ttl_s: float | None) -> None:
        super().__init__(step_id)
        self.keys = keys
        self.ttl_s = ttl_s
        self.seen: dict[str, pl.DataFrame] = {}

    def process(self, batch: pl.DataFrame, *, now: float, part: str = "") -> OperatorOutput:
        self.held.add(part)
        if self.ttl_s is not None:
            for p, seen in self.seen.items():
                self.seen[p] = seen.filter(pl.col("__seen_at") > now - self.ttl_s)
        first = batch.unique(self.keys, keep="first", maintain_order=True)
        seen_all = concat(self.seen.values())
        if seen_all is not None and seen_all.height:
            first = first.join(
                seen_all.drop("__seen_at"), on=self.keys, how="anti", nulls_equal=True
            )
        new_keys = first.select(self.keys).with_columns(pl.lit(now).alias("__seen_at"))
        old = self.seen.get(part)
        self.seen[part] = (
            new_keys if old is None else pl.concat([old, new_keys], how="vertical_relaxed")
        )
        return OperatorOutput(first)

    def parts(self) -> set[str]:
        return set(self.seen)

    def part_frames(self, part: str) -> dict[str, pl.DataFrame]:
        return {"seen": self.seen[part]} if part in self.seen else {}

    def load_part(self, part: str, frames: dict[str, pl.DataFrame]) -> None:
        self.drop_part(part)
        if "seen" in frames:
            self.seen[part] = frames["seen"]

    def drop_part(self, part: str) -> None:
        self.seen.pop(part, None)


def _seconds(d: Duration, step: str, path: str) -> float:
    low, high = d.bounds_ns()
    if low != high:
        raise step_error(
            NOT_STREAMABLE, "use a fixed duration (s, m, h, d, w) here", step=step, path=path
        )
    return high / 1e9


def aggregate_operator(
    spec: Aggregate,
    ctx: BuildContext,
    aggs: list[tuple[str, pl.Expr]],
    window: WindowPlan | None,
    output: pl.Schema,
) -> Callable[[], StreamOperator]:
    """The stream operator factory of an aggregate step, from its compiled ``aggs``.

    Raises:
        InvalidPipeline: ``not-streamable`` for aggregates that cannot be merged, or a
            calendar ``idle_timeout``.
    """
    partials = Partials(list(spec.by), aggs, step=ctx.step_id, path=ctx.path)
    if window is None or spec.window is None:
        return lambda: RunningAggregate(ctx.step_id, partials, output)
    w = spec.window
    plan = window
    lateness = Duration.parse(w.allowed_lateness)
    idle = Duration.parse(w.idle_timeout) if w.idle_timeout else None
    idle_s = _seconds(idle, ctx.step_id, f"{ctx.path}.window.idle_timeout") if idle else None
    ts_dtype = ctx.schema[plan.column]
    return lambda: WindowedAggregate(
        ctx.step_id,
        partials,
        plan,
        ts_dtype=ts_dtype,
        lateness=lateness,
        idle_timeout_s=idle_s,
        late=w.late,
        output=output,
    )


def dedupe_operator(
    spec: Dedupe, ctx: BuildContext, keys: list[str]
) -> Callable[[], StreamOperator]:
    """The stream operator factory of a dedupe step.

    Raises:
        InvalidPipeline: ``not-streamable`` for ``keep: last`` or ``order_by``;
            ``invalid-value`` for a ``ttl`` that is not a duration.
    """
    if spec.keep != "first" or spec.order_by:
        raise step_error(
            NOT_STREAMABLE,
            "dedupe with `keep: last` or `order_by` needs all rows at once",
            step=ctx.step_id,
            path=f"{ctx.path}.keep",
            hint="in stream mode use `keep: first` (the first record per key wins)",
        )
    ttl = None
    if spec.ttl is not None:
        d = Duration.parse(spec.ttl)
        if d is None:
            raise step_error(
                "invalid-value",
                f"'{spec.ttl}' is not a duration",
                step=ctx.step_id,
                path=f"{ctx.path}.ttl",
                hint="e.g. 30m, 1h, 1d",
            )
        ttl = _seconds(d, ctx.step_id, f"{ctx.path}.ttl")
    return lambda: StreamDedupe(ctx.step_id, keys, ttl)
