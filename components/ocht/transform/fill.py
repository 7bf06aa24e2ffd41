"""The fill_null step: replace nulls with values, or by a strategy.

Three forms, exactly one per step:

- ``columns: {amount: 0, country: "unknown"}``: a value per column;
- ``value: 0`` (with ``columns: [a, b]``, or every column the value fits);
- ``strategy: forward`` (with ``columns: [a, b]``, or every column it applies to).

A value is converted to the column's type when the step is built (``"2024-01-01"`` fills a
date column), so a fill never changes a column's type.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from typing import Any

import polars as pl

from ocht.pipeline_model import FillNull
from ocht.transform.dtypes import cast_expr
from ocht.transform.errors import step_error
from ocht.transform.expressions import check_columns
from ocht.transform.kinds import BuildContext, CompiledStep

#: strategies that give the same result on a micro-batch as on the whole data
_ROW_LOCAL = ("zero", "one")


def build_fill_null(spec: FillNull, ctx: BuildContext) -> CompiledStep:
    """Replace nulls per column, with one value, or with a strategy."""
    exprs = _mapping(spec, ctx) if isinstance(spec.columns, dict) else _value_or_strategy(spec, ctx)

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].with_columns(exprs)

    # a fill by value, zero or one treats each row on its own; mean, min, max or forward
    # would fill a slice differently from the whole input
    row_local = spec.strategy is None or spec.strategy in _ROW_LOCAL
    return CompiledStep.single(ctx.step_id, fn, replayable=row_local)


def _mapping(spec: FillNull, ctx: BuildContext) -> list[pl.Expr]:
    assert isinstance(spec.columns, dict)
    for field, given in (("value", spec.value is not None), ("strategy", spec.strategy)):
        if given:
            raise step_error(
                "invalid-value",
                f"`{field}` cannot be combined with a mapping of columns to values",
                step=ctx.step_id,
                path=f"{ctx.path}.{field}",
                hint="use `columns: {column: value}` alone, or list the "
                f"columns and give `{field}`",
            )
    exprs = []
    for name, value in spec.columns.items():
        path = f"{ctx.path}.columns.{name}"
        check_columns([name], ctx.schema, step=ctx.step_id, path=path)
        exprs.append(_fill_value(name, value, ctx, path))
    return exprs


def _value_or_strategy(spec: FillNull, ctx: BuildContext) -> list[pl.Expr]:
    if (spec.value is None) == (spec.strategy is None):
        raise step_error(
            "invalid-value",
            "fill_null needs exactly one of `value`, "
            "`strategy` or a mapping `columns: {column: value}`",
            step=ctx.step_id,
            path=f"{ctx.path}.value" if spec.value is not None else ctx.path,
        )
    listed = spec.columns
    if listed is not None:
        for i, name in enumerate(listed):
            check_columns([name], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.columns[{i}]")
    names = list(listed) if listed is not None else list(ctx.schema.names())

    if spec.strategy is None:
        if listed is not None:
            return [
                _fill_value(n, spec.value, ctx, f"{ctx.path}.columns[{i}]")
                for i, n in enumerate(names)
            ]
        return [
            _fill_value(n, spec.value, ctx, f"{ctx.path}.value")
            for n in names
            if _fits(spec.value, ctx.schema[n])
        ]

    strategy = spec.strategy
    if ctx.mode == "stream" and strategy not in _ROW_LOCAL:
        raise step_error(
            "batch-only-step",
            f"strategy '{strategy}' needs all rows at once",
            step=ctx.step_id,
            path=f"{ctx.path}.strategy",
            hint="on a stream each micro-batch would be filled on its own: use "
            "`value`, or strategy zero or one",
        )
    exprs = []
    for i, name in enumerate(names):
        if _applies(strategy, ctx.schema[name]):
            exprs.append(pl.col(name).fill_null(strategy=strategy))
        elif listed is not None:
            raise step_error(
                "invalid-value",
                f"strategy '{strategy}' does not apply to column '{name}' ({ctx.schema[name]})",
                step=ctx.step_id,
                path=f"{ctx.path}.columns[{i}]",
            )
    return exprs


def _fill_value(name: str, value: Any, ctx: BuildContext, path: str) -> pl.Expr:
    dtype = ctx.schema[name]
    if value is None:
        raise step_error(
            "invalid-value", f"the fill value for '{name}' is null", step=ctx.step_id, path=path
        )
    if isinstance(value, float) and dtype.is_integer() and not value.is_integer():
        raise step_error(
            "invalid-value",
            f"{value!r} does not fit column '{name}' ({dtype})",
            step=ctx.step_id,
            path=path,
        )
    literal = pl.lit(value)
    source = pl.select(literal).to_series().dtype
    fill = cast_expr(literal, source, dtype, strict=True)
    try:
        # a literal, not data: converting it now reports a bad value before the run
        pl.select(fill)
    except pl.exceptions.PolarsError:
        raise step_error(
            "invalid-value",
            f"{value!r} does not fit column '{name}' ({dtype})",
            step=ctx.step_id,
            path=path,
        ) from None
    return pl.col(name).fill_null(fill)


def _fits(value: Any, dtype: pl.DataType) -> bool:
    """Whether a value given for "every column" is meant for a column of this type."""
    if isinstance(value, bool):
        return dtype == pl.Boolean
    if isinstance(value, int):
        return dtype.is_numeric()
    if isinstance(value, float):
        return dtype.is_float() or dtype.is_decimal()
    if isinstance(value, str):
        return dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum)
    if isinstance(value, datetime):
        return isinstance(dtype, pl.Datetime)
    if isinstance(value, date):
        return dtype == pl.Date
    if isinstance(value, time):
        return dtype == pl.Time
    if isinstance(value, timedelta):
        return isinstance(dtype, pl.Duration)
    return False


def _applies(strategy: str, dtype: pl.DataType) -> bool:
    if strategy in ("forward", "backward"):
        return True
    if strategy in ("min", "max"):
        return dtype.is_numeric() or dtype.is_temporal() or dtype == pl.String
    return dtype.is_numeric()
