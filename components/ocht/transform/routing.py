"""The route step: send rows to named branches by condition."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Route
from ocht.transform.errors import step_error
from ocht.transform.expressions import SqlColumn, bind, compile_condition
from ocht.transform.kinds import BuildContext, CompiledStep, StepFn


def build_route(spec: Route, ctx: BuildContext) -> CompiledStep:
    """One output per branch of ``routes`` (``{branch: condition}``) plus ``default``.

    In ``first`` mode a row goes to the first branch whose condition is true (in the
    order written); in ``all`` mode to every such branch. Rows no condition holds for go
    to ``default``, or are dropped when ``default`` is null. A null condition is false.
    The outputs are keyed by branch name (there is no main output).

    Example:
        >>> import polars as pl
        >>> from ocht.pipeline_model import Route
        >>> from ocht.transform import BuildContext
        >>> spec = Route(kind="route", routes={"big": "a > 1"})
        >>> step = build_route(spec, BuildContext("r", "steps[0]", (pl.Schema({"a": pl.Int64}),)))
        >>> sorted(step.outputs)
        ['big', 'default']
    """
    if spec.default is not None and spec.default in spec.routes:
        raise step_error(
            "invalid-value",
            f"the default branch '{spec.default}' is also a routed branch",
            step=ctx.step_id,
            path=f"{ctx.path}.default",
            hint="give the default branch its own name, or set it to null",
        )
    conditions: list[SqlColumn] = [
        compile_condition(text, ctx.schema, step=ctx.step_id, path=f"{ctx.path}.routes.{name}")
        for name, text in spec.routes.items()
    ]
    first = spec.mode == "first"

    def branch(index: int | None) -> StepFn:
        def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
            frame, exprs, helpers = bind(frames[0], conditions)
            hits = [e.fill_null(False) for e in exprs]
            if index is None:
                mask = ~pl.any_horizontal(hits)
            elif first and index > 0:
                mask = hits[index] & ~pl.any_horizontal(hits[:index])
            else:
                mask = hits[index]
            return frame.filter(mask).drop(helpers)

        return fn

    outputs = {name: branch(i) for i, name in enumerate(spec.routes)}
    if spec.default is not None:
        outputs[spec.default] = branch(None)
    return CompiledStep(ctx.step_id, outputs)
