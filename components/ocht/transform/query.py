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
    re.compile(r"^\s*AGGREGATE\[", re.MULTILINE): "GROUP BY or an aggregate",
    re.compile(r"^\s*SORT BY", re.MULTILINE): "ORDER BY",
    re.compile(r"^\s*SLICE\[", re.MULTILINE): "LIMIT/OFFSET",
    re.compile(r"^\s*UNIQUE\[", re.MULTILINE): "DISTINCT",
    re.compile(r"\)\.over\("): "a window function",
}


def build_sql(spec: Sql, ctx: BuildContext) -> CompiledStep:
    """Run ``query`` (Polars' SQL) over the input, named ``self``.

    In stream mode the query runs on each micro-batch, so queries that need every row at
    once (GROUP BY, aggregates, ORDER BY, LIMIT, DISTINCT, window functions) are refused
    there.

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
        what = _whole_input(query, ctx.schema)
        if what is not None:
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


def _whole_input(query: str, schema: pl.Schema) -> str | None:
    """What in ``query`` needs the whole input, if anything.

    The plan names sorts, slices, distinct and grouped aggregates. An aggregate without
    GROUP BY (``count(*)``, ``sum(x) OVER ()``) is a plain projection there, so the query
    also runs on a made-up row, once and twice: a row-by-row query gives the rows of one
    run twice over.
    """
    plan = pl.LazyFrame(schema=schema).sql(query, table_name="self").explain(optimized=False)
    for marker, what in _WHOLE_INPUT.items():
        if marker.search(plan):
            return what
    row = _made_up_row(schema)
    try:
        once = row.lazy().sql(query, table_name="self").collect()
        twice = pl.concat([row, row]).lazy().sql(query, table_name="self").collect()
    except pl.exceptions.PolarsError:
        return None  # the made-up values do not suit the query: trust the plan
    return None if twice.equals(pl.concat([once, once])) else "an aggregate over all rows"


def _made_up_row(schema: pl.Schema) -> pl.DataFrame:
    columns = []
    for name, dtype in schema.items():
        try:
            columns.append(pl.Series(name, [1]).cast(dtype, strict=False))
        except pl.exceptions.PolarsError:
            columns.append(pl.Series(name, [None], dtype=dtype))
    return pl.DataFrame(columns)
