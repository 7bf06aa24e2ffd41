"""The aggregate step: group rows by keys (and an event-time window) into named aggregates."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Aggregate
from ocht.transform.errors import step_error
from ocht.transform.expressions import (
    check_columns,
    check_schema,
    compile_expr,
    invalid_expression,
)
from ocht.transform.kinds import BuildContext, CompiledStep, StepFn
from ocht.transform.windows import WindowPlan, plan_window

_PROBE_KEY = "__ocht_group"


def build_aggregate(spec: Aggregate, ctx: BuildContext) -> CompiledStep:
    """Aggregate ``aggs`` (``{name: "sum(amount)"}``) per ``by`` keys and optional window.

    The output has the ``by`` columns, then the window's start and end columns (when
    there is a window), then one column per aggregate, in the order given. Rows come in
    no particular order.
    """
    by = list(spec.by)
    for i, name in enumerate(by):
        check_columns([name], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.by[{i}]")
    window = plan_window(spec.window, ctx, f"{ctx.path}.window") if spec.window else None
    taken = dict.fromkeys(by, f"{ctx.path}.by")
    if window is not None:
        for name, field in ((window.start, "start_column"), (window.end, "end_column")):
            _claim(taken, name, f"{ctx.path}.window.{field}", ctx)
    aggs: list[pl.Expr] = []
    compiled: list[tuple[str, pl.Expr]] = []
    for name, text in spec.aggs.items():
        path = f"{ctx.path}.aggs.{name}"
        _claim(taken, name, path, ctx)
        expr = compile_expr(text, ctx.schema, step=ctx.step_id, path=path)
        _check_aggregate(expr, text, ctx, path)
        aggs.append(expr.alias(name))
        compiled.append((name, expr))
    names = list(spec.aggs)

    def stateful(fn: StepFn) -> CompiledStep:
        if ctx.mode != "stream":
            return CompiledStep.single(ctx.step_id, fn)
        # the stream operator is built from the same compiled expressions
        from ocht.transform.streaming import aggregate_operator

        output = fn([pl.LazyFrame(schema=ctx.schema)]).collect_schema()
        operator = aggregate_operator(spec, ctx, compiled, window, output)
        return CompiledStep.single(ctx.step_id, fn, operator=operator)

    if window is None:

        def totals(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
            if not by:
                return frames[0].select(aggs)
            return frames[0].group_by(by).agg(aggs)

        return stateful(totals)

    plan: WindowPlan = window
    columns = [*by, plan.start, plan.end, *names]

    def windowed(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return (
            plan.assign(frames[0])
            .group_by([*by, plan.start])
            .agg(aggs)
            .with_columns(plan.end_expr())
            .select(columns)
        )

    return stateful(windowed)


def _claim(taken: dict[str, str], name: str, path: str, ctx: BuildContext) -> None:
    if name in taken:
        raise step_error(
            "invalid-value",
            f"output column '{name}' is named twice (also at {taken[name]})",
            step=ctx.step_id,
            path=path,
        )
    taken[name] = path


def _check_aggregate(expr: pl.Expr, text: str, ctx: BuildContext, path: str) -> None:
    # a row-wise expression in a group-by gives one list per group instead of one value
    empty = pl.LazyFrame(schema=ctx.schema)
    plain = empty.select(expr.alias("_")).collect_schema()["_"]
    grouped_frame = empty.group_by(pl.lit(0).alias(_PROBE_KEY)).agg(expr.alias("_"))
    grouped = check_schema(grouped_frame, ctx.schema, text=text, step=ctx.step_id, path=path)["_"]
    if grouped == pl.List(plain) and not plain.is_nested():
        raise invalid_expression(
            text,
            "not an aggregate: wrap columns in sum(), avg(), min(), max(), count() ...",
            step=ctx.step_id,
            path=path,
        )
