"""Mergeable partial aggregates, taken apart from the aggregate's compiled expressions.

The aggregate step compiles each of its ``aggs`` once (Polars SQL → a Polars
expression). For stream mode that same expression tree is split at its aggregation
nodes: every ``sum``, ``count``, ``len``, ``min``, ``max`` and ``mean`` becomes a partial
(kept per group and partition, merged batch after batch), and the rest of the tree
(``sum(v) / count(v)``, SQL's "the sum of nothing is NULL" guard) is evaluated over the
merged partials when a group is emitted. Any other aggregation (median, count distinct,
quantiles, first) cannot be merged and is refused with ``not-streamable``.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import polars as pl

from ocht.errors import InvalidPipeline, Issue
from ocht.transform.stream_state import NOT_STREAMABLE

_MERGEABLE = {"Sum": "sum", "Count": "count", "Min": "min", "Max": "max", "Mean": "mean"}
_HINT = (
    "in stream mode aggregates are built from sum, count, min, max and avg (e.g. "
    "sum(x) / count(x)); median, count(distinct), quantiles and first/last need all rows"
)


def _expr(tree: Any) -> pl.Expr:
    return pl.Expr.deserialize(io.StringIO(json.dumps(tree)), format="json")


@dataclass(frozen=True)
class _Leaf:
    func: str  # sum, count, len, min, max, mean
    value: pl.Expr | None  # None for len

    def partial(self, i: int) -> list[pl.Expr]:
        v = self.value
        if self.func == "len" or v is None:
            return [pl.len().cast(pl.Int64).alias(f"__p{i}_n")]
        if self.func == "count":
            return [v.count().cast(pl.Int64).alias(f"__p{i}_n")]
        if self.func in ("min", "max"):
            return [(v.min() if self.func == "min" else v.max()).alias(f"__p{i}_m")]
        total = v.sum().cast(pl.Float64) if self.func == "mean" else v.sum()
        return [total.alias(f"__p{i}_s"), v.count().cast(pl.Int64).alias(f"__p{i}_n")]

    def merge(self, i: int) -> list[pl.Expr]:
        if self.func in ("len", "count"):
            return [pl.col(f"__p{i}_n").sum()]
        if self.func in ("min", "max"):
            m = pl.col(f"__p{i}_m")
            return [m.min() if self.func == "min" else m.max()]
        return [pl.col(f"__p{i}_s").sum(), pl.col(f"__p{i}_n").sum()]

    def final(self, i: int) -> pl.Expr:
        if self.func in ("len", "count"):
            return pl.col(f"__p{i}_n").alias(f"__a{i}")
        if self.func in ("min", "max"):
            return pl.col(f"__p{i}_m").alias(f"__a{i}")
        n, total = pl.col(f"__p{i}_n"), pl.col(f"__p{i}_s")
        value = total if self.func == "sum" else total / n
        return pl.when(n > 0).then(value).otherwise(None).alias(f"__a{i}")


class Partials:
    """Partial aggregates for ``aggs`` (``[(name, compiled expression)]``) by ``keys``.

    Raises:
        InvalidPipeline: ``not-streamable``, one issue per aggregate that cannot merge.

    Example:
        >>> import polars as pl
        >>> p = Partials(["k"], [("m", pl.col("v").sum() / pl.col("v").count())],
        ...              step="a", path="steps[0]")
        >>> part = p.of(pl.LazyFrame({"k": ["x", "x"], "v": [1, 3]}))
        >>> p.finals(p.merge([part, part]), ["k", "m"]).to_dicts()
        [{'k': 'x', 'm': 2.0}]
    """

    def __init__(
        self, keys: list[str], aggs: list[tuple[str, pl.Expr]], *, step: str, path: str
    ) -> None:
        self.keys = keys
        self.leaves: list[_Leaf] = []
        self.outputs: list[pl.Expr] = []
        issues = []
        for name, expr in aggs:
            try:
                tree = self._split(json.loads(expr.meta.serialize(format="json")))
            except _Unmergeable as exc:
                msg = f"aggregate '{name}' uses {exc.args[0]}, which cannot be merged across micro-batches"
                issues.append(Issue(NOT_STREAMABLE, msg, f"{path}.aggs.{name}", hint=_HINT))
                continue
            self.outputs.append(_expr(tree).alias(name))
        if issues:
            raise InvalidPipeline.from_issues(issues)

    def _split(self, node: Any) -> Any:
        if node == "Len":
            self.leaves.append(_Leaf("len", None))
            return {"Column": f"__a{len(self.leaves) - 1}"}
        if isinstance(node, list):
            return [self._split(n) for n in node]
        if not isinstance(node, dict):
            return node
        if "Agg" in node:
            (kind, body), *_ = node["Agg"].items()
            if kind not in _MERGEABLE:
                raise _Unmergeable(kind.lower())
            inner = body["input"] if isinstance(body, dict) and "input" in body else body
            func = _MERGEABLE[kind]
            if kind == "Count" and isinstance(body, dict) and body.get("include_nulls"):
                func = "len"
            # count including nulls is the group's length
            self.leaves.append(_Leaf(func, None if func == "len" else _expr(inner)))
            return {"Column": f"__a{len(self.leaves) - 1}"}
        return {k: self._split(v) for k, v in node.items()}

    def partial_exprs(self) -> list[pl.Expr]:
        """The expressions of one batch's partials (one group-by)."""
        return [e for i, leaf in enumerate(self.leaves) for e in leaf.partial(i)]

    def of(self, frame: pl.LazyFrame, extra_keys: list[str] | None = None) -> pl.DataFrame:
        """The partials of ``frame`` per key (and ``extra_keys``, e.g. a window start)."""
        keys = [*self.keys, *(extra_keys or [])]
        exprs = self.partial_exprs()
        if not keys:
            return frame.select(exprs).collect()
        return frame.group_by(keys).agg(exprs).collect()

    def merge(
        self, frames: list[pl.DataFrame], extra_keys: list[str] | None = None
    ) -> pl.DataFrame:
        """Partials of the same groups merged into one row per group."""
        both = pl.concat([f for f in frames if f.width], how="vertical_relaxed")
        keys = [*self.keys, *(extra_keys or [])]
        exprs = [e for i, leaf in enumerate(self.leaves) for e in leaf.merge(i)]
        if not keys:
            return both.select(exprs)
        return both.group_by(keys, maintain_order=True).agg(exprs)

    def finals(self, merged: pl.DataFrame, columns: list[str]) -> pl.DataFrame:
        """The aggregates' values from merged partials, as ``columns``."""
        leaves = [leaf.final(i) for i, leaf in enumerate(self.leaves)]
        return merged.with_columns(leaves).with_columns(self.outputs).select(columns)


class _Unmergeable(Exception):
    pass
