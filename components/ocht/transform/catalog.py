"""The built-in step kinds."""

from __future__ import annotations

from typing import Any

import polars as pl

from ocht.pipeline_model import (
    Aggregate,
    Cast,
    Dedupe,
    Derive,
    Drop,
    Explode,
    FillNull,
    Filter,
    Join,
    Limit,
    Rename,
    Route,
    Select,
    Sort,
    Sql,
    Union,
    Unnest,
)
from ocht.transform.aggregate import build_aggregate
from ocht.transform.basic import build_derive, build_filter
from ocht.transform.columns import build_cast, build_drop, build_rename, build_select
from ocht.transform.combine import build_join, build_union
from ocht.transform.fill import build_fill_null
from ocht.transform.kinds import BuildContext, CompiledStep, StepKind
from ocht.transform.nested import build_explode, build_unnest
from ocht.transform.ordering import (
    LIMIT_STREAM_HINT,
    SORT_STREAM_HINT,
    build_dedupe,
    build_limit,
    build_sort,
)
from ocht.transform.query import build_sql
from ocht.transform.routing import build_route
from ocht.transform.stream_state import StreamOperator

STEP_KINDS: tuple[StepKind, ...] = (
    StepKind("filter", Filter, build_filter, "Keep rows where a SQL condition holds."),
    StepKind(
        "select",
        Select,
        build_select,
        "Keep and order columns, or compute them from SQL expressions.",
    ),
    StepKind("drop", Drop, build_drop, "Remove columns."),
    StepKind("rename", Rename, build_rename, "Rename columns."),
    StepKind("derive", Derive, build_derive, "Add or replace columns from SQL expressions."),
    StepKind("cast", Cast, build_cast, "Change column types (strings are parsed)."),
    StepKind("fill_null", FillNull, build_fill_null, "Replace nulls with values or by a strategy."),
    StepKind(
        "sort",
        Sort,
        build_sort,
        "Order all rows by columns.",
        stream=False,
        stream_hint=SORT_STREAM_HINT,
    ),
    StepKind(
        "limit",
        Limit,
        build_limit,
        "Keep the first n rows.",
        stream=False,
        stream_hint=LIMIT_STREAM_HINT,
    ),
    StepKind(
        "dedupe", Dedupe, build_dedupe, "Keep one row per key (first or last).", stateful=True
    ),
    StepKind(
        "aggregate",
        Aggregate,
        build_aggregate,
        "Aggregate rows per key and optional event-time window.",
        stateful=True,
    ),
    StepKind("join", Join, build_join, "Join with another input or step on key columns."),
    StepKind("union", Union, build_union, "Stack the rows of other inputs or steps."),
    StepKind("explode", Explode, build_explode, "One row per element of list columns."),
    StepKind("unnest", Unnest, build_unnest, "Spread struct columns into columns."),
    StepKind("route", Route, build_route, "Send rows to named branches by condition."),
    StepKind("sql", Sql, build_sql, "Run a SQL query over the input (called self)."),
)

_BY_NAME = {k.name: k for k in STEP_KINDS}


def build_step(spec: Any, ctx: BuildContext) -> CompiledStep:
    """Build a built-in step from its spec (plugins go through the registry).

    Raises:
        KeyError: ``spec.kind`` is not a built-in kind.
        InvalidPipeline: the step does not fit its input schemas.
    """
    return _BY_NAME[spec.kind].build(spec, ctx)


def stream_operator(
    spec: Any, schema: pl.Schema, *, step_id: str, path: str, output: pl.Schema | None = None
) -> StreamOperator | None:
    """A fresh stream operator for a built-in step, or ``None`` for a stateless one.

    The step is built in stream mode exactly as the executor builds it; ``output`` is
    accepted for compatibility and ignored (the step knows its own output schema).

    Raises:
        InvalidPipeline: ``not-streamable`` for options that cannot run on a stream.

    Example:
        >>> import polars as pl
        >>> from ocht.pipeline_model import Aggregate
        >>> op = stream_operator(Aggregate(kind="aggregate", by=["k"], aggs={"n": "count(*)"}),
        ...                      pl.Schema({"k": pl.String}), step_id="a", path="steps[0]")
        >>> op.process(pl.DataFrame({"k": ["x", "x"]}), now=0).rows.to_dicts()
        [{'k': 'x', 'n': 2}]
    """
    compiled = build_step(spec, BuildContext(step_id, path, (schema,), "stream"))
    return compiled.operator() if compiled.operator is not None else None
