"""Stateful stream operators: aggregate (windowed or running) and dedupe across micro-batches.

In batch mode a stateful step is one Polars query over all rows. In stream mode the
executor asks :func:`stream_operator` for an operator per stateful step and feeds it one
micro-batch at a time; the operator keeps **mergeable partial state** so that the rows it
emits over a whole (drained) stream equal the batch result:

- windowed aggregate: partial aggregates per (keys, window start); a window is emitted
  once the watermark (max event time seen - ``allowed_lateness``) passes its end, or when
  no record arrived for ``idle_timeout``, or when the stream is drained. Records whose
  every window is already emitted are late: dead letters or dropped (``late``).
- unwindowed aggregate: running totals per key, emitted as upserts (the updated groups of
  each batch; the last row per key is the batch result).
- dedupe: the keys seen (with when), forgotten after ``ttl``; ``keep: first`` only.

Partial state merges with sum, count, min and max (``avg`` is kept as sum and count);
an aggregate that cannot be merged (median, count distinct, ...) is refused for stream
mode when the plan is compiled. State is a set of Polars frames, serialised to Parquet
(:meth:`StreamOperator.snapshot`), so it is checkpointed with the source offsets.
"""

from __future__ import annotations

import io
import json
import re
import struct
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import polars as pl

from ocht.pipeline_model import Aggregate, Dedupe
from ocht.transform.errors import step_error
from ocht.transform.expressions import check_columns, compile_expr
from ocht.transform.kinds import BuildContext
from ocht.transform.windows import Duration, WindowPlan, plan_window

_AGG = re.compile(r"^\s*(sum|count|min|max|avg|mean)\s*\(\s*(.*?)\s*\)\s*$", re.IGNORECASE)
_MAGIC = b"OCHTST1"
NOT_STREAMABLE = "not-streamable"


@dataclass
class OperatorOutput:
    """What one micro-batch produced: rows to pass on, and records that came too late."""

    rows: pl.DataFrame
    late: pl.DataFrame | None = None


class StreamOperator(ABC):
    """A stateful step in stream mode. Subclasses keep their state as Polars frames."""

    def __init__(self, step_id: str) -> None:
        self.step_id = step_id

    @abstractmethod
    def process(self, batch: pl.DataFrame, *, now: float) -> OperatorOutput:
        """Fold one micro-batch into the state; return what is ready to emit."""

    def idle_due(self, *, now: float) -> bool:
        """Whether :meth:`on_idle` would emit something now."""
        return False

    def on_idle(self, *, now: float) -> pl.DataFrame | None:
        """Called when a poll brought no records; may emit (idle timeout)."""
        return None

    def flush(self) -> pl.DataFrame | None:
        """Emit everything still held (the stream was drained)."""
        return None

    @abstractmethod
    def frames(self) -> dict[str, pl.DataFrame]:
        """The state as named frames."""

    @abstractmethod
    def load_frames(self, frames: dict[str, pl.DataFrame]) -> None:
        """Replace the state with frames from :meth:`frames`."""

    def snapshot(self) -> bytes:
        """The state, serialised (Parquet per frame in a small container)."""
        return pack(self.frames())

    def restore(self, data: bytes) -> None:
        """Load state saved by :meth:`snapshot`."""
        self.load_frames(unpack(data))

    def state_rows(self) -> int:
        """Rows held in state."""
        return sum(f.height for f in self.frames().values())

    def state_bytes(self) -> int:
        """Approximate bytes held in state (in memory)."""
        return int(sum(f.estimated_size() for f in self.frames().values()))


def pack(frames: dict[str, pl.DataFrame]) -> bytes:
    """Frames as bytes: a JSON index followed by one Parquet file per frame."""
    body = io.BytesIO()
    index: dict[str, list[int]] = {}
    for name, frame in frames.items():
        start = body.tell()
        frame.write_parquet(body, compression="zstd")
        index[name] = [start, body.tell() - start]
    head = json.dumps(index).encode()
    return _MAGIC + struct.pack(">I", len(head)) + head + body.getvalue()


def unpack(data: bytes) -> dict[str, pl.DataFrame]:
    """The frames of :func:`pack`."""
    if not data.startswith(_MAGIC):
        raise ValueError("not an Ocht state snapshot")
    n = struct.unpack(">I", data[len(_MAGIC) : len(_MAGIC) + 4])[0]
    start = len(_MAGIC) + 4
    index = json.loads(data[start : start + n])
    body = data[start + n :]
    return {
        name: pl.read_parquet(io.BytesIO(body[o : o + length]))
        for name, (o, length) in index.items()
    }


# -- partial aggregates ------------------------------------------------------------------
@dataclass(frozen=True)
class _Agg:
    name: str
    func: str  # sum, count, min, max, avg
    value: pl.Expr | None  # None for count(*)

    def partial(self, i: int) -> list[pl.Expr]:
        v = self.value
        if self.func == "count":
            return [(pl.len() if v is None else v.count()).cast(pl.Int64).alias(f"__p{i}_n")]
        assert v is not None
        if self.func == "sum":  # SQL: the sum of no values is NULL, so count them too
            return [v.sum().alias(f"__p{i}_s"), v.count().cast(pl.Int64).alias(f"__p{i}_n")]
        if self.func == "min":
            return [v.min().alias(f"__p{i}_m")]
        if self.func == "max":
            return [v.max().alias(f"__p{i}_m")]
        return [
            v.sum().cast(pl.Float64).alias(f"__p{i}_s"),
            v.count().cast(pl.Int64).alias(f"__p{i}_n"),
        ]

    def merge(self, i: int) -> list[pl.Expr]:
        if self.func in ("count",):
            return [pl.col(f"__p{i}_n").sum()]
        if self.func == "min":
            return [pl.col(f"__p{i}_m").min()]
        if self.func == "max":
            return [pl.col(f"__p{i}_m").max()]
        return [pl.col(f"__p{i}_s").sum(), pl.col(f"__p{i}_n").sum()]

    def final(self, i: int) -> pl.Expr:
        if self.func == "count":
            return pl.col(f"__p{i}_n").alias(self.name)
        if self.func in ("min", "max"):
            return pl.col(f"__p{i}_m").alias(self.name)
        n, total = pl.col(f"__p{i}_n"), pl.col(f"__p{i}_s")
        value = total if self.func == "sum" else total / n
        return pl.when(n > 0).then(value).otherwise(None).alias(self.name)


def _parse_aggs(spec: Aggregate, schema: pl.Schema, step: str, path: str) -> list[_Agg]:
    out = []
    for name, text in spec.aggs.items():
        m = _AGG.match(text)
        inner = m.group(2) if m else ""
        if m is None or inner.lower().startswith("distinct ") or not inner:
            raise step_error(
                NOT_STREAMABLE,
                f"aggregate `{text}` cannot be merged across micro-batches",
                step=step,
                path=f"{path}.aggs.{name}",
                hint="in stream mode use sum(x), count(x), count(*), min(x), max(x) or avg(x) "
                "(compute ratios in a derive step after the aggregate)",
            )
        func = m.group(1).lower()
        func = "avg" if func == "mean" else func
        value = (
            None
            if inner == "*"
            else compile_expr(inner, schema, step=step, path=f"{path}.aggs.{name}")
        )
        if value is None and func != "count":
            raise step_error(
                NOT_STREAMABLE, f"`{text}` needs a column", step=step, path=f"{path}.aggs.{name}"
            )
        out.append(_Agg(name, func, value))
    return out


class _Partials:
    """Partial aggregates keyed by group columns, mergeable batch after batch."""

    def __init__(self, keys: list[str], aggs: list[_Agg]) -> None:
        self.keys = keys
        self.aggs = aggs
        self.state: pl.DataFrame | None = None

    def of(self, frame: pl.LazyFrame) -> pl.DataFrame:
        exprs = [e for i, a in enumerate(self.aggs) for e in a.partial(i)]
        if not self.keys:
            return frame.select(exprs).collect()
        return frame.group_by(self.keys).agg(exprs).collect()

    def merge(self, new: pl.DataFrame) -> None:
        if self.state is None or self.state.height == 0:
            self.state = new
            return
        both = pl.concat([self.state, new], how="vertical_relaxed")
        exprs = [e for i, a in enumerate(self.aggs) for e in a.merge(i)]
        self.state = (
            both.select(exprs)
            if not self.keys
            else both.group_by(self.keys, maintain_order=True).agg(exprs)
        )

    def finals(self, rows: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        return rows.with_columns([a.final(i) for i, a in enumerate(self.aggs)]).select(columns)


def _cast_to(frame: pl.DataFrame, schema: pl.Schema | None) -> pl.DataFrame:
    if schema is None:
        return frame
    casts = [
        pl.col(c).cast(schema[c], strict=False)
        for c in frame.columns
        if c in schema and frame.schema[c] != schema[c]
    ]
    return frame.with_columns(casts) if casts else frame


class RunningAggregate(StreamOperator):
    """Unwindowed aggregate: running totals per key, emitted as upserts."""

    def __init__(
        self, step_id: str, keys: list[str], aggs: list[_Agg], output: pl.Schema | None
    ) -> None:
        super().__init__(step_id)
        self.partials = _Partials(keys, aggs)
        self.columns = [*keys, *(a.name for a in aggs)]
        self.output = output

    def process(self, batch: pl.DataFrame, *, now: float) -> OperatorOutput:
        if batch.height == 0:
            return OperatorOutput(self._empty())
        new = self.partials.of(batch.lazy())
        self.partials.merge(new)
        state = self.partials.state
        assert state is not None
        touched = (
            state
            if not self.partials.keys
            else state.join(
                new.select(self.partials.keys), on=self.partials.keys, how="semi", nulls_equal=True
            )
        )
        return OperatorOutput(_cast_to(self.partials.finals(touched, self.columns), self.output))

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.output) if self.output is not None else pl.DataFrame()

    def frames(self) -> dict[str, pl.DataFrame]:
        return {"partials": self.partials.state} if self.partials.state is not None else {}

    def load_frames(self, frames: dict[str, pl.DataFrame]) -> None:
        self.partials.state = frames.get("partials")


class WindowedAggregate(StreamOperator):
    """Event-time windows with a watermark; see the module docstring."""

    def __init__(
        self,
        step_id: str,
        keys: list[str],
        aggs: list[_Agg],
        plan: WindowPlan,
        *,
        lateness: Duration | None,
        idle_timeout_s: float | None,
        late: str,
        output: pl.Schema | None,
    ) -> None:
        super().__init__(step_id)
        self.plan = plan
        self.keys = keys
        self.partials = _Partials([*keys, plan.start], aggs)
        self.columns = [*keys, plan.start, plan.end, *(a.name for a in aggs)]
        self.lateness = lateness
        self.idle_timeout_s = idle_timeout_s
        self.late = late
        self.output = output
        self.max_event: Any = None  # the largest event time seen (the watermark's base)
        self.last_data: float | None = None

    def watermark(self) -> Any:
        """Max event time seen minus the allowed lateness (``None`` before any record)."""
        if self.max_event is None:
            return None
        mark = pl.select(pl.lit(self.max_event))
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

    def process(self, batch: pl.DataFrame, *, now: float) -> OperatorOutput:
        col = self.plan.column
        batch = batch.filter(pl.col(col).is_not_null())
        if batch.height == 0:
            return OperatorOutput(self._empty())
        self.last_data = now
        mark = self.watermark()
        late = None
        if mark is not None:
            is_late = self._last_end() <= pl.lit(mark)
            late = batch.filter(is_late)
            batch = batch.filter(~is_late)
        if batch.height:
            assigned = self.plan.assign(batch.lazy())
            if mark is not None:  # windows already emitted take no more rows
                assigned = assigned.filter(
                    pl.col(self.plan.start).dt.offset_by(self.plan.period.times(1)) > pl.lit(mark)
                )
            self.partials.merge(self.partials.of(assigned))
            top = batch.select(pl.col(col).max()).item()
            if self.max_event is None or top > self.max_event:
                self.max_event = top
        keep_late = (
            late if late is not None and late.height and self.late == "dead_letter" else None
        )
        return OperatorOutput(self._emit(self.watermark()), keep_late)

    def _emit(self, mark: Any, *, everything: bool = False) -> pl.DataFrame:
        state = self.partials.state
        if state is None or state.height == 0 or (mark is None and not everything):
            return self._empty()
        with_end = state.with_columns(self.plan.end_expr())
        done = pl.lit(True) if everything else pl.col(self.plan.end) <= pl.lit(mark)
        ready = with_end.filter(done)
        self.partials.state = with_end.filter(~done).drop(self.plan.end)
        return _cast_to(self.partials.finals(ready, self.columns), self.output)

    def idle_due(self, *, now: float) -> bool:
        state = self.partials.state
        return (
            self.idle_timeout_s is not None
            and self.last_data is not None
            and now - self.last_data >= self.idle_timeout_s
            and state is not None
            and state.height > 0
        )

    def on_idle(self, *, now: float) -> pl.DataFrame | None:
        if (
            self.idle_timeout_s is None
            or self.last_data is None
            or now - self.last_data < self.idle_timeout_s
        ):
            return None
        out = self._emit(None, everything=True)
        return out if out.height else None

    def flush(self) -> pl.DataFrame | None:
        out = self._emit(None, everything=True)
        return out if out.height else None

    def _empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=self.output) if self.output is not None else pl.DataFrame()

    def frames(self) -> dict[str, pl.DataFrame]:
        out = {"marks": pl.DataFrame({"max_event": [self.max_event]})}
        if self.partials.state is not None:
            out["partials"] = self.partials.state
        return out

    def load_frames(self, frames: dict[str, pl.DataFrame]) -> None:
        self.partials.state = frames.get("partials")
        marks = frames.get("marks")
        self.max_event = marks.item(0, 0) if marks is not None and marks.height else None


class StreamDedupe(StreamOperator):
    """First row per key across batches; a key is forgotten ``ttl`` seconds after it was
    first seen (processing time)."""

    def __init__(self, step_id: str, keys: list[str], ttl_s: float | None) -> None:
        super().__init__(step_id)
        self.keys = keys
        self.ttl_s = ttl_s
        self.seen: pl.DataFrame | None = None

    def process(self, batch: pl.DataFrame, *, now: float) -> OperatorOutput:
        if self.seen is not None and self.ttl_s is not None:
            self.seen = self.seen.filter(pl.col("__seen_at") > now - self.ttl_s)
        first = batch.unique(self.keys, keep="first", maintain_order=True)
        if self.seen is not None and self.seen.height:
            first = first.join(
                self.seen.drop("__seen_at"), on=self.keys, how="anti", nulls_equal=True
            )
        new_keys = first.select(self.keys).with_columns(pl.lit(now).alias("__seen_at"))
        self.seen = (
            new_keys
            if self.seen is None
            else pl.concat([self.seen, new_keys], how="vertical_relaxed")
        )
        return OperatorOutput(first)

    def frames(self) -> dict[str, pl.DataFrame]:
        return {"seen": self.seen} if self.seen is not None else {}

    def load_frames(self, frames: dict[str, pl.DataFrame]) -> None:
        self.seen = frames.get("seen")


def _seconds(d: Duration, step: str, path: str) -> float:
    low, high = d.bounds_ns()
    if low != high:
        raise step_error(
            NOT_STREAMABLE, "use a fixed duration (s, m, h, d, w) here", step=step, path=path
        )
    return high / 1e9


def stream_operator(
    spec: Any, schema: pl.Schema, *, step_id: str, path: str, output: pl.Schema | None = None
) -> StreamOperator | None:
    """The stream operator for a stateful step, or ``None`` for a stateless one.

    Args:
        spec: the step's spec.
        schema: its input's schema.
        step_id: the step id (messages, state keys).
        path: the step's field path (``steps[2]``).
        output: the schema batch mode gives the step's output (emitted rows are cast to
            it so later steps see the same types in both modes).

    Raises:
        InvalidPipeline: ``not-streamable`` for options that cannot run on a stream.

    Example:
        >>> import polars as pl
        >>> from ocht.pipeline_model import Aggregate
        >>> op = stream_operator(Aggregate(kind="aggregate", by=["k"], aggs={"n": "count(*)"}),
        ...                      pl.Schema({"k": pl.String}), step_id="a", path="steps[0]")
        >>> op.process(pl.DataFrame({"k": ["x", "x"]}), now=0).rows.to_dicts()
        [{'k': 'x', 'n': 2}]
    """
    if isinstance(spec, Aggregate):
        for i, name in enumerate(spec.by):
            check_columns([name], schema, step=step_id, path=f"{path}.by[{i}]")
        aggs = _parse_aggs(spec, schema, step_id, path)
        if spec.window is None:
            return RunningAggregate(step_id, list(spec.by), aggs, output)
        ctx = BuildContext(step_id, path, (schema,), "stream")
        plan = plan_window(spec.window, ctx, f"{path}.window")
        w = spec.window
        lateness = Duration.parse(w.allowed_lateness)
        idle = Duration.parse(w.idle_timeout) if w.idle_timeout else None
        return WindowedAggregate(
            step_id,
            list(spec.by),
            aggs,
            plan,
            lateness=lateness,
            idle_timeout_s=_seconds(idle, step_id, f"{path}.window.idle_timeout") if idle else None,
            late=w.late,
            output=output,
        )
    if isinstance(spec, Dedupe):
        if spec.keep != "first" or spec.order_by:
            raise step_error(
                NOT_STREAMABLE,
                "dedupe with `keep: last` or `order_by` needs all rows at once",
                step=step_id,
                path=f"{path}.keep",
                hint="in stream mode use `keep: first` (the first record per key wins)",
            )
        keys = list(spec.keys) if spec.keys else list(schema.names())
        check_columns(keys, schema, step=step_id, path=f"{path}.keys")
        ttl = None
        if spec.ttl is not None:
            d = Duration.parse(spec.ttl)
            if d is None:
                raise step_error(
                    "invalid-value",
                    f"'{spec.ttl}' is not a duration",
                    step=step_id,
                    path=f"{path}.ttl",
                    hint="e.g. 30m, 1h, 1d",
                )
            ttl = _seconds(d, step_id, f"{path}.ttl")
        return StreamDedupe(step_id, keys, ttl)
    return None
