"""SQL expression strings → Polars expressions, checked against a schema.

Parsing is Polars' own (``polars.sql_expr``); this module adds the checks a pipeline
author needs before any data is read: unknown columns (with the nearest existing one),
syntax errors and unsupported functions, each naming the step and the field.
"""

from __future__ import annotations

import difflib
import re

import polars as pl

from ocht.errors import InvalidPipeline, Issue, UnknownColumn

_UNKNOWN_COL = re.compile(r'unable to find column "([^"]+)"')


def nearest(name: str, candidates: list[str]) -> str | None:
    """The closest candidate to ``name`` (case-insensitive first), if any is close."""
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return found[0] if found else None


def unknown_column(column: str, schema: pl.Schema, *, step: str, path: str) -> UnknownColumn:
    """The error for a column the step's input does not have."""
    columns = list(schema.names())
    best = nearest(column, columns)
    hint = f"did you mean '{best}'?" if best else f"columns: {', '.join(columns) or '(none)'}"
    issue = Issue("unknown-column", f"step '{step}': unknown column '{column}'", path, hint=hint)
    return UnknownColumn(
        f"step '{step}': unknown column '{column}'"
        + (f" (did you mean '{best}'?)" if best else ""),
        issues=[issue], hint=hint, step=step, column=column, nearest=best,
    )


def check_columns(names: list[str] | tuple[str, ...], schema: pl.Schema, *, step: str,
                  path: str) -> None:
    """Raise :class:`UnknownColumn` for the first name the schema lacks."""
    for name in names:
        if name not in schema:
            raise unknown_column(name, schema, step=step, path=path)


def invalid_expression(text: str, reason: str, *, step: str, path: str) -> InvalidPipeline:
    """The error for an expression that does not parse or compile."""
    message = f"step '{step}': invalid expression `{text}`: {reason}"
    issue = Issue("invalid-expression", message, path)
    return InvalidPipeline(message, issues=[issue], code="invalid-expression", step=step)


def compile_expr(text: str, schema: pl.Schema, *, step: str, path: str) -> pl.Expr:
    """Compile one SQL expression and check it against ``schema``.

    Args:
        text: a SQL expression, e.g. ``amount * 0.92`` or ``sum(amount)``.
        schema: the columns the expression may use.
        step: the step id, for messages.
        path: the field path, e.g. ``steps[1].columns.eur``.

    Raises:
        UnknownColumn: the expression names a column not in ``schema``.
        InvalidPipeline: ``invalid-expression`` for syntax errors or unknown functions.

    Example:
        >>> import polars as pl
        >>> e = compile_expr("a * 2", pl.Schema({"a": pl.Int64}), step="s", path="p")
        >>> pl.DataFrame({"a": [1]}).select(e.alias("b")).item()
        2
    """
    try:
        expr = pl.sql_expr(text)
    except (pl.exceptions.SQLInterfaceError, pl.exceptions.SQLSyntaxError,
            pl.exceptions.ComputeError) as exc:
        raise invalid_expression(text, _first_line(exc), step=step, path=path) from None
    check_columns(expr.meta.root_names(), schema, step=step, path=path)
    check_schema(pl.LazyFrame(schema=schema).select(expr), schema, text=text, step=step,
                 path=path)
    return expr


def check_schema(frame: pl.LazyFrame, schema: pl.Schema, *, text: str, step: str,
                 path: str) -> pl.Schema:
    """Resolve ``frame``'s schema, turning Polars' errors into pipeline errors."""
    try:
        return frame.collect_schema()
    except pl.exceptions.ColumnNotFoundError as exc:
        m = _UNKNOWN_COL.search(str(exc))
        raise unknown_column(m.group(1) if m else "?", schema, step=step, path=path) from None
    except pl.exceptions.PolarsError as exc:
        raise invalid_expression(text, _first_line(exc), step=step, path=path) from None


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
