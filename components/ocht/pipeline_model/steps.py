"""Step specs: one frozen pydantic model per step kind, joined in a discriminated union.

Every step has an optional ``id`` (default ``<kind>_<position>``) and an optional ``input``
(default: the previous step, or the pipeline's only input). Expressions are SQL strings
compiled later by the transform brick.
"""

from __future__ import annotations

import functools
import operator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator

ID_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"


class Spec(BaseModel):
    """Base of every spec model: frozen, unknown keys refused."""

    # defer_build: a model's validator is built when it is first used, not when the module
    # is imported; a run validates through Pipeline only, so the ~70 member models never
    # build validators of their own (a tenth of a second off every start-up)
    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid", populate_by_name=True)


class StepBase(Spec):
    kind: str = Field(description="What the step does (`ocht list steps`).")
    id: str | None = Field(
        default=None, pattern=ID_PATTERN, description="Name other steps and outputs use."
    )
    input: str | None = Field(
        default=None,
        description="Input or earlier step this step reads (default: the previous step).",
    )
    description: str = Field(default="", description="Free text for people reading the pipeline.")


def _as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class Filter(StepBase):
    """Keep the rows for which a SQL condition is true."""

    kind: Literal["filter"]
    where: str = Field(min_length=1, description="SQL condition, e.g. `amount > 10`.")


class Select(StepBase):
    """Keep (and order) the named columns; a mapping computes them from expressions."""

    kind: Literal["select"]
    columns: list[str] | dict[str, str] = Field(
        description="Columns kept, in order; or `{name: expression}` to compute them.", min_length=1
    )


class Drop(StepBase):
    """Remove columns."""

    kind: Literal["drop"]
    columns: list[str] = Field(description="Columns removed (one name or a list).", min_length=1)
    _v = field_validator("columns", mode="before")(_as_list)


class Rename(StepBase):
    """Rename columns: ``{old: new}``."""

    kind: Literal["rename"]
    columns: dict[str, str] = Field(description="`{old name: new name}`.", min_length=1)


class Derive(StepBase):
    """Add or replace columns computed from SQL expressions: ``{name: expression}``."""

    kind: Literal["derive"]
    columns: dict[str, str] = Field(
        description="`{name: SQL expression}`, e.g. `amount_eur: amount * 0.92`.", min_length=1
    )


class Cast(StepBase):
    """Change column types: ``{column: type}`` (int64, float64, string, bool, date,
    datetime, datetime[ms, UTC], decimal(10,2), ...)."""

    kind: Literal["cast"]
    columns: dict[str, str] = Field(
        description="`{column: type}`: int64, float64, string, bool, date, datetime, decimal(10,2), ...",
        min_length=1,
    )
    strict: bool = Field(
        default=True, description="Fail on a value that does not convert; false gives null."
    )


class FillNull(StepBase):
    """Replace nulls, per column with a value, or with a strategy."""

    kind: Literal["fill_null"]
    columns: dict[str, Any] | list[str] | None = Field(
        default=None,
        description="`{column: value}`, or the columns the `value`/`strategy` applies to (default: all).",
    )
    value: Any = Field(default=None, description="The value that replaces nulls.")
    strategy: Literal["forward", "backward", "min", "max", "mean", "zero", "one"] | None = Field(
        default=None, description="Fill from neighbours or a statistic instead of a value."
    )


class Sort(StepBase):
    """Order all rows (batch only)."""

    kind: Literal["sort"]
    by: list[str] = Field(description="Columns to order by (one name or a list).", min_length=1)
    descending: bool | list[bool] = Field(
        default=False, description="Descending order: one flag for all, or one per `by` column."
    )
    nulls_last: bool = Field(default=False, description="Put nulls after every value.")
    _v = field_validator("by", mode="before")(_as_list)


class Limit(StepBase):
    """Keep the first ``n`` rows (after ``offset``) (batch only)."""

    kind: Literal["limit"]
    n: int = Field(description="Rows kept.", ge=0)
    offset: int = Field(description="Rows skipped first.", default=0, ge=0)


class Dedupe(StepBase):
    """Keep one row per key: the first or the last seen (optionally ordered by columns)."""

    kind: Literal["dedupe"]
    keys: list[str] | None = Field(default=None, description="Key columns (default: all).")
    keep: Literal["first", "last"] = Field(
        default="first", description="Which row of a key is kept."
    )
    order_by: list[str] | None = Field(
        default=None, description="Columns that decide which row is first (default: arrival order)."
    )
    ttl: str | None = Field(
        default=None, description="Stream mode: forget a key after this long (e.g. `1h`)."
    )
    _v = field_validator("keys", "order_by", mode="before")(_as_list)


class Window(Spec):
    """Event-time window: tumbling (``every``) or hopping (``every`` + longer ``period``)."""

    column: str = Field(description="Timestamp column the window is cut on.")
    every: str = Field(description="Window start interval, e.g. `1d`, `15m`.")
    period: str | None = Field(default=None, description="Window length (default: every).")
    offset: str | None = Field(
        default=None, description="Shift of window starts, e.g. `30m` (default: none)."
    )
    allowed_lateness: str = Field(
        default="0s", description="Stream mode: how long after a window ends records count."
    )
    idle_timeout: str | None = Field(
        default=None, description="Stream mode: close windows after this long without data."
    )
    late: Literal["drop", "dead_letter"] = Field(
        default="dead_letter",
        description="Stream mode: what happens to records later than `allowed_lateness`.",
    )
    start_column: str = Field(
        default="window_start", description="Column holding each window's start."
    )
    end_column: str = Field(default="window_end", description="Column holding each window's end.")


class Aggregate(StepBase):
    """Group rows by keys (and an optional event-time window) into named aggregates."""

    kind: Literal["aggregate"]
    by: list[str] = Field(
        description="Key columns (one name or a list; none: one group).", default_factory=list
    )
    aggs: dict[str, str] = Field(
        min_length=1, description="``{name: aggregate expression}``, e.g. `sum(amount)`."
    )
    window: Window | None = Field(default=None, description="Group by an event-time window too.")
    _v = field_validator("by", mode="before")(_as_list)


class Join(StepBase):
    """Join with another input or step on key columns."""

    kind: Literal["join"]
    with_: str = Field(alias="with", description="The other side: an input or a step.")
    on: list[str] | None = Field(
        default=None, description="Key columns with the same name on both sides."
    )
    left_on: list[str] | None = Field(
        default=None, description="Key columns of this step's input (with `right_on`)."
    )
    right_on: list[str] | None = Field(
        default=None, description="Key columns of the `with` side (with `left_on`)."
    )
    how: Literal["inner", "left", "right", "full", "anti", "semi", "cross"] = Field(
        default="inner", description="Join type."
    )
    suffix: str = Field(
        default="_right", description="Appended to right-side columns whose names clash."
    )
    _v = field_validator("on", "left_on", "right_on", mode="before")(_as_list)


class Union(StepBase):
    """Stack rows of other inputs/steps under this step's input (columns matched by name)."""

    kind: Literal["union"]
    with_: list[str] = Field(
        description="Inputs or steps stacked under this step's input.", alias="with", min_length=1
    )
    how: Literal["by_name", "strict"] = Field(
        default="by_name",
        description="`by_name`: columns matched by name, missing ones null; `strict`: same columns required.",
    )
    distinct: bool = Field(default=False, description="Drop duplicate rows after stacking.")
    _v = field_validator("with_", mode="before")(_as_list)


class Explode(StepBase):
    """One row per element of list columns."""

    kind: Literal["explode"]
    columns: list[str] = Field(description="List columns (one name or a list).", min_length=1)
    _v = field_validator("columns", mode="before")(_as_list)


class Unnest(StepBase):
    """Spread struct (nested JSON object) columns into top-level columns."""

    kind: Literal["unnest"]
    columns: list[str] = Field(description="Struct columns (one name or a list).", min_length=1)
    separator: str | None = Field(
        default=None, description="Prefix fields with `<column><separator>` (default: none)."
    )
    _v = field_validator("columns", mode="before")(_as_list)


class Route(StepBase):
    """Send rows to named branches by condition; the rest to ``default``.

    Outputs and later steps read a branch as ``<step id>.<branch>``.
    """

    kind: Literal["route"]
    routes: dict[str, str] = Field(min_length=1, description="``{branch: condition}``.")
    default: str | None = Field(default="default", description="Branch for unmatched rows.")
    mode: Literal["first", "all"] = Field(
        default="first", description="`first`: a row goes to its first match; `all`: to each."
    )


class Sql(StepBase):
    """A SQL query over the step's input, which is called ``self``."""

    kind: Literal["sql"]
    query: str = Field(
        description="A SELECT over `self` (the step's input) and earlier steps by name.",
        min_length=1,
    )


class PluginStep(StepBase):
    """A step kind provided by a plugin; its options are checked by the plugin."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="allow")
    kind: str


# After StepBase: quality.py builds on it (the package imports this module first).
from ocht.pipeline_model.ml import Anomaly, Embed, Llm, Predict  # noqa: E402
from ocht.pipeline_model.quality import Check  # noqa: E402

BUILTIN_STEPS: dict[str, type[StepBase]] = {
    "filter": Filter,
    "select": Select,
    "drop": Drop,
    "rename": Rename,
    "derive": Derive,
    "cast": Cast,
    "fill_null": FillNull,
    "sort": Sort,
    "limit": Limit,
    "dedupe": Dedupe,
    "aggregate": Aggregate,
    "join": Join,
    "union": Union,
    "explode": Explode,
    "unnest": Unnest,
    "route": Route,
    "sql": Sql,
    "check": Check,
    "predict": Predict,
    "anomaly": Anomaly,
    "llm": Llm,
    "embed": Embed,
}


def _step_tag(value: Any) -> str | None:
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    if kind is None:
        return None
    if not isinstance(kind, str):  # a list or a mapping: the plugin model says "a string"
        return "plugin"
    return kind if kind in BUILTIN_STEPS else "plugin"


def _tagged_union(models: dict[str, type[StepBase]]) -> Any:
    """``model_1 | model_2 | ... | PluginStep``, each tagged with its kind."""
    members: list[Any] = [Annotated[m, Tag(k)] for k, m in models.items()]
    members.append(Annotated[PluginStep, Tag("plugin")])
    return functools.reduce(operator.or_, members)


if TYPE_CHECKING:
    Step = StepBase
else:
    #: every step model, discriminated on ``kind``: built from :data:`BUILTIN_STEPS`, so a
    #: new step kind is one model and one line in that mapping
    Step = Annotated[
        _tagged_union(BUILTIN_STEPS),
        Discriminator(
            _step_tag,
            custom_error_type="missing_kind",
            custom_error_message="a step needs a `kind`",
        ),
    ]
