"""What ``action: fix`` does to a failing value: trim, coerce, clamp, fill.

Each function returns, per repaired column, ``(replacement expression, conversion)``;
:mod:`ocht.quality.step` applies it where the check's flag is set.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ocht.pipeline_model import ColumnsCheck, DType, Expression, Fix, Length, Range, Unique
from ocht.quality.dtypes import bound, require_text
from ocht.quality.errors import check_error
from ocht.transform import check_columns, compile_expr, parse_dtype


def repairs_for(
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
                require_text([c], schema, step=step, path=path)
                repl = repl.str.strip_chars()
            if isinstance(spec, Length) and spec.max is not None and schema[c] == pl.String():
                repl = repl.str.slice(0, spec.max)
            if fix.clamp or isinstance(spec, Range):
                if not isinstance(spec, Range):
                    raise check_error(
                        "clamp needs a range check", step=step, path=f"{path}.fix.clamp"
                    )
                lo = bound(spec.min, schema[c], step=step, path=f"{path}.min")
                hi = bound(spec.max, schema[c], step=step, path=f"{path}.max")
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


def expression_repairs(
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
