"""The ``anomaly`` step: per-key running statistics and the rows that lie beyond them.

Methods (each row is scored against the statistics of its key's earlier rows):

- ``zscore``: an exponentially weighted mean and variance (``half_life`` in rows);
  ``score`` = (value - mean) / std, ``threshold`` = mean + k·std.
- ``robust``: the median and MAD of the last ``window`` values; ``score`` = (value -
  median) / (1.4826·MAD), ``threshold`` = median + k·1.4826·MAD.
- ``quantile``: the ``quantile`` of the last ``window`` values is the ``threshold``;
  ``score`` = value - threshold.

``is_anomaly`` is true once a key has ``min_history`` values and the value lies more than
``k`` spreads from the centre (either side), or above the quantile. Rows are ordered by
``time``, then by their order in the input; a null value is scored null and not learnt.

:class:`AnomalyState` holds the statistics and scores one frame after another, so the
result does not depend on how the rows were cut into batches: the batch step runs it once
over every row, the stream operator once per micro-batch, with the state checkpointed
(:meth:`AnomalyState.snapshot`) together with the source offsets.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from ocht.pipeline_model import Anomaly
from ocht.transform import (
    BuildContext,
    CompiledStep,
    OperatorOutput,
    StreamOperator,
    check_columns,
    step_error,
)

_K = "__ocht_key"
_ORD = "__ocht_ord"
_X = "__ocht_x"
_POS = "__ocht_pos"
_N = "__ocht_n"
_MEAN = "__ocht_mean"
_VAR = "__ocht_var"
_PSEUDO = "__ocht_pseudo"
MAD_SCALE = 1.4826


@dataclass(frozen=True)
class AnomalyConfig:
    """A compiled ``anomaly`` spec: columns, method and output names."""

    value: str
    by: tuple[str, ...]
    time: str | None
    method: str
    alpha: float
    window: int
    quantile: float
    k: float
    min_history: int
    score: str
    threshold: str
    flag: str
    schema: pl.Schema

    @classmethod
    def of(cls, spec: Anomaly, schema: pl.Schema) -> AnomalyConfig:
        """The config of ``spec`` over input ``schema``."""
        o = spec.outputs
        out = {n: t for n, t in schema.items() if n not in (o.score, o.threshold, o.is_anomaly)}
        out.update({o.score: pl.Float64(), o.threshold: pl.Float64(), o.is_anomaly: pl.Boolean()})
        return cls(
            value=spec.value,
            by=tuple(spec.by),
            time=spec.time,
            method=spec.method,
            alpha=1.0 - math.exp(math.log(0.5) / spec.half_life),
            window=spec.window,
            quantile=spec.quantile,
            k=spec.k,
            min_history=spec.min_history,
            score=o.score,
            threshold=o.threshold,
            flag=o.is_anomaly,
            schema=pl.Schema(out),
        )

    @property
    def keys(self) -> list[str]:
        """The key columns (one constant key when ``by`` is empty)."""
        return list(self.by) or [_K]


class AnomalyState:
    """Running statistics per key; :meth:`update` scores a frame and learns from it.

    Example:
        >>> spec = Anomaly(kind="anomaly", value="v", min_history=3, k=3)
        >>> state = AnomalyState(AnomalyConfig.of(spec, pl.Schema({"v": pl.Float64})))
        >>> out = state.update(pl.DataFrame({"v": [1.0, 1.1, 0.9, 1.0, 9.0]}))
        >>> out["is_anomaly"].to_list()
        [False, False, False, False, True]
    """

    def __init__(self, config: AnomalyConfig) -> None:
        self.config = config
        self.stats: pl.DataFrame | None = None  # zscore: keys, mean, var, n
        self.counts: pl.DataFrame | None = None  # robust/quantile: keys, n
        self.history: pl.DataFrame | None = None  # robust/quantile: keys, pos, x (last N)
        self._learn = True

    # -- scoring -----------------------------------------------------------------------
    def update(self, batch: pl.DataFrame, *, learn: bool = True) -> pl.DataFrame:
        """Score ``batch`` against the statistics so far, then fold it into them.

        With ``learn=False`` the statistics are left as they were (a batch run scores all
        rows in one call and needs no state afterwards).
        """
        c = self.config
        self._learn = learn
        frame = batch
        if c.time is not None:  # a stable sort: equal times keep their source order
            frame = frame.sort(c.time, nulls_last=True, maintain_order=True)
        frame = frame.with_row_index(_ORD)  # the order rows are scored in
        if not c.by:
            frame = frame.with_columns(pl.lit(0, pl.Int8).alias(_K))
        frame = frame.with_columns(pl.col(c.value).cast(pl.Float64).alias(_X))
        valid = frame.filter(pl.col(_X).is_not_null() & pl.col(_X).is_not_nan())
        if valid.height:
            scored = self._zscore(valid) if c.method == "zscore" else self._windowed(valid)
            scored = scored.sort(_ORD)
            if valid.height == frame.height:  # the usual case: no nulls, no join needed
                frame = frame.with_columns(scored.drop(_ORD))
            else:
                frame = frame.join(scored, on=_ORD, how="left", maintain_order="left")
        else:
            frame = frame.with_columns(
                pl.lit(None, pl.Float64).alias(c.score),
                pl.lit(None, pl.Float64).alias(c.threshold),
                pl.lit(None, pl.Boolean).alias(c.flag),
            )
        frame = frame.with_columns(pl.col(c.flag).fill_null(False))
        return frame.select(list(c.schema.names())).cast(dict(c.schema))  # type: ignore[arg-type]

    def _judge(self, center: pl.Expr, spread: pl.Expr, seen: pl.Expr) -> list[pl.Expr]:
        c = self.config
        dev = pl.col(_X) - center
        warm = seen >= c.min_history
        score = (
            pl.when(spread > 0)
            .then(dev / spread)
            .when(dev == 0)
            .then(0.0)
            .otherwise(dev.sign() * float("inf"))
        )
        return [
            pl.when(warm).then(score).alias(c.score),
            pl.when(warm).then(center + c.k * spread).alias(c.threshold),
            (warm & (dev.abs() > c.k * spread)).alias(c.flag),
        ]

    def _zscore(self, valid: pl.DataFrame) -> pl.DataFrame:
        c, keys, a = self.config, self.config.keys, self.config.alpha
        rows = valid.select([*keys, _ORD, _X]).with_columns(
            pl.lit(False).alias(_PSEUDO),
            pl.lit(None, pl.Float64).alias(_VAR),
            pl.lit(0, pl.Int64).alias(_N),
        )
        parts = [rows]
        if self.stats is not None and self.stats.height:
            prior = self.stats.join(
                rows.select(keys).unique(), on=keys, how="semi", nulls_equal=True
            )
            parts.insert(
                0,
                prior.select(
                    *keys,
                    pl.lit(None, pl.get_index_type()).alias(_ORD),
                    pl.col(_MEAN).alias(_X),
                    pl.lit(True).alias(_PSEUDO),
                    pl.col(_VAR),
                    pl.col(_N),
                ),
            )
        # no sort: `over` keeps each key's rows in frame order, and the prior state of a
        # key comes before its rows
        both = pl.concat(parts, how="vertical_relaxed")
        over = keys
        mean = pl.col(_X).ewm_mean(alpha=a, adjust=False).over(over)
        both = both.with_columns(mean.alias(_MEAN))
        before = pl.col(_MEAN).shift(1).over(over)
        both = both.with_columns(before.alias("__ocht_mb"))
        dev = pl.col(_X) - pl.col("__ocht_mb")
        y = (
            pl.when(pl.col(_PSEUDO))
            .then(pl.col(_VAR))
            .when(pl.col("__ocht_mb").is_null())
            .then(0.0)
            .otherwise((1 - a) * dev * dev)
        )
        both = both.with_columns(y.alias("__ocht_y"))
        var = pl.col("__ocht_y").ewm_mean(alpha=a, adjust=False).over(over)
        seen0 = pl.when(pl.col(_PSEUDO)).then(pl.col(_N)).otherwise(0).max().over(over)
        real_no = (~pl.col(_PSEUDO)).cast(pl.Int64).cum_sum().over(over) - 1
        both = both.with_columns(
            var.alias(_VAR),
            (seen0 + real_no).alias("__ocht_seen"),
        ).with_columns(pl.col(_VAR).shift(1).over(over).alias("__ocht_vb"))
        real = both.filter(~pl.col(_PSEUDO))
        spread = pl.col("__ocht_vb").sqrt()
        seen = pl.when(pl.col("__ocht_mb").is_null()).then(0).otherwise(pl.col("__ocht_seen"))
        scored = real.with_columns(self._judge(pl.col("__ocht_mb"), spread, seen))
        last = real.group_by(keys, maintain_order=True).agg(
            pl.col(_MEAN).last(), pl.col(_VAR).last(), (pl.col("__ocht_seen").last() + 1).alias(_N)
        )
        if self._learn:
            self.stats = _replace(self.stats, last, keys)
        return scored.select(_ORD, c.score, c.threshold, c.flag)

    def _windowed(self, valid: pl.DataFrame) -> pl.DataFrame:
        c, keys, n = self.config, self.config.keys, self.config.window
        rows = valid.select([*keys, _ORD, _X])
        if self.counts is not None and self.counts.height:
            rows = rows.join(
                self.counts, on=keys, how="left", nulls_equal=True, maintain_order="left"
            )
        else:
            rows = rows.with_columns(pl.lit(None, pl.Int64).alias(_N))
        rows = rows.with_columns(
            (pl.col(_N).fill_null(0) + pl.int_range(pl.len()).over(keys)).cast(pl.Int64).alias(_POS)
        ).drop(_N)
        parts = [rows.select(*keys, _POS, _X, _ORD)]
        if self.history is not None and self.history.height:
            prior = self.history.join(
                rows.select(keys).unique(), on=keys, how="semi", nulls_equal=True
            )
            parts.insert(0, prior.with_columns(pl.lit(None, pl.get_index_type()).alias(_ORD)))
        both = pl.concat(parts, how="vertical_relaxed")  # per key: history, then new rows
        x = pl.col(_X)
        aggs = [
            x.median().alias("__ocht_c"),
            ((x - x.median()).abs().median() * MAD_SCALE).alias("__ocht_s"),
        ]
        if c.method == "robust":
            # a window's MAD needs that window's median: Polars' rolling group-by
            stats = both.rolling(
                index_column=_POS, period=f"{n}i", offset=f"-{n + 1}i", group_by=keys
            ).agg(aggs)
            scored = rows.join(
                stats, on=[*keys, _POS], how="left", nulls_equal=True, maintain_order="left"
            )
        else:  # the quantile of the last n values before each row (history included)
            q = x.rolling_quantile(c.quantile, "linear", window_size=n, min_samples=1)
            scored = both.with_columns(q.shift(1).over(keys).alias("__ocht_q")).filter(
                pl.col(_ORD).is_not_null()
            )
        seen = pl.col(_POS)
        if c.method == "robust":
            judged = self._judge(pl.col("__ocht_c"), pl.col("__ocht_s"), seen)
        else:
            warm = seen >= c.min_history
            q = pl.col("__ocht_q")
            judged = [
                pl.when(warm).then(x - q).alias(c.score),
                pl.when(warm).then(q).alias(c.threshold),
                (warm & (x > q)).alias(c.flag),
            ]
        scored = scored.with_columns(judged)
        if self._learn:
            counts = both.group_by(keys, maintain_order=True).agg(
                (pl.col(_POS).max() + 1).alias(_N)
            )
            self.counts = _replace(self.counts, counts, keys)
            recent = (
                both.select(*keys, _POS, _X)
                .join(counts, on=keys, nulls_equal=True)
                .filter(pl.col(_POS) >= pl.col(_N) - n)
                .drop(_N)
            )
            self.history = _replace(self.history, recent, keys)
        return scored.select(_ORD, c.score, c.threshold, c.flag)

    # -- state -------------------------------------------------------------------------
    def snapshot(self) -> dict[str, pl.DataFrame]:
        """The statistics as frames (checkpointed with the offsets in stream mode)."""
        out = {"stats": self.stats, "counts": self.counts, "history": self.history}
        return {k: v for k, v in out.items() if v is not None}

    def restore(self, frames: dict[str, pl.DataFrame]) -> None:
        """Replace the statistics with frames from :meth:`snapshot`."""
        self.stats = frames.get("stats")
        self.counts = frames.get("counts")
        self.history = frames.get("history")


def _replace(old: pl.DataFrame | None, new: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    if old is None or old.height == 0:
        return new
    kept = old.join(new.select(keys).unique(), on=keys, how="anti", nulls_equal=True)
    return pl.concat([kept, new], how="vertical_relaxed")


class AnomalyOperator(StreamOperator):
    """The ``anomaly`` step in stream mode: one :class:`AnomalyState` per source partition.

    The statistics of a key live with the partition its records arrive on (as Kafka
    Streams keeps state), so the stream equals the batch when the input is keyed by ``by``
    (declare ``partitioned_by``), or read by one worker.
    """

    def __init__(self, step_id: str, config: AnomalyConfig) -> None:
        super().__init__(step_id)
        self.config = config
        self.states: dict[str, AnomalyState] = {}

    def _state(self, part: str) -> AnomalyState:
        if part not in self.states:
            self.states[part] = AnomalyState(self.config)
        return self.states[part]

    def process(self, batch: pl.DataFrame, *, now: float, part: str = "") -> OperatorOutput:
        """Score one partition's rows of a micro-batch and fold them into its statistics."""
        return OperatorOutput(self._state(part).update(batch))

    def part_frames(self, part: str) -> dict[str, pl.DataFrame]:
        """One partition's statistics as frames."""
        return self._state(part).snapshot()

    def load_part(self, part: str, frames: dict[str, pl.DataFrame]) -> None:
        """Restore one partition's statistics."""
        self._state(part).restore(frames)

    def drop_part(self, part: str) -> None:
        """Forget one partition's statistics (they are in its checkpoint)."""
        self.states.pop(part, None)

    def parts(self) -> set[str]:
        """The partitions with statistics."""
        return set(self.states)


def build_anomaly(spec: Anomaly, ctx: BuildContext) -> CompiledStep:
    """Build an ``anomaly`` step: checked columns, the batch form and the stream operator."""
    schema = ctx.schema
    check_columns([spec.value], schema, step=ctx.step_id, path=f"{ctx.path}.value")
    if not (schema[spec.value].is_numeric() or schema[spec.value] == pl.Boolean()):
        raise step_error(
            "invalid-type",
            f"column '{spec.value}' is {schema[spec.value]}; anomaly scores numbers",
            step=ctx.step_id,
            path=f"{ctx.path}.value",
            hint="cast it to a number first",
        )
    for i, key in enumerate(spec.by):
        check_columns([key], schema, step=ctx.step_id, path=f"{ctx.path}.by[{i}]")
    if spec.time is not None:
        check_columns([spec.time], schema, step=ctx.step_id, path=f"{ctx.path}.time")
    config = AnomalyConfig.of(spec, schema)

    def score_all(df: pl.DataFrame) -> pl.DataFrame:
        # a fresh state per run, all rows at once: nothing to keep afterwards
        return AnomalyState(config).update(df, learn=False)

    def apply(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].map_batches(score_all, streamable=False, schema=config.schema)

    operator = (lambda: AnomalyOperator(ctx.step_id, config)) if ctx.mode == "stream" else None
    return CompiledStep.single(ctx.step_id, apply, operator=operator)
