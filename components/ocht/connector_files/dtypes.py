"""Type names in an input's ``schema`` (``int``, ``datetime[ms, UTC]``, ``list[str]``) as
Polars types. Private to this brick: pipelines name types in plain words.
"""

from __future__ import annotations

import re

import polars as pl

from ocht.errors import InvalidPipeline, Issue

_SIMPLE: dict[str, pl.DataType] = {
    **dict.fromkeys(["int", "integer", "bigint", "long", "int64", "i64"], pl.Int64()),
    **dict.fromkeys(["int32", "i32"], pl.Int32()),
    **dict.fromkeys(["smallint", "int16", "i16"], pl.Int16()),
    **dict.fromkeys(["tinyint", "int8", "i8"], pl.Int8()),
    **dict.fromkeys(["uint64", "u64"], pl.UInt64()),
    **dict.fromkeys(["uint32", "u32"], pl.UInt32()),
    **dict.fromkeys(["uint16", "u16"], pl.UInt16()),
    **dict.fromkeys(["uint8", "u8"], pl.UInt8()),
    **dict.fromkeys(["float", "double", "float64", "f64"], pl.Float64()),
    **dict.fromkeys(["real", "float32", "f32"], pl.Float32()),
    **dict.fromkeys(["str", "string", "utf8", "text", "varchar"], pl.String()),
    **dict.fromkeys(["bool", "boolean"], pl.Boolean()),
    "date": pl.Date(),
    **dict.fromkeys(["datetime", "timestamp"], pl.Datetime("us")),
    "time": pl.Time(),
    "duration": pl.Duration("us"),
    **dict.fromkeys(["binary", "bytes"], pl.Binary()),
    "null": pl.Null(),
}

_DATETIME = re.compile(
    r"^(?:datetime|timestamp)\[\s*(ns|us|ms)\s*(?:,\s*([^\]]+?)\s*)?\]$", re.IGNORECASE
)
_DECIMAL = re.compile(r"^decimal(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?$")
_LIST = re.compile(r"^list\s*[\[<](.+)[\]>]$", re.IGNORECASE)


def parse_dtype(name: str) -> pl.DataType | None:
    """The Polars type for a type name, or ``None`` when the name is not known.

    Example:
        >>> parse_dtype("list[int]")
        List(Int64)
    """
    text = name.strip().lower()
    if text in _SIMPLE:
        return _SIMPLE[text]
    if m := _DATETIME.match(name.strip()):
        return pl.Datetime(m.group(1).lower(), m.group(2))  # type: ignore[arg-type]
    if m := _DECIMAL.match(text):
        precision = int(m.group(1)) if m.group(1) else 38
        return pl.Decimal(precision, int(m.group(2) or 0))
    if m := _LIST.match(name.strip()):
        inner = parse_dtype(m.group(1))
        return pl.List(inner) if inner is not None else None
    return None


def parse_schema(types: dict[str, str], *, where: str) -> dict[str, pl.DataType]:
    """Every column's type parsed.

    Raises:
        InvalidPipeline: ``unknown-type`` for a name that is not a type, with the names
            that are.
    """
    out: dict[str, pl.DataType] = {}
    for column, name in types.items():
        dtype = parse_dtype(name)
        if dtype is None:
            msg = f"{where}: column '{column}' has an unknown type '{name}'"
            hint = "use one of " + ", ".join(
                sorted(
                    {
                        "int",
                        "int32",
                        "float",
                        "str",
                        "bool",
                        "date",
                        "datetime",
                        "time",
                        "duration",
                        "decimal(p,s)",
                        "datetime[ms, UTC]",
                        "list[int]",
                    }
                )
            )
            raise InvalidPipeline(
                msg,
                issues=[Issue("unknown-type", msg, f"{where}.{column}", hint=hint)],
                code="unknown-type",
                hint=hint,
                column=column,
            )
        out[column] = dtype
    return out
