"""Row and column steps: filter, derive."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Derive, Filter
from ocht.transform.expressions import SqlColumn, bind, compile_column, compile_condition
from ocht.transform.kinds import BuildContext, CompiledStep


def build_filter(spec: Filter, ctx: BuildContext) -> CompiledStep:
    """Keep rows where ``spec.where`` is true (null counts as false)."""
    cond = compile_condition(spec.where, ctx.schema, step=ctx.step_id, path=f"{ctx.path}.where")

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        frame, (expr,), helpers = bind(frames[0], [cond])
        return frame.filter(expr).drop(helpers)

    return CompiledStep.single(ctx.step_id, fn, replayable=True)


def build_derive(spec: Derive, ctx: BuildContext) -> CompiledStep:
    """Add or replace columns; later columns may use earlier ones."""
    schema = ctx.schema
    columns: list[tuple[str, SqlColumn]] = []
    for name, text in spec.columns.items():
        col = compile_column(text, schema, step=ctx.step_id, path=f"{ctx.path}.columns.{name}")
        columns.append((name, col))
        schema = pl.Schema({**schema, name: col.dtype})

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        # one with_columns per column so a column can use the one defined before it;
        # Polars fuses consecutive projections, so this costs nothing at run time
        frame = frames[0]
        for name, col in columns:
            frame, (expr,), helpers = bind(frame, [col])
            frame = frame.with_columns(expr.alias(name)).drop(helpers)
        return frame

    return CompiledStep.single(ctx.step_id, fn, replayable=True)
