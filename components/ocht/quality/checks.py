"""Each check spec compiled to Polars expressions, checked against the input schema.

A row-level check becomes a *violation* expression (true where the row fails; never null)
and, for ``action: fix``, the expressions that repair its columns. Whole-input checks
(``row_count``, ``freshness``) have no row expression: they are judged on totals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from pydantic import ValidationError

from ocht.pipeline_model import (
    AcceptedValues,
    CheckBase,
    ColumnsCheck,
    DType,
    Expression,
    Freshness,
    Length,
    NotNull,
    PluginCheck,
    Range,
    Regex,
    RowCount,
    Unique,
)
from ocht.quality.dtypes import bound, convert, require_text
from ocht.quality.errors import check_error
from ocht.quality.fixes import expression_repairs, repairs_for
from ocht.quality.plugins import check_type
from ocht.transform import check_columns, compile_expr, parse_dtype

WHOLE_INPUT = ("row_count", "freshness")


@dataclass(frozen=True)
class CompiledCheck:
    """One check ready to run.

    Attributes:
        index: position in the step's ``checks`` list.
        name: unique within the step (``type_column`` by default).
        type: the check type.
        action: ``fail``, ``warn``, ``dead_letter`` or ``fix``.
        columns: the columns it looks at (for samples).
        reason: the text put in a dead letter's ``reason``.
        violation: true for a failing row (``None`` for whole-input checks).
        repairs: for ``fix``: column → expression of the repaired value, given the
            violation flag column.
        casts: columns converted in the main output whatever the action (``dtype``).
        options: the spec, for whole-input checks.
    """

    index: int
    name: str
    type: str
    action: str
    columns: tuple[str, ...]
    reason: str
    violation: pl.Expr | None = None
    repairs: dict[str, Any] = field(default_factory=dict)
    casts: dict[str, pl.Expr] = field(default_factory=dict)
    options: Any = None

    @property
    def flag(self) -> str:
        """The internal column holding this check's violation flag."""
        return f"__ocht_check_{self.index}"


def compile_check(
    spec: CheckBase, index: int, schema: pl.Schema, *, step: str, path: str
) -> CompiledCheck:
    """Compile one check against the schema of the rows it sees.

    Raises:
        UnknownColumn: the check names a column the input lacks.
        InvalidPipeline: ``invalid-check`` for contradictory options, ``invalid-type``
            for a check that does not fit a column's type.
    """
    kind = spec.type  # type: ignore[attr-defined]
    if kind in WHOLE_INPUT and spec.action not in ("fail", "warn"):
        raise check_error(
            f"a {kind} check judges the whole input: its action can only be "
            f"fail or warn, not {spec.action}",
            step=step,
            path=f"{path}.action",
        )
    if isinstance(spec, RowCount):
        return CompiledCheck(
            index,
            spec.name or "row_count",
            kind,
            spec.action,
            (),
            spec.message or _row_count_text(spec),
            options=spec,
        )
    if isinstance(spec, Freshness):
        check_columns([spec.column], schema, step=step, path=f"{path}.column")
        if not schema[spec.column].is_temporal():
            raise check_error(
                f"freshness needs a date or datetime column; '{spec.column}' "
                f"is {schema[spec.column]}",
                step=step,
                path=f"{path}.column",
                code="invalid-type",
            )
        return CompiledCheck(
            index,
            spec.name or f"freshness_{spec.column}",
            kind,
            spec.action,
            (spec.column,),
            spec.message or f"older than {spec.max_age}",
            options=spec,
        )
    if isinstance(spec, Expression):
        cond = compile_expr(spec.expression, schema, step=step, path=f"{path}.expr")
        used = tuple(cond.meta.root_names())
        name = spec.name or f"expression_{index + 1}"
        repairs = expression_repairs(spec, schema, step=step, path=path)
        return CompiledCheck(
            index,
            name,
            kind,
            spec.action,
            used,
            spec.message or f"`{spec.expression}` does not hold",
            (~cond).fill_null(False),
            repairs,
        )
    if isinstance(spec, PluginCheck):
        return _plugin(spec, index, schema, step=step, path=path)
    assert isinstance(spec, ColumnsCheck)
    cols = spec.targets
    check_columns(cols, schema, step=step, path=f"{path}.columns")
    name = spec.name or f"{kind}_{'_'.join(cols)}"
    violation, reason = _violation(spec, cols, schema, step=step, path=path)
    casts: dict[str, pl.Expr] = {}
    if isinstance(spec, DType) and spec.cast and spec.action != "fix":
        target = parse_dtype(spec.dtype, step=step, path=f"{path}.dtype")
        casts = {c: convert(pl.col(c), schema[c], target) for c in cols}
    repairs = (
        repairs_for(spec, cols, schema, step=step, path=path, flag=f"__ocht_check_{index}")
        if spec.action == "fix"
        else {}
    )
    return CompiledCheck(
        index,
        name,
        kind,
        spec.action,
        tuple(cols),
        spec.message or reason,
        violation.fill_null(False),
        repairs,
        casts,
    )


def _row_count_text(spec: RowCount) -> str:
    parts = ([f"at least {spec.min}"] if spec.min is not None else []) + (
        [f"at most {spec.max}"] if spec.max is not None else []
    )
    return f"row count must be {' and '.join(parts) or 'anything'}"


def _violation(
    spec: ColumnsCheck, cols: list[str], schema: pl.Schema, *, step: str, path: str
) -> tuple[pl.Expr, str]:
    if isinstance(spec, NotNull):
        return pl.any_horizontal(
            [pl.col(c).is_null() for c in cols]
        ), f"{', '.join(cols)} must not be null"
    if isinstance(spec, Unique):
        key = pl.col(cols[0]) if len(cols) == 1 else pl.struct(cols)
        dup = key.is_duplicated() if spec.keep == "none" else ~key.is_first_distinct()
        present = pl.all_horizontal([pl.col(c).is_not_null() for c in cols])
        return dup & present, f"duplicate key ({', '.join(cols)})"
    if isinstance(spec, AcceptedValues):
        exprs = []
        for c in cols:
            values = pl.Series(spec.values)
            try:
                values = values.cast(schema[c], strict=True)
            except pl.exceptions.PolarsError:
                raise check_error(
                    f"accepted values do not fit column '{c}' ({schema[c]})",
                    step=step,
                    path=f"{path}.values",
                    code="invalid-type",
                ) from None
            exprs.append(pl.col(c).is_not_null() & ~pl.col(c).is_in(values.implode()))
        shown = ", ".join(map(str, spec.values[:5])) + (", ..." if len(spec.values) > 5 else "")
        return pl.any_horizontal(exprs), f"not one of [{shown}]"
    if isinstance(spec, Range):
        exprs = []
        for c in cols:
            lo, hi = (
                bound(v, schema[c], step=step, path=f"{path}.{k}")
                for k, v in (("min", spec.min), ("max", spec.max))
            )
            bad = pl.lit(False)
            if lo is not None:
                bad = bad | (pl.col(c) < lo if spec.min_inclusive else pl.col(c) <= lo)
            if hi is not None:
                bad = bad | (pl.col(c) > hi if spec.max_inclusive else pl.col(c) >= hi)
            exprs.append(bad)
        lo_s = ("[" if spec.min_inclusive else "(") + str(
            spec.min if spec.min is not None else "-inf"
        )
        hi_s = str(spec.max if spec.max is not None else "inf") + (
            "]" if spec.max_inclusive else ")"
        )
        return pl.any_horizontal(exprs), f"outside {lo_s}, {hi_s}"
    if isinstance(spec, Regex):
        require_text(cols, schema, step=step, path=path)
        try:
            re.compile(spec.pattern)
        except re.error as exc:
            raise check_error(
                f"invalid pattern: {exc}", step=step, path=f"{path}.pattern"
            ) from None
        return pl.any_horizontal(
            [~pl.col(c).str.contains(spec.pattern) for c in cols]
        ), f"does not match /{spec.pattern}/"
    if isinstance(spec, Length):
        require_text(cols, schema, step=step, path=path)
        if spec.min is None and spec.max is None:
            raise check_error("a length check needs `min`, `max` or both", step=step, path=path)
        exprs = []
        for c in cols:
            n = pl.col(c).str.len_chars()
            bad = pl.lit(False)
            if spec.min is not None:
                bad = bad | (n < spec.min)
            if spec.max is not None:
                bad = bad | (n > spec.max)
            exprs.append(bad)
        return pl.any_horizontal(
            exprs
        ), f"length outside [{spec.min or 0}, {spec.max if spec.max is not None else 'inf'}]"
    if isinstance(spec, DType):
        target = parse_dtype(spec.dtype, step=step, path=f"{path}.dtype")
        exprs = [
            pl.col(c).is_not_null() & convert(pl.col(c), schema[c], target).is_null() for c in cols
        ]
        return pl.any_horizontal(exprs), f"not a valid {spec.dtype}"
    raise check_error(
        f"unsupported check type '{spec.type}'",  # type: ignore[attr-defined]
        step=step,
        path=f"{path}.type",
    )


def _plugin(
    spec: PluginCheck, index: int, schema: pl.Schema, *, step: str, path: str
) -> CompiledCheck:
    kind = check_type(spec.type)
    if kind is None:
        from ocht.pipeline_model import BUILTIN_CHECKS
        from ocht.transform import nearest

        best = nearest(spec.type, sorted(BUILTIN_CHECKS))
        raise check_error(
            f"unknown check type '{spec.type}'",
            step=step,
            path=f"{path}.type",
            code="unknown-check",
            hint=f"did you mean '{best}'?"
            if best
            else "built-in: " + ", ".join(sorted(BUILTIN_CHECKS)),
        )
    if spec.action == "fix":
        raise check_error(
            f"the '{spec.type}' check cannot fix rows; use fail, warn or dead_letter",
            step=step,
            path=f"{path}.action",
        )
    try:
        options = kind.spec.model_validate(spec.model_extra or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise check_error(
            f"check '{spec.type}': {first['msg']}",
            step=step,
            path=f"{path}.{where}" if where else path,
        ) from None
    expr = kind.violation(options, schema)
    cols = tuple(expr.meta.root_names())
    check_columns(list(cols), schema, step=step, path=path)
    name = spec.name or f"{spec.type}_{index + 1}"
    return CompiledCheck(
        index,
        name,
        spec.type,
        spec.action,
        cols,
        spec.message or f"{spec.type} check failed",
        expr.fill_null(False),
    )
