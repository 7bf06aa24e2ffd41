"""SQL expression strings → Polars expressions, checked against a schema.

Parsing is Polars' own (``polars.sql_expr``); this module adds the checks a pipeline
author needs before any data is read: unknown columns (with the nearest existing one),
syntax errors and unsupported functions, each naming the step and the field.

A few SQL functions (``date_trunc`` among them) cannot be compiled without the column
types, which ``polars.sql_expr`` does not have. :func:`compile_column` then falls back to a
query over the frame (``SELECT *, <expr> FROM self``), checked against the real schema;
:func:`bind` applies either form, so steps need not care which one they got.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from ocht.errors import InvalidPipeline, Issue, UnknownColumn

_UNKNOWN_COL = re.compile(r'unable to find column "([^"]+)"')
_UNTYPED_COL = re.compile(r'cannot determine the type of col\("([^"]+)"\)')
_NEEDS_TYPES = "cannot determine the type"
_HELPER = "__ocht_sql_{}"


def nearest(name: str, candidates: list[str]) -> str | None:
    """The closest candidate to ``name`` (case-insensitive first), if any is close."""
    lowered = {c.lower(): c for c in candidates}
    if name.lower() in lowered:
        return lowered[name.lower()]
    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return found[0] if found else None


def unknown_column(
    column: str, schema: pl.Schema, *, step: str, path: str, within: str | None = None
) -> UnknownColumn:
    """The error for a column the step's input does not have.

    Args:
        column: the name that was not found.
        schema: the columns that exist.
        step: the step id, for messages.
        path: the field path.
        within: the name of the frame that lacks it, when it is not the step's input
            (the other side of a join, say).
    """
    columns = list(schema.names())
    best = nearest(column, columns)
    hint = f"did you mean '{best}'?" if best else f"columns: {', '.join(columns) or '(none)'}"
    where = f" in '{within}'" if within else ""
    message = f"step '{step}': unknown column '{column}'{where}"
    issue = Issue("unknown-column", message, path, hint=hint)
    return UnknownColumn(
        message + (f" (did you mean '{best}'?)" if best else ""),
        issues=[issue],
        hint=hint,
        step=step,
        column=column,
        nearest=best,
    )


def check_columns(
    names: Sequence[str], schema: pl.Schema, *, step: str, path: str, within: str | None = None
) -> None:
    """Raise :class:`UnknownColumn` for the first name the schema lacks."""
    for name in names:
        if name not in schema:
            raise unknown_column(name, schema, step=step, path=path, within=within)


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
        InvalidPipeline: ``invalid-expression`` for syntax errors or unknown functions,
            and for functions that need the column types (use :func:`compile_column`).

    Example:
        >>> import polars as pl
        >>> e = compile_expr("a * 2", pl.Schema({"a": pl.Int64}), step="s", path="p")
        >>> pl.DataFrame({"a": [1]}).select(e.alias("b")).item()
        2
    """
    expr = _parse(text, schema, step=step, path=path)
    if expr is None:
        raise invalid_expression(
            text,
            "this function needs the column types; it can be "
            "used in filter, derive, select, route and sql steps",
            step=step,
            path=path,
        )
    _check(expr, text, schema, step=step, path=path)
    return expr


def check_schema(
    frame: pl.LazyFrame, schema: pl.Schema, *, text: str, step: str, path: str
) -> pl.Schema:
    """Resolve ``frame``'s schema, turning Polars' errors into pipeline errors."""
    try:
        return frame.collect_schema()
    except pl.exceptions.ColumnNotFoundError as exc:
        m = _UNKNOWN_COL.search(str(exc))
        raise unknown_column(m.group(1) if m else "?", schema, step=step, path=path) from None
    except pl.exceptions.PolarsError as exc:
        raise invalid_expression(text, _first_line(exc), step=step, path=path) from None


@dataclass(frozen=True)
class SqlColumn:
    """A compiled SQL expression, ready to apply with :func:`bind`.

    Attributes:
        text: the SQL text.
        dtype: the type it evaluates to on the schema it was compiled against.
        expr: the Polars expression, or ``None`` when the expression is evaluated by a
            query over the frame (functions that need the column types).
    """

    text: str
    dtype: pl.DataType
    expr: pl.Expr | None = None


def compile_column(text: str, schema: pl.Schema, *, step: str, path: str) -> SqlColumn:
    """Compile a row-wise SQL expression, falling back to a query when Polars needs types.

    Raises:
        UnknownColumn: the expression names a column not in ``schema``.
        InvalidPipeline: ``invalid-expression`` for anything else that does not compile.

    Example:
        >>> import polars as pl
        >>> schema = pl.Schema({"ts": pl.Datetime()})
        >>> col = compile_column("date_trunc('day', ts)", schema, step="s", path="p")
        >>> (col.expr is None, col.dtype)
        (True, Datetime(time_unit='us', time_zone=None))
    """
    expr = _parse(text, schema, step=step, path=path)
    if expr is not None:
        return SqlColumn(text, _check(expr, text, schema, step=step, path=path), expr)
    probe = _probe(text, schema, step=step, path=path)
    out_schema = check_schema(probe, schema, text=text, step=step, path=path)
    try:
        # the query route skips some type checks until data flows: run it on no rows
        probe.collect()
    except pl.exceptions.PolarsError as exc:
        raise invalid_expression(text, _first_line(exc), step=step, path=path) from None
    return SqlColumn(text, out_schema[_HELPER.format(0)])


def compile_condition(text: str, schema: pl.Schema, *, step: str, path: str) -> SqlColumn:
    """Like :func:`compile_column`, and the expression must be true or false."""
    col = compile_column(text, schema, step=step, path=path)
    if col.dtype not in (pl.Boolean, pl.Null):
        raise invalid_expression(
            text, f"a condition must be true or false, not {col.dtype}", step=step, path=path
        )
    return col


def bind(
    frame: pl.LazyFrame, columns: Sequence[SqlColumn]
) -> tuple[pl.LazyFrame, list[pl.Expr], list[str]]:
    """Make ``columns`` computable on ``frame``.

    Returns:
        The frame (with helper columns for query-evaluated expressions), one expression
        per column, and the helper column names to drop once the expressions are used.

    Example:
        >>> import polars as pl
        >>> col = compile_column("a + 1", pl.Schema({"a": pl.Int64}), step="s", path="p")
        >>> frame, (e,), helpers = bind(pl.LazyFrame({"a": [1]}), [col])
        >>> frame.select(e).collect().item(), helpers
        (2, [])
    """
    texts = [c.text for c in columns if c.expr is None]
    if texts:
        frame = frame.sql(
            "SELECT *, "
            + ", ".join(f"{t} AS {_quote(_HELPER.format(i))}" for i, t in enumerate(texts))
            + " FROM self"
        )
    exprs: list[pl.Expr] = []
    i = 0
    for c in columns:
        if c.expr is not None:
            exprs.append(c.expr)
        else:
            exprs.append(pl.col(_HELPER.format(i)))
            i += 1
    return frame, exprs, [_HELPER.format(j) for j in range(len(texts))]


def _parse(text: str, schema: pl.Schema, *, step: str, path: str) -> pl.Expr | None:
    try:
        return pl.sql_expr(text)
    except (
        pl.exceptions.SQLInterfaceError,
        pl.exceptions.SQLSyntaxError,
        pl.exceptions.ComputeError,
    ) as exc:
        if _NEEDS_TYPES in str(exc):
            m = _UNTYPED_COL.search(str(exc))
            if m and m.group(1) not in schema:
                raise unknown_column(m.group(1), schema, step=step, path=path) from None
            return None
        raise invalid_expression(text, _first_line(exc), step=step, path=path) from None


def _check(expr: pl.Expr, text: str, schema: pl.Schema, *, step: str, path: str) -> pl.DataType:
    check_columns(expr.meta.root_names(), schema, step=step, path=path)
    out = check_schema(
        pl.LazyFrame(schema=schema).select(expr.alias("_")), schema, text=text, step=step, path=path
    )
    return out["_"]


def _probe(text: str, schema: pl.Schema, *, step: str, path: str) -> pl.LazyFrame:
    try:
        return pl.LazyFrame(schema=schema).sql(
            f"SELECT {text} AS {_quote(_HELPER.format(0))} FROM self"
        )
    except pl.exceptions.PolarsError as exc:
        m = _UNTYPED_COL.search(str(exc)) or _UNKNOWN_COL.search(str(exc))
        if m and m.group(1) not in schema:
            raise unknown_column(m.group(1), schema, step=step, path=path) from None
        raise invalid_expression(text, _first_line(exc), step=step, path=path) from None


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
