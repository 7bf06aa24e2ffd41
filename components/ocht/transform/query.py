"""The sql step: a query over the step's input, which the query calls ``self``."""

from __future__ import annotations

import re
from collections.abc import Sequence

import polars as pl

from ocht.pipeline_model import Sql
from ocht.transform.errors import step_error
from ocht.transform.expressions import unknown_column
from ocht.transform.kinds import BuildContext, CompiledStep

_UNKNOWN_COL = re.compile(r'unable to find column "([^"]+)"')
# plan nodes that need every row at once; per micro-batch they would give other answers
_WHOLE_INPUT = {
    "AGGREGATE": "GROUP BY or an aggregate",
    "SORT": "ORDER BY",
    "SLICE": "LIMIT/OFFSET",
    "UNIQUE": "DISTINCT",
    ".over(": "a window function",
}


def build_sql(spec: Sql, ctx: BuildContext) -> CompiledStep:
    """Run ``query`` (Polars' SQL) over the input, named ``self``.

    In stream mode the query runs on each micro-batch, so queries that need every row at
    once (GROUP BY, ORDER BY, LIMIT, DISTINCT, window functions) are refused there.

    Example:
        >>> import polars as pl
        >>> from ocht.pipeline_model import Sql
        >>> from ocht.transform import BuildContext
        >>> spec = Sql(kind="sql", query="SELECT a * 2 AS b FROM self")
        >>> step = build_sql(spec, BuildContext("q", "steps[0]", (pl.Schema({"a": pl.Int64}),)))
        >>> step.apply([pl.LazyFrame({"a": [2]})]).collect().item()
        4
    """
    query = spec.query
    path = f"{ctx.path}.query"
    try:
        probe = pl.LazyFrame(schema=ctx.schema).sql(query, table_name="self")
        probe.collect_schema()
    except pl.exceptions.ColumnNotFoundError as exc:
        m = _UNKNOWN_COL.search(str(exc))
        raise unknown_column(
            m.group(1) if m else "?", ctx.schema, step=ctx.step_id, path=path
        ) from None
    except pl.exceptions.PolarsError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = (
            "the step's input is called `self`: SELECT ... FROM self"
            if "relation" in reason and "not found" in reason
            else None
        )
        raise step_error(
            "invalid-expression", f"invalid query: {reason}", step=ctx.step_id, path=path, hint=hint
        ) from None
    if ctx.mode == "stream":
        plan = probe.explain(optimized=False)
        for marker, what in _WHOLE_INPUT.items():
            if marker in plan:
                raise step_error(
                    "batch-only-step",
                    f"the query uses {what}, which needs all rows at once",
                    step=ctx.step_id,
                    path=path,
                    hint="on a stream use an aggregate step (with a window) "
                    "or a dedupe step; keep the sql step row by row",
                )

    def fn(frames: Sequence[pl.LazyFrame]) -> pl.LazyFrame:
        return frames[0].sql(query, table_name="self")

    return CompiledStep.single(ctx.step_id, fn)
