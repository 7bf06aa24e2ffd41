"""Steps about row order and duplicates: sort, limit (batch only) and dedupe."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Dedupe, Limit, Sort
from ocht.transform.errors import step_error
from ocht.transform.expressions import check_columns
from ocht.transform.kinds import BuildContext, CompiledStep

SORT_STREAM_HINT = (
    "a stream has no end to sort up to: aggregate in an event-time window, "
    "or let the sink order rows (e.g. ORDER BY when reading the table)"
)
_ROW = "__ocht_row"

LIMIT_STREAM_HINT = (
    "a stream has no first n rows: filter or dedupe instead, or limit when "
    "reading the sink's output"
)


def build_sort(spec: Sort, ctx: BuildContext) -> CompiledStep:
    """Order all rows by columns; ties keep their input order."""
    by = list(spec.by)
    for i, name in enumerate(by):
        check_columns([name], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.by[{i}]")
    descending = spec.descending
    if isinstance(descending, list) and len(descending) != len(by):
        raise step_error(
            "invalid-value",
            f"`descending` has {len(descending)} flags for {len(by)} sort columns",
            step=ctx.step_id,
            path=f"{ctx.path}.descending",
            hint="give one flag per column in `by`, or a single true/false",
        )
    nulls_last = spec.nulls_last

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].sort(by, descending=descending, nulls_last=nulls_last, maintain_order=True)

    return CompiledStep.single(ctx.step_id, fn)


def build_limit(spec: Limit, ctx: BuildContext) -> CompiledStep:
    """Keep ``n`` rows after skipping ``offset`` rows."""
    n, offset = spec.n, spec.offset

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].slice(offset, n)

    return CompiledStep.single(ctx.step_id, fn)


def build_dedupe(spec: Dedupe, ctx: BuildContext) -> CompiledStep:
    """Keep one row per key: the first or last in input order, or by ``order_by``.

    With ``order_by``, ``first`` keeps the row with the smallest value and ``last`` the
    row with the largest; rows whose ``order_by`` value is null lose to any other, and
    ties are broken by input order (the earlier row for ``first``, the later for ``last``). In stream mode the state across micro-batches is the
    executor's; this function is the batch semantics.
    """
    columns = list(ctx.schema.names())
    keys = list(spec.keys) if spec.keys else columns
    for i, name in enumerate(spec.keys or ()):
        check_columns([name], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.keys[{i}]")
    order_by = list(spec.order_by or ())
    for i, name in enumerate(order_by):
        check_columns([name], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.order_by[{i}]")
    keep = spec.keep
    operator = None
    if ctx.mode == "stream":  # the state across micro-batches, from the same keys
        from ocht.transform.streaming import dedupe_operator

        operator = dedupe_operator(spec, ctx, keys)

    if not order_by:

        def in_order(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
            # keep="first" streams as is_first_distinct; unique(keep="last") would run in
            # memory, is_last_distinct on the key struct streams and keeps input order
            if keep == "first":
                return frames[0].unique(keys, keep="first", maintain_order=True)
            return frames[0].filter(pl.struct(keys).is_last_distinct())

        return CompiledStep.single(ctx.step_id, in_order, operator=operator, replayable=True)

    others = [c for c in columns if c not in keys]
    # the row number breaks ties, so the sort needs no maintain_order (which would run
    # in memory); nulls sort to the far end from the row we keep, so a value always wins
    ranked = pl.col(others).sort_by([*order_by, _ROW], nulls_last=keep == "first")
    pick = ranked.first() if keep == "first" else ranked.last()

    def by_order(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return (
            frames[0]
            .with_row_index(_ROW)
            .group_by(keys, maintain_order=True)
            .agg(pick)
            .select(columns)
        )

    return CompiledStep.single(ctx.step_id, by_order, operator=operator, replayable=True)
