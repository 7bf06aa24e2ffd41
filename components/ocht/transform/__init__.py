"""Pure step functions (LazyFrame in, LazyFrame out) and SQL expressions compiled to Polars.

Example:
    >>> import polars as pl
    >>> from ocht.pipeline_model import Filter
    >>> from ocht.transform import BuildContext, build_step
    >>> schema = pl.Schema({"amount": pl.Int64})
    >>> step = build_step(Filter(kind="filter", where="amount > 1"),
    ...                   BuildContext("f", "steps[0]", (schema,)))
    >>> step.apply([pl.LazyFrame({"amount": [1, 2]})]).collect().height
    1
"""

from ocht.transform.catalog import STEP_KINDS, build_step, stream_operator
from ocht.transform.dtypes import cast_expr, dtype_name, parse_dtype, parse_dtype_format
from ocht.transform.errors import step_error
from ocht.transform.expressions import (
    SqlColumn,
    bind,
    check_columns,
    check_schema,
    compile_column,
    compile_condition,
    compile_expr,
    invalid_expression,
    nearest,
    unknown_column,
)
from ocht.transform.kinds import (
    DEAD_LETTER,
    DEAD_LETTER_SCHEMA,
    MAIN,
    BuildContext,
    CompiledStep,
    Mode,
    StepFn,
    StepKind,
)
from ocht.transform.partials import Partials
from ocht.transform.stream_state import (
    NOT_STREAMABLE,
    UNPARTITIONED,
    OperatorOutput,
    StreamOperator,
)
from ocht.transform.stream_state import pack as pack_state
from ocht.transform.stream_state import unpack as unpack_state
from ocht.transform.windows import Duration, WindowPlan, plan_window

__all__ = [
    "DEAD_LETTER",
    "DEAD_LETTER_SCHEMA",
    "MAIN",
    "NOT_STREAMABLE",
    "STEP_KINDS",
    "UNPARTITIONED",
    "BuildContext",
    "CompiledStep",
    "Duration",
    "Mode",
    "OperatorOutput",
    "Partials",
    "SqlColumn",
    "StepFn",
    "StepKind",
    "StreamOperator",
    "WindowPlan",
    "bind",
    "build_step",
    "cast_expr",
    "check_columns",
    "check_schema",
    "compile_column",
    "compile_condition",
    "compile_expr",
    "dtype_name",
    "invalid_expression",
    "nearest",
    "pack_state",
    "parse_dtype",
    "parse_dtype_format",
    "plan_window",
    "step_error",
    "stream_operator",
    "unknown_column",
    "unpack_state",
]
