"""The ``check`` step spec: data-quality checks, each with an action.

A check step lists checks; every check names what must hold and what to do with a row
(or, for ``row_count`` and ``freshness``, the whole input) that breaks it:

- ``fail``: stop the run (error ``check-failed``), outputs untouched;
- ``warn``: count and log, the row flows on;
- ``dead_letter``: the row leaves the main flow for the dead-letter output;
- ``fix``: repair the value (fill, clamp, coerce, trim) and record the fix on the row.

Example:
    >>> step = Check.model_validate({"kind": "check", "checks": [
    ...     {"type": "not_null", "columns": ["id"], "action": "dead_letter"},
    ...     {"type": "range", "column": "amount", "min": 0, "action": "fix"}]})
    >>> [c.type for c in step.checks]
    ['not_null', 'range']
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag, field_validator, model_validator

from ocht.pipeline_model.steps import Spec, StepBase

Action = Literal["fail", "warn", "dead_letter", "fix"]


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Fix(Spec):
    """How a ``fix`` action repairs a failing value (applied in this order).

    Attributes:
        trim: strip surrounding whitespace (strings).
        coerce: convert to this type (``int64``, ``float64``, ``date`` ...); a value that
            does not convert becomes null (then ``value``/``expression`` may fill it).
        clamp: move a value outside ``min``/``max`` onto the nearest bound (``range``).
        value: replace the failing value with this literal.
        expression: replace the failing value with this SQL expression over the row.
    """

    trim: bool = Field(default=False, description="Strip surrounding whitespace (strings).")
    coerce: str | None = Field(
        default=None,
        description="Convert to this type; a value that does not convert becomes null.",
    )
    clamp: bool = Field(
        default=False,
        description="Move a value outside `min`/`max` onto the nearest bound (range).",
    )
    value: Any = Field(default=None, description="Replace the failing value with this literal.")
    expression: str | None = Field(
        default=None, description="Replace the failing value with this SQL expression over the row."
    )


class CheckBase(Spec):
    """Options every check has."""

    name: str | None = Field(
        default=None, description="Name in results and dead letters (default: type_columns)."
    )
    action: Action = Field(default="fail", description="fail, warn, dead_letter or fix.")
    fix: Fix | None = Field(default=None, description="For action `fix`: how to repair.")
    message: str | None = Field(default=None, description="Reason text for dead letters.")


class ColumnsCheck(CheckBase):
    """A check over one or more columns (``column`` is shorthand for one)."""

    columns: list[str] = Field(
        description="Columns checked (one name or a list).", default_factory=list
    )
    column: str | None = Field(default=None, description="One column checked (shorthand).")
    _v = field_validator("columns", mode="before")(_as_list)

    @model_validator(mode="after")
    def _one_of(self) -> ColumnsCheck:
        if self.column is None and not self.columns:
            raise ValueError("give `column` or `columns`")
        return self

    @property
    def targets(self) -> list[str]:
        """Every column the check applies to."""
        return ([self.column] if self.column else []) + [
            c for c in self.columns if c != self.column
        ]


class NotNull(ColumnsCheck):
    """Every named column has a value."""

    type: Literal["not_null"]


class Unique(ColumnsCheck):
    """No two rows share the key (the columns together); nulls are not compared.

    Over all rows in batch mode, within each micro-batch in stream mode.
    """

    type: Literal["unique"]
    keep: Literal["none", "first"] = Field(
        default="none", description="`first`: the first row of a key passes, later ones fail."
    )


class AcceptedValues(ColumnsCheck):
    """Values are one of ``values`` (nulls pass; combine with not_null)."""

    type: Literal["accepted_values"]
    values: list[Any] = Field(description="The values allowed.", min_length=1)


class Range(ColumnsCheck):
    """Values lie between ``min`` and ``max`` (inclusive unless told; nulls pass)."""

    type: Literal["range"]
    min: Any = Field(default=None, description="Lowest value allowed (null: no bound).")
    max: Any = Field(default=None, description="Highest value allowed (null: no bound).")
    min_inclusive: bool = Field(default=True, description="`min` itself is allowed.")
    max_inclusive: bool = Field(default=True, description="`max` itself is allowed.")

    @model_validator(mode="after")
    def _bound(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs `min`, `max` or both")
        return self


class Regex(ColumnsCheck):
    """String values match ``pattern`` (a regular expression, searched; anchor with ^$)."""

    type: Literal["regex"]
    pattern: str = Field(
        description="Regular expression searched in each value (anchor with ^ and $).", min_length=1
    )


class Length(ColumnsCheck):
    """String length (in characters) lies between ``min`` and ``max``."""

    type: Literal["length"]
    min: int | None = Field(description="Fewest characters allowed.", default=None, ge=0)
    max: int | None = Field(description="Most characters allowed.", default=None, ge=0)


class DType(ColumnsCheck):
    """Values convert to ``dtype``; with ``cast`` the column leaves the step as that type."""

    type: Literal["dtype"]
    dtype: str = Field(min_length=1, description="int64, float64, bool, date, datetime ...")
    cast: bool = Field(default=True, description="Convert the column in the main output.")


class Expression(CheckBase):
    """A SQL condition that must hold per row (null counts as holding, as in SQL CHECK)."""

    type: Literal["expression"]
    expression: str = Field(
        description="SQL condition that must be true (or null) for each row.",
        min_length=1,
        alias="expr",
    )
    column: str | None = Field(default=None, description="For `fix`: the column repaired.")


class RowCount(CheckBase):
    """The whole input has between ``min`` and ``max`` rows (per micro-batch in stream mode)."""

    type: Literal["row_count"]
    min: int | None = Field(description="Fewest rows allowed.", default=None, ge=0)
    max: int | None = Field(description="Most rows allowed.", default=None, ge=0)


class Freshness(CheckBase):
    """The newest value of a timestamp column is at most ``max_age`` old (e.g. ``1d``)."""

    type: Literal["freshness"]
    column: str = Field(description="Timestamp column whose newest value is checked.")
    max_age: str = Field(
        description="Oldest the newest value may be: a number and a unit (us, ms, s, m, h, d, w).",
        pattern=r"^\d+(us|ms|s|m|h|d|w)$",
    )


class PluginCheck(CheckBase):
    """A check type registered by a plugin (entry point group ``ocht.checks``)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="allow", populate_by_name=True)
    type: str


BUILTIN_CHECKS: dict[str, type[CheckBase]] = {
    "not_null": NotNull,
    "unique": Unique,
    "accepted_values": AcceptedValues,
    "range": Range,
    "regex": Regex,
    "length": Length,
    "dtype": DType,
    "expression": Expression,
    "row_count": RowCount,
    "freshness": Freshness,
}


def _check_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None:
        return None
    if not isinstance(kind, str):  # a list or a mapping: the plugin model says "a string"
        return "plugin"
    return kind if kind in BUILTIN_CHECKS else "plugin"


CheckSpec = Annotated[
    Annotated[NotNull, Tag("not_null")]
    | Annotated[Unique, Tag("unique")]
    | Annotated[AcceptedValues, Tag("accepted_values")]
    | Annotated[Range, Tag("range")]
    | Annotated[Regex, Tag("regex")]
    | Annotated[Length, Tag("length")]
    | Annotated[DType, Tag("dtype")]
    | Annotated[Expression, Tag("expression")]
    | Annotated[RowCount, Tag("row_count")]
    | Annotated[Freshness, Tag("freshness")]
    | Annotated[PluginCheck, Tag("plugin")],
    Discriminator(
        _check_tag,
        custom_error_type="missing_check_type",
        custom_error_message="a check needs a `type`",
    ),
]


class Check(StepBase):
    """Data-quality checks; each check's ``action`` decides what a failing row does."""

    kind: Literal["check"]
    checks: list[CheckSpec] = Field(
        description="The checks, run in order on every row.", min_length=1
    )
    fixes_column: str | None = Field(
        default="_ocht_fixes",
        description="Column naming the fixes applied to each row (null: none; omit: no column).",
    )
    sample_size: int = Field(default=5, ge=0, le=100, description="Failing values kept per check.")
