"""Steps for nested data: explode (lists → rows) and unnest (structs → columns)."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Explode, Unnest
from ocht.transform.errors import step_error
from ocht.transform.expressions import check_columns
from ocht.transform.kinds import BuildContext, CompiledStep


def build_explode(spec: Explode, ctx: BuildContext) -> CompiledStep:
    """One row per element of list columns (several columns must have equal lengths).

    An empty or null list gives one row with a null element, so no row disappears.
    """
    names = list(spec.columns)
    for i, name in enumerate(names):
        path = f"{ctx.path}.columns[{i}]"
        check_columns([name], ctx.schema, step=ctx.step_id, path=path)
        dtype = ctx.schema[name]
        if not isinstance(dtype, pl.List | pl.Array):
            raise step_error(
                "invalid-type",
                f"column '{name}' is {dtype}, not a list",
                step=ctx.step_id,
                path=path,
                hint="explode splits list columns; use unnest for structs",
            )

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].explode(names, empty_as_null=True, keep_nulls=True)

    return CompiledStep.single(ctx.step_id, fn)


def build_unnest(spec: Unnest, ctx: BuildContext) -> CompiledStep:
    """Replace struct columns by their fields (named ``<column><separator><field>``
    when ``separator`` is given)."""
    names = list(spec.columns)
    separator = spec.separator
    result = list(ctx.schema.names())
    for i, name in enumerate(names):
        path = f"{ctx.path}.columns[{i}]"
        check_columns([name], ctx.schema, step=ctx.step_id, path=path)
        dtype = ctx.schema[name]
        if not isinstance(dtype, pl.Struct):
            raise step_error(
                "invalid-type",
                f"column '{name}' is {dtype}, not a struct",
                step=ctx.step_id,
                path=path,
                hint="unnest spreads struct (object) columns; use explode for lists",
            )
        fields = [
            f.name if separator is None else f"{name}{separator}{f.name}" for f in dtype.fields
        ]
        result.remove(name)
        for field in fields:
            if field in result:
                raise step_error(
                    "invalid-value",
                    f"unnesting '{name}' gives a column '{field}' that already exists",
                    step=ctx.step_id,
                    path=path,
                    hint="set `separator` (e.g. '_') to prefix the fields with the column name",
                )
            result.append(field)

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].unnest(names, separator=separator)

    return CompiledStep.single(ctx.step_id, fn)
