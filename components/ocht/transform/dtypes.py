"""Type names as pipeline authors write them → Polars data types, and casts between them.

Sized names follow Polars (``int8`` is 8 bits); the SQL names mean what they mean in
Polars' SQL (``int``/``integer`` 32 bits, ``bigint`` 64, ``float``/``double`` 64, ``real``
32), so a ``cast`` step and ``CAST(x AS int)`` in an expression agree.
"""

from __future__ import annotations

import re
import zoneinfo
from typing import Any

import polars as pl

from ocht.errors import InvalidPipeline
from ocht.transform.errors import step_error
from ocht.transform.expressions import nearest

_SIGNED = {8: pl.Int8(), 16: pl.Int16(), 32: pl.Int32(), 64: pl.Int64()}
_UNSIGNED = {8: pl.UInt8(), 16: pl.UInt16(), 32: pl.UInt32(), 64: pl.UInt64()}
_SIMPLE: dict[str, pl.DataType] = {
    **{f"{prefix}{bits}": t for prefix in ("int", "i") for bits, t in _SIGNED.items()},
    **{f"{prefix}{bits}": t for prefix in ("uint", "u") for bits, t in _UNSIGNED.items()},
    "tinyint": pl.Int8(),
    "smallint": pl.Int16(),
    "int": pl.Int32(),
    "integer": pl.Int32(),
    "bigint": pl.Int64(),
    "float32": pl.Float32(),
    "f32": pl.Float32(),
    "real": pl.Float32(),
    "float64": pl.Float64(),
    "f64": pl.Float64(),
    "float": pl.Float64(),
    "double": pl.Float64(),
    "string": pl.String(),
    "str": pl.String(),
    "utf8": pl.String(),
    "text": pl.String(),
    "varchar": pl.String(),
    "bool": pl.Boolean(),
    "boolean": pl.Boolean(),
    "date": pl.Date(),
    "time": pl.Time(),
    "binary": pl.Binary(),
    "bytes": pl.Binary(),
    "categorical": pl.Categorical(),
    "category": pl.Categorical(),
}
_PARAMETRIC = ("datetime", "timestamp", "duration", "decimal", "numeric", "list")
_UNITS = ("ns", "us", "ms")
_PARAMS = re.compile(r"^(?P<name>[a-z]+)\s*(?:[\[(]\s*(?P<args>.*?)\s*[\])])?$")

#: what a string means when it is cast to a boolean (case is ignored)
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")


_NAMES: dict[type[pl.DataType], str] = {
    pl.Int8: "int8",
    pl.Int16: "int16",
    pl.Int32: "int32",
    pl.Int64: "int64",
    pl.UInt8: "uint8",
    pl.UInt16: "uint16",
    pl.UInt32: "uint32",
    pl.UInt64: "uint64",
    pl.Float32: "float32",
    pl.Float64: "float64",
    pl.String: "string",
    pl.Boolean: "bool",
    pl.Date: "date",
    pl.Time: "time",
    pl.Binary: "binary",
    pl.Categorical: "categorical",
    pl.Null: "string",
}


def dtype_name(dtype: Any) -> str:
    """The pipeline spelling of a Polars type, which :func:`parse_dtype` reads back.

    Example:
        >>> dtype_name(pl.Datetime("ms", "UTC")), dtype_name(pl.List(pl.Int64))
        ('datetime[ms, UTC]', 'list[int64]')
    """
    if isinstance(dtype, type):
        dtype = dtype()
    if isinstance(dtype, pl.Datetime):
        unit = dtype.time_unit or "us"
        if dtype.time_zone:
            return f"datetime[{unit}, {dtype.time_zone}]"
        return "datetime" if unit == "us" else f"datetime[{unit}]"
    if isinstance(dtype, pl.Duration):
        return f"duration[{dtype.time_unit or 'us'}]"
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision},{dtype.scale})"
    if isinstance(dtype, pl.List):
        return f"list[{dtype_name(dtype.inner)}]"
    if isinstance(dtype, pl.Struct):
        inner = ", ".join(f"{f.name}: {dtype_name(f.dtype)}" for f in dtype.fields)
        return f"struct[{inner}]"
    return _NAMES.get(type(dtype), str(dtype).lower())


def parse_dtype(text: str, *, step: str | None = None, path: str = "") -> pl.DataType:
    """The Polars data type a type name stands for.

    Args:
        text: e.g. ``int64``, ``double``, ``string``, ``datetime[ms]``,
            ``datetime[us, UTC]``, ``decimal(10,2)``, ``list[int64]``.
        step: the step id, for messages.
        path: the field path, for messages.

    Raises:
        InvalidPipeline: ``invalid-type``, with the nearest known name as a hint.

    Example:
        >>> parse_dtype("datetime[ms, UTC]")
        Datetime(time_unit='ms', time_zone='UTC')
        >>> parse_dtype("decimal(10, 2)")
        Decimal(precision=10, scale=2)
    """
    key = text.strip().lower()
    if key in _SIMPLE:
        return _SIMPLE[key]
    m = _PARAMS.match(key)
    if m is None or m["name"] not in _PARAMETRIC:
        raise _bad_type(text, "unknown type", step=step, path=path)
    name, raw = m["name"], m["args"]
    # time zones are case-sensitive: take the arguments from the original text
    args = [] if raw is None else [a.strip() for a in _raw_args(text).split(",")]
    try:
        if name in ("datetime", "timestamp"):
            unit = args[0].lower() if args else "us"
            zone = args[1] if len(args) > 1 else None
            if unit not in _UNITS or len(args) > 2:
                raise ValueError(
                    "expected datetime[unit] or datetime[unit, zone], unit one of ns, us, ms"
                )
            if zone is not None and not _known_zone(zone):
                raise ValueError(f"unknown time zone '{zone}'")
            return pl.Datetime(unit, zone)  # type: ignore[arg-type]
        if name == "duration":
            unit = args[0].lower() if args else "us"
            if unit not in _UNITS or len(args) > 1:
                raise ValueError("expected duration[unit], unit one of ns, us, ms")
            return pl.Duration(unit)  # type: ignore[arg-type]
        if name in ("decimal", "numeric"):
            if len(args) > 2:
                raise ValueError("expected decimal(precision, scale)")
            if not all(a.isdigit() for a in args):
                raise ValueError("precision and scale must be whole numbers")
            precision = int(args[0]) if args else None
            scale = int(args[1]) if len(args) > 1 else 0
            return pl.Decimal(precision, scale)
        if not args:
            raise ValueError("expected list[type]")
        return pl.List(parse_dtype(_raw_args(text), step=step, path=path))
    except ValueError as exc:
        raise _bad_type(text, str(exc), step=step, path=path) from None


_FORMAT = re.compile(
    r"^\s*(?P<name>datetime|timestamp|date|time)\s*\(\s*(?P<q>['\"])(?P<fmt>.*?)(?P=q)"
    r"\s*(?:,\s*(?P<rest>.*?))?\s*\)\s*$",
    re.IGNORECASE | re.DOTALL,
)


def parse_dtype_format(
    text: str, *, step: str | None = None, path: str = ""
) -> tuple[pl.DataType, str | None]:
    """A type name that may carry the text format its values are written in.

    ``datetime('%d/%m/%Y %H:%M')``, ``date('%d.%m.%Y')``, ``time('%H.%M')`` and
    ``datetime('%Y-%m-%dT%H:%M:%S%z', us, UTC)`` name the type and the ``strptime`` format
    (Polars/chrono directives) used to read text into it; every other name is read by
    :func:`parse_dtype` and has no format.

    Raises:
        InvalidPipeline: ``invalid-type``, as :func:`parse_dtype`.

    Example:
        >>> parse_dtype_format("datetime('%d/%m/%Y %H:%M')")
        (Datetime(time_unit='us', time_zone=None), '%d/%m/%Y %H:%M')
        >>> parse_dtype_format("int64")
        (Int64, None)
    """
    m = _FORMAT.match(text)
    if m is None:
        return parse_dtype(text, step=step, path=path), None
    name, rest = m["name"].lower(), m["rest"]
    if rest and name in ("datetime", "timestamp"):
        return parse_dtype(f"datetime[{rest}]", step=step, path=path), m["fmt"]
    if rest:
        raise _bad_type(text, f"{name}(format) takes no other argument", step=step, path=path)
    return parse_dtype(name, step=step, path=path), m["fmt"]


def cast_expr(
    expr: pl.Expr, source: pl.DataType, target: pl.DataType, *, strict: bool = True
) -> pl.Expr:
    """``expr`` (of type ``source``) converted to ``target``.

    Strings are parsed into dates, datetimes, times and booleans (Polars' plain cast does
    not); ``strict=False`` gives null where a value does not convert.

    Example:
        >>> import polars as pl
        >>> e = cast_expr(pl.col("s"), pl.String(), pl.Boolean(), strict=False)
        >>> pl.DataFrame({"s": ["Yes", "0", "maybe"]}).select(e).to_series().to_list()
        [True, False, None]
    """
    if source == pl.String:
        if target == pl.Date:
            return expr.str.to_date(strict=strict)
        if target == pl.Time:
            return expr.str.to_time(strict=strict)
        if isinstance(target, pl.Datetime):
            return expr.str.to_datetime(
                time_unit=target.time_unit, time_zone=target.time_zone, strict=strict
            )
        if target == pl.Boolean:
            words = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
            lowered = expr.str.strip_chars().str.to_lowercase()
            if strict:
                return lowered.replace_strict(words, return_dtype=pl.Boolean)
            return lowered.replace_strict(words, default=None, return_dtype=pl.Boolean)
    return expr.cast(target, strict=strict)


def castable(source: pl.DataType, target: pl.DataType) -> bool:
    """Whether a cast from ``source`` to ``target`` can work at all (values aside)."""
    nested_source = source.is_nested()
    nested_target = target.is_nested()
    if nested_source or nested_target:
        # nested ↔ nested casts element types; Polars refuses nested ↔ scalar
        return nested_source and nested_target
    return not (source.is_temporal() and target == pl.Boolean)


def _known_zone(zone: str) -> bool:
    try:
        zoneinfo.ZoneInfo(zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _raw_args(text: str) -> str:
    inner = text.strip()
    start = min(i for i in (inner.find("["), inner.find("(")) if i >= 0)
    return inner[start + 1 : -1].strip()


def _bad_type(text: str, reason: str, *, step: str | None, path: str) -> InvalidPipeline:
    hint = None
    if reason == "unknown type":
        best = nearest(text.strip().split("[")[0].split("(")[0], [*_SIMPLE, *_PARAMETRIC])
        hint = (
            f"did you mean '{best}'?"
            if best
            else "e.g. int64, float64, string, bool, date, datetime[ms, UTC], decimal(10,2)"
        )
    return step_error(
        "invalid-type", f"invalid type '{text}': {reason}", step=step, path=path, hint=hint
    )
