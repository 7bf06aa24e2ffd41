"""Row and column steps: filter, derive (the rest of the stateless kinds follow this shape)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Derive, Filter
from ocht.transform.expressions import compile_expr
from ocht.transform.kinds import BuildContext, CompiledStep


def build_filter(spec: Filter, ctx: BuildContext) -> CompiledStep:
    """Keep rows where ``spec.where`` is true (null counts as false)."""
    cond = compile_expr(spec.where, ctx.schema, step=ctx.step_id, path=f"{ctx.path}.where")

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].filter(cond)

    return CompiledStep.single(ctx.step_id, fn)


def build_derive(spec: Derive, ctx: BuildContext) -> CompiledStep:
    """Add or replace columns; later columns may use earlier ones."""
    schema = ctx.schema
    exprs: list[pl.Expr] = []
    for name, text in spec.columns.items():
        expr = compile_expr(text, schema, step=ctx.step_id, path=f"{ctx.path}.columns.{name}")
        exprs.append(expr.alias(name))
        schema = pl.LazyFrame(schema=schema).with_columns(expr.alias(name)).collect_schema()

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].with_columns_seq(exprs) if len(exprs) == 1 else _chain(frames[0], exprs)

    return CompiledStep.single(ctx.step_id, fn)


def _chain(frame: pl.LazyFrame, exprs: list[pl.Expr]) -> pl.LazyFrame:
    # one with_columns per expression so a column can use the one defined before it;
    # Polars fuses consecutive projections, so this costs nothing at run time
    for e in exprs:
        frame = frame.with_columns(e)
    return frame
