"""Each check spec compiled to Polars expressions, checked against the input schema.

A row-level check becomes a *violation* expression (true where the row fails; never null)
and, for ``action: fix``, the expressions that repair its columns. Whole-input checks
(``row_count``, ``freshness``) have no row expression: they are judged on totals.
"""

from __future__ import annotations

import datetime as dt
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
    Fix,
    Freshness,
    Length,
    NotNull,
    PluginCheck,
    Range,
    Regex,
    RowCount,
    Unique,
)
from ocht.quality.errors import check_error
from ocht.quality.plugins import check_type
from ocht.transform import check_columns, compile_expr

WHOLE_INPUT = ("row_count", "freshness")

_DTYPES: dict[str, pl.DataType] = {
    "int8": pl.Int8(),
    "int16": pl.Int16(),
    "int32": pl.Int32(),
    "int64": pl.Int64(),
    "uint8": pl.UInt8(),
    "uint16": pl.UInt16(),
    "uint32": pl.UInt32(),
    "uint64": pl.UInt64(),
    "float32": pl.Float32(),
    "float64": pl.Float64(),
    "float": pl.Float64(),
    "int": pl.Int64(),
    "integer": pl.Int64(),
    "double": pl.Float64(),
    "string": pl.String(),
    "str": pl.String(),
    "utf8": pl.String(),
    "bool": pl.Boolean(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "time": pl.Time(),
    "datetime": pl.Datetime("us"),
    "timestamp": pl.Datetime("us"),
    "datetime[utc]": pl.Datetime("us", "UTC"),
}

_DURATION = re.compile(r"^(\d+)(us|ms|s|m|h|d|w)$")
_UNITS = {
    "us": "microseconds",
    "ms": "milliseconds",
    "s": "seconds",
    "m": "minutes",
    "h": "hours",
    "d": "days",
    "w": "weeks",
}


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


def parse_dtype(text: str, *, step: str, path: str) -> pl.DataType:
    """A type name (``int64``, ``date``, ``datetime[ms, UTC]``) as a Polars type."""
    key = text.strip().lower().replace(" ", "")
    if key in _DTYPES:
        return _DTYPES[key]
    m = re.fullmatch(r"datetime\[(ns|us|ms)(?:,(.+))?\]", key)
    if m:
        tz = text.strip()[text.index(",") + 1 : -1].strip() if m.group(2) else None
        return pl.Datetime(m.group(1), tz)  # type: ignore[arg-type]
    raise check_error(
        f"unknown type '{text}'",
        step=step,
        path=path,
        code="invalid-type",
        hint=f"one of: {', '.join(sorted(_DTYPES))}",
    )


def convert(expr: pl.Expr, source: pl.DataType, target: pl.DataType) -> pl.Expr:
    """``expr`` converted to ``target``; values that do not convert become null."""
    if source == pl.String() and target == pl.Date():
        return expr.str.strip_chars().str.to_date(strict=False)
    if source == pl.String() and isinstance(target, pl.Datetime):
        return expr.str.strip_chars().str.to_datetime(
            strict=False, time_unit=target.time_unit, time_zone=target.time_zone
        )
    if source == pl.String() and target.is_numeric():
        return expr.str.strip_chars().cast(target, strict=False)
    return expr.cast(target, strict=False)


def parse_duration(text: str) -> dt.timedelta:
    """``15m``, ``2h``, ``1d`` as a :class:`~datetime.timedelta`."""
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return dt.timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})


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
        repairs = _expression_repairs(spec, schema, step=step, path=path)
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
        _repairs(spec, cols, schema, step=step, path=path, flag=f"__ocht_check_{index}")
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
                _bound(v, schema[c], step=step, path=f"{path}.{k}")
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
        _strings(cols, schema, step=step, path=path)
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
        _strings(cols, schema, step=step, path=path)
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


def _strings(cols: list[str], schema: pl.Schema, *, step: str, path: str) -> None:
    for c in cols:
        if schema[c] != pl.String():
            raise check_error(
                f"column '{c}' is {schema[c]}, this check needs text",
                step=step,
                path=f"{path}.columns",
                code="invalid-type",
                hint="add a cast step before the check, or a dtype check",
            )


def _bound(value: Any, dtype: pl.DataType, *, step: str, path: str) -> Any:
    if value is None:
        return None
    if isinstance(value, str) and dtype == pl.Date():
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise check_error(f"'{value}' is not a date", step=step, path=path) from None
    if isinstance(value, str) and isinstance(dtype, pl.Datetime):
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise check_error(f"'{value}' is not a datetime", step=step, path=path) from None
        return pl.lit(parsed).cast(dtype)
    if dtype.is_numeric() and not isinstance(value, int | float):
        raise check_error(
            f"bound {value!r} is not a number", step=step, path=path, code="invalid-type"
        )
    return value


def _repairs(
    spec: ColumnsCheck,
    cols: list[str],
    schema: pl.Schema,
    *,
    step: str,
    path: str,
    flag: str | None = None,
) -> dict[str, Any]:
    """Per column: ``(repaired value expression, convert-to dtype or None)``.

    With ``flag`` (the check's violation column), trims, cuts and clamps run on the
    failing values only (the others are masked to null first): a repair is then paid
    for by the rows that need it, not by every row.
    """
    fix = spec.fix or _default_fix(spec)
    if fix is None:
        raise check_error(
            f"a {spec.type} check with action fix needs "  # type: ignore[attr-defined]
            "`fix: {value: ...}` or `fix: {expression: ...}`",
            step=step,
            path=f"{path}.fix",
        )
    if isinstance(spec, Unique) and (fix.value is None and fix.expression is None):
        raise check_error(
            "a unique check cannot repair keys; use dead_letter or a value",
            step=step,
            path=f"{path}.action",
        )
    target = None
    if fix.coerce is not None:
        target = parse_dtype(fix.coerce, step=step, path=f"{path}.fix.coerce")
    elif isinstance(spec, DType):
        target = parse_dtype(spec.dtype, step=step, path=f"{path}.dtype")
    out: dict[str, Any] = {}
    for c in cols:
        repl = _replacement(fix, pl.col(c), schema, step=step, path=path)
        if repl is None and target is None:
            repl = pl.when(pl.col(flag)).then(pl.col(c)) if flag else pl.col(c)
            if fix.trim:
                _strings([c], schema, step=step, path=path)
                repl = repl.str.strip_chars()
            if isinstance(spec, Length) and spec.max is not None and schema[c] == pl.String():
                repl = repl.str.slice(0, spec.max)
            if fix.clamp or isinstance(spec, Range):
                if not isinstance(spec, Range):
                    raise check_error(
                        "clamp needs a range check", step=step, path=f"{path}.fix.clamp"
                    )
                lo = _bound(spec.min, schema[c], step=step, path=f"{path}.min")
                hi = _bound(spec.max, schema[c], step=step, path=f"{path}.max")
                repl = repl.clip(lo, hi)
        out[c] = (repl, (schema[c], target) if target is not None else None)
    return out


def _replacement(
    fix: Fix, col: pl.Expr, schema: pl.Schema, *, step: str, path: str
) -> pl.Expr | None:
    if fix.expression is not None:
        return compile_expr(fix.expression, schema, step=step, path=f"{path}.fix.expression")
    if fix.value is not None:
        return pl.lit(fix.value)
    return None


def _default_fix(spec: ColumnsCheck) -> Fix | None:
    if isinstance(spec, Range):
        return Fix(clamp=True)
    if isinstance(spec, Length):
        return Fix(trim=True)
    if isinstance(spec, DType):
        return Fix(coerce=spec.dtype)
    return None


def _expression_repairs(
    spec: Expression, schema: pl.Schema, *, step: str, path: str
) -> dict[str, Any]:
    if spec.action != "fix":
        return {}
    fix = spec.fix
    if spec.column is None or fix is None or (fix.value is None and fix.expression is None):
        raise check_error(
            "an expression check with action fix needs `column` and "
            "`fix: {value: ...}` or `fix: {expression: ...}`",
            step=step,
            path=f"{path}.fix",
        )
    check_columns([spec.column], schema, step=step, path=f"{path}.column")
    repl = _replacement(fix, pl.col(spec.column), schema, step=step, path=path)
    return {spec.column: (repl, None)}


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
