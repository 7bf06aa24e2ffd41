"""Frames to database values and back, per dialect."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

_TS_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_TSTZ_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z")


def json_text(series: pl.Series) -> pl.Series:
    """Nested values (Struct, List, Array) as JSON text."""
    if isinstance(series.dtype, pl.Struct):
        encoded = series.struct.json_encode()
        out = pl.select(pl.when(series.is_null()).then(None).otherwise(encoded)).to_series()
        return out.alias(series.name)
    values = [None if v is None else json.dumps(v, default=str) for v in series.to_list()]
    return pl.Series(series.name, values, dtype=pl.String)


def _is_nested(dtype: pl.DataType) -> bool:
    return isinstance(dtype, pl.Struct | pl.List | pl.Array | pl.Object)


def for_copy(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every column in a form PostgreSQL's CSV COPY parses."""
    exprs: list[pl.Expr] = []
    replace: dict[str, pl.Series] = {}
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if isinstance(dtype, pl.Duration):
            exprs.append(pl.format("{} microseconds", col.dt.total_microseconds()).alias(name))
        elif dtype == pl.Binary:
            exprs.append(pl.concat_str(pl.lit("\\x"), col.bin.encode("hex")).alias(name))
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            exprs.append(col.cast(pl.String))
        elif _is_nested(dtype):
            replace[name] = json_text(frame.get_column(name))
    if exprs:
        frame = frame.with_columns(exprs)
    if replace:
        frame = frame.with_columns(list(replace.values()))
    return frame


def for_driver(frame: pl.DataFrame, *, dialect: str) -> pl.DataFrame:
    """``frame`` with values the DB-API driver of ``dialect`` binds as they should be stored.

    sqlite3 binds neither Decimal nor (without deprecated adapters) dates: they become text
    in the ISO forms the reader parses back; durations become microseconds.
    """
    exprs: list[pl.Expr] = []
    replace: list[pl.Series] = []
    sqlite = dialect == "sqlite"
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if _is_nested(dtype):
            replace.append(json_text(frame.get_column(name)))
        elif isinstance(dtype, pl.Categorical | pl.Enum):
            exprs.append(col.cast(pl.String))
        elif not sqlite:
            continue
        elif isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                exprs.append(col.dt.strftime("%Y-%m-%d %H:%M:%S.%6f"))
            else:
                utc = col.dt.convert_time_zone("UTC")
                exprs.append(utc.dt.strftime("%Y-%m-%d %H:%M:%S.%6f+00:00"))
        elif dtype == pl.Date:
            exprs.append(col.dt.strftime("%Y-%m-%d"))
        elif dtype == pl.Time:
            exprs.append(col.dt.strftime("%H:%M:%S.%6f"))
        elif isinstance(dtype, pl.Duration):
            exprs.append(col.dt.total_microseconds())
        elif isinstance(dtype, pl.Decimal):
            exprs.append(col.cast(pl.String))
        elif dtype == pl.Boolean:
            exprs.append(col.cast(pl.Int64))
        elif dtype in (pl.UInt64, pl.Int128, pl.UInt128):
            exprs.append(col.cast(pl.String))
    if exprs:
        frame = frame.with_columns(exprs)
    if replace:
        frame = frame.with_columns(replace)
    return frame


def rows_to_frame(
    rows: Sequence[Sequence[Any]], names: Sequence[str], schema: pl.Schema
) -> pl.DataFrame:
    """Rows fetched through the driver as a frame of exactly ``schema``."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    series = [
        _series(name, list(values), schema[name])
        for name, values in zip(names, columns, strict=True)
    ]
    return pl.DataFrame(series)


def _series(name: str, values: list[Any], dtype: pl.DataType) -> pl.Series:
    try:  # the fast, common case: the driver gave values of the right Python type
        return pl.Series(name, values, dtype=dtype, strict=True)
    except (TypeError, ValueError, pl.exceptions.PolarsError):
        pass
    raw = pl.Series(name, values, strict=False, dtype=_loose_dtype(values))
    return coerce(raw, dtype)


def _loose_dtype(values: Iterable[Any]) -> pl.DataType | None:
    kinds = {type(v) for v in values if v is not None}
    if kinds and all(k in (dict, list) for k in kinds):
        return pl.Object()
    if len(kinds) > 1:  # SQLite: a column may mix ints, floats and text
        return pl.String() if str in kinds else pl.Float64()
    return None


def coerce(series: pl.Series, dtype: pl.DataType) -> pl.Series:
    """``series`` (as the driver returned it) cast to ``dtype``; values that do not parse fail.

    Raises:
        ValueError: naming the column and the first value that did not convert.
    """
    if series.dtype == dtype:
        return series
    name = series.name
    if series.dtype == pl.Object:
        series = pl.Series(
            name,
            [None if v is None else json.dumps(v, default=str) for v in series.to_list()],
            dtype=pl.String,
        )
    if dtype == pl.String:
        return series.cast(pl.String)
    src = series.dtype
    try:
        if src == pl.String and isinstance(dtype, pl.Datetime):
            out = _parse_datetime(series, dtype)
        elif src == pl.String and dtype == pl.Date:
            out = series.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
        elif src == pl.String and dtype == pl.Time:
            out = series.str.to_time("%H:%M:%S%.f", strict=False)
        elif src == pl.String and dtype == pl.Boolean:
            lowered = series.str.to_lowercase()
            out = pl.select(
                pl.when(lowered.is_in(["t", "true", "1", "yes"]))
                .then(True)
                .when(lowered.is_in(["f", "false", "0", "no"]))
                .then(False)
                .otherwise(None)
            ).to_series()
        elif isinstance(dtype, pl.Decimal) and src.is_float():
            out = series.round(dtype.scale or 0).cast(pl.String).cast(dtype, strict=False)
        elif isinstance(dtype, pl.Datetime) and isinstance(src, pl.Datetime):
            out = (
                series.dt.convert_time_zone(dtype.time_zone)
                if src.time_zone and dtype.time_zone
                else series.dt.replace_time_zone(dtype.time_zone)
            )
            out = out.dt.cast_time_unit(dtype.time_unit or "us")
        elif isinstance(dtype, pl.Duration) and src.is_integer():
            out = series.cast(pl.Int64).cast(pl.Duration("us")).cast(dtype)
        elif dtype == pl.Binary and src == pl.String:
            out = series.cast(pl.Binary)
        else:
            out = series.cast(dtype, strict=False)
    except pl.exceptions.PolarsError as exc:
        raise ValueError(f"column '{name}': cannot read {src} values as {dtype}: {exc}") from None
    out = out.alias(name)
    lost = series.is_not_null() & out.is_null()
    if lost.any():
        bad = series.filter(lost)[0]
        raise ValueError(f"column '{name}': value {bad!r} does not convert to {dtype}")
    return out


def _parse_datetime(series: pl.Series, dtype: pl.Datetime) -> pl.Series:
    unit = dtype.time_unit or "us"
    naive = [series.str.to_datetime(f, time_unit=unit, strict=False) for f in _TS_FORMATS]
    parsed = pl.select(pl.coalesce(naive)).to_series()
    if dtype.time_zone is None:
        return parsed
    aware = [
        series.str.to_datetime(f, time_unit=unit, time_zone="UTC", strict=False)
        for f in _TSTZ_FORMATS
    ]
    naive_utc = parsed.dt.replace_time_zone("UTC")  # stored without offset: taken as UTC
    out = pl.select(pl.coalesce([*aware, naive_utc])).to_series()
    return out.dt.convert_time_zone(dtype.time_zone)
