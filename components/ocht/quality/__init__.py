"""Data quality: the ``check`` step, dead-letter records, custom checks.

The registry loads :data:`STEP_KINDS` from this brick, so a pipeline can use
``kind: check`` wherever the brick is installed.

Example:
    >>> import polars as pl
    >>> from ocht.pipeline_model import Check
    >>> from ocht.transform import BuildContext
    >>> spec = Check.model_validate({"kind": "check", "checks": [
    ...     {"type": "range", "column": "n", "min": 0, "action": "fix"}]})
    >>> step = build_check(spec, BuildContext("c", "steps[0]", (pl.Schema({"n": pl.Int64}),)))
    >>> step.apply([pl.LazyFrame({"n": [-5, 3]})]).collect()["n"].to_list()
    [0, 3]
"""

from ocht.pipeline_model import Check
from ocht.quality.checks import CompiledCheck, compile_check
from ocht.quality.dtypes import parse_duration
from ocht.quality.errors import CheckFailed
from ocht.quality.plugins import CHECK_GROUP, CheckType, check_type, check_types, register_check
from ocht.quality.records import record_columns
from ocht.quality.schemas import infer_input, type_name, type_names
from ocht.quality.step import CheckRun, build_check
from ocht.transform import DEAD_LETTER_SCHEMA, StepKind

#: The step kinds this brick provides (read by the registry).
STEP_KINDS: tuple[StepKind, ...] = (
    StepKind(
        "check",
        Check,
        build_check,
        "Data-quality checks; per check fail, warn, dead-letter or fix the rows.",
        batch=True,
        stream=True,
    ),
)

__all__ = [
    "CHECK_GROUP",
    "DEAD_LETTER_SCHEMA",
    "STEP_KINDS",
    "CheckFailed",
    "CheckRun",
    "CheckType",
    "CompiledCheck",
    "build_check",
    "check_type",
    "check_types",
    "compile_check",
    "infer_input",
    "parse_duration",
    "record_columns",
    "register_check",
    "type_name",
    "type_names",
]
