"""Conversions and durations used by checks (type names are read by
:func:`ocht.transform.parse_dtype`, the pipeline's one vocabulary of types).

Example:
    >>> parse_duration("15m").total_seconds()
    900.0
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl

from ocht.quality.errors import check_error

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


def require_text(cols: list[str], schema: pl.Schema, *, step: str, path: str) -> None:
    """Raise ``invalid-type`` unless every column in ``cols`` is text."""
    for c in cols:
        if schema[c] != pl.String():
            raise check_error(
                f"column '{c}' is {schema[c]}, this check needs text",
                step=step,
                path=f"{path}.columns",
                code="invalid-type",
                hint="add a cast step before the check, or a dtype check",
            )


def bound(value: Any, dtype: pl.DataType, *, step: str, path: str) -> Any:
    """A range bound as a value comparable with a ``dtype`` column (dates parsed)."""
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
