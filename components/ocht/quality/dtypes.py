"""Type names and conversions used by checks: ``int64``, ``date``, durations like ``1d``.

Example:
    >>> parse_dtype("int64", step="s", path="p")
    Int64
    >>> parse_duration("15m").total_seconds()
    900.0
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import polars as pl

from ocht.quality.errors import check_error

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
