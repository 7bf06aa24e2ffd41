"""Column steps: select, drop, rename, cast."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Cast, Drop, Rename, Select
from ocht.transform.dtypes import cast_expr, castable, parse_dtype
from ocht.transform.errors import step_error
from ocht.transform.expressions import SqlColumn, bind, check_columns, compile_column
from ocht.transform.kinds import BuildContext, CompiledStep


def build_select(spec: Select, ctx: BuildContext) -> CompiledStep:
    """Keep the listed columns in that order, or compute each from ``{name: expression}``."""
    if isinstance(spec.columns, list):
        names = list(spec.columns)
        for i, name in enumerate(names):
            check_columns([name], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.columns[{i}]")
        _no_duplicates(names, ctx, "columns")

        def keep(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
            return frames[0].select(names)

        return CompiledStep.single(ctx.step_id, keep)

    columns = {
        name: compile_column(text, ctx.schema, step=ctx.step_id, path=f"{ctx.path}.columns.{name}")
        for name, text in spec.columns.items()
    }
    cols: list[SqlColumn] = list(columns.values())

    def compute(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        frame, exprs, _ = bind(frames[0], cols)
        return frame.select([e.alias(n) for n, e in zip(columns, exprs, strict=True)])

    return CompiledStep.single(ctx.step_id, compute, replayable=True)


def build_drop(spec: Drop, ctx: BuildContext) -> CompiledStep:
    """Remove the listed columns."""
    for i, name in enumerate(spec.columns):
        check_columns([name], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.columns[{i}]")
    names = list(spec.columns)

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].drop(names)

    return CompiledStep.single(ctx.step_id, fn)


def build_rename(spec: Rename, ctx: BuildContext) -> CompiledStep:
    """Rename columns ``{old: new}``; every old name must exist."""
    mapping = dict(spec.columns)
    for old in mapping:
        check_columns([old], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.columns.{old}")
    result = [mapping.get(name, name) for name in ctx.schema.names()]
    for old, new in mapping.items():
        if result.count(new) > 1:
            raise step_error(
                "invalid-value",
                f"renaming '{old}' to '{new}' gives two columns named '{new}'",
                step=ctx.step_id,
                path=f"{ctx.path}.columns.{old}",
                hint=f"drop or rename '{new}' first",
            )

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].rename(mapping)

    return CompiledStep.single(ctx.step_id, fn)


def build_cast(spec: Cast, ctx: BuildContext) -> CompiledStep:
    """Convert columns to other types; ``strict: false`` gives null where a value fails."""
    exprs: list[pl.Expr] = []
    for name, type_name in spec.columns.items():
        path = f"{ctx.path}.columns.{name}"
        check_columns([name], ctx.schema, step=ctx.step_id, path=path)
        target = parse_dtype(type_name, step=ctx.step_id, path=path)
        source = ctx.schema[name]
        if not castable(source, target):
            raise step_error(
                "invalid-type",
                f"column '{name}' ({source}) cannot be cast to {target}",
                step=ctx.step_id,
                path=path,
            )
        exprs.append(cast_expr(pl.col(name), source, target, strict=spec.strict).alias(name))

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].with_columns(exprs)

    return CompiledStep.single(ctx.step_id, fn, replayable=True)


def _no_duplicates(names: list[str], ctx: BuildContext, field: str) -> None:
    seen: set[str] = set()
    for i, name in enumerate(names):
        if name in seen:
            raise step_error(
                "invalid-value",
                f"column '{name}' is listed twice",
                step=ctx.step_id,
                path=f"{ctx.path}.{field}[{i}]",
            )
        seen.add(name)
