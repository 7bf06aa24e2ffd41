"""Avro schemas ↔ Polars types, explicitly, logical types included.

| Avro | Polars |
|---|---|
| boolean, int, long, float, double | Boolean, Int32, Int64, Float32, Float64 |
| string, enum, uuid | String |
| bytes, fixed | Binary |
| decimal (bytes or fixed) | Decimal(precision, scale) |
| date | Date |
| time-millis, time-micros | Time |
| timestamp-millis, timestamp-micros | Datetime(ms / us, UTC) |
| local-timestamp-millis, local-timestamp-micros | Datetime(ms / us) |
| record | Struct |
| array | List |
| map | List(Struct{key, value}) |
| ["null", T] | T (nullable) |
"""

from __future__ import annotations

from typing import Any

import polars as pl

from ocht.errors import OchtError


class UnsupportedAvroType(OchtError):
    """An Avro schema construct with no Polars column type (a union of several types)."""

    code = "unsupported-avro-type"


def polars_type(schema: Any, *, where: str = "") -> pl.DataType:
    """The Polars type of an Avro (sub)schema.

    Example:
        >>> polars_type({"type": "long", "logicalType": "timestamp-micros"})
        Datetime(time_unit='us', time_zone='UTC')
        >>> polars_type(["null", "string"])
        String
    """
    if isinstance(schema, list):
        kinds = [s for s in schema if s != "null"]
        if len(kinds) != 1:
            raise UnsupportedAvroType(
                f"{where or 'a field'}: the union {schema} has no single column type",
                hint="read it as a nullable single type, or split it upstream",
            )
        return polars_type(kinds[0], where=where)
    if isinstance(schema, str):
        return _PRIMITIVE.get(schema) or _named(schema, where)
    kind = schema.get("type")
    logical = schema.get("logicalType")
    if logical == "decimal":
        return pl.Decimal(int(schema["precision"]), int(schema.get("scale", 0)))
    if logical in _LOGICAL:
        return _LOGICAL[logical]
    if kind == "record":
        return pl.Struct(
            {
                f["name"]: polars_type(f["type"], where=f"{where}.{f['name']}")
                for f in schema["fields"]
            }
        )
    if kind == "array":
        return pl.List(polars_type(schema["items"], where=f"{where}[]"))
    if kind == "map":
        return pl.List(pl.Struct({"key": pl.String, "value": polars_type(schema["values"])}))
    if kind == "enum":
        return pl.String()
    if kind == "fixed":
        return pl.Binary()
    if isinstance(kind, str | list | dict):
        return polars_type(kind, where=where)
    raise UnsupportedAvroType(f"{where}: unknown Avro type {schema!r}")


def frame_schema(avro: dict[str, Any]) -> pl.Schema:
    """The Polars schema of a top-level Avro record schema."""
    if avro.get("type") != "record":
        raise UnsupportedAvroType("the Avro schema is not a record", hint="write records")
    return pl.Schema({f["name"]: polars_type(f["type"], where=f["name"]) for f in avro["fields"]})


def avro_schema(schema: pl.Schema, *, name: str) -> dict[str, Any]:
    """An Avro record schema for ``schema`` (every field nullable).

    Example:
        >>> avro_schema(pl.Schema({"d": pl.Date}), name="r")["fields"][0]["type"]
        ['null', {'type': 'int', 'logicalType': 'date'}]
    """
    counter = iter(range(1_000_000))
    return {
        "type": "record",
        "name": _safe(name),
        "fields": [
            {"name": col, "type": ["null", _avro_type(dtype, col, counter)], "default": None}
            for col, dtype in schema.items()
        ],
    }


def _avro_type(dtype: Any, where: str, counter: Any) -> Any:
    if isinstance(dtype, pl.Decimal):
        return {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": dtype.precision or 38,
            "scale": dtype.scale or 0,
        }
    if isinstance(dtype, pl.Datetime):
        unit = "millis" if dtype.time_unit == "ms" else "micros"
        prefix = "timestamp" if dtype.time_zone else "local-timestamp"
        return {"type": "long", "logicalType": f"{prefix}-{unit}"}
    if isinstance(dtype, pl.Struct):
        return {
            "type": "record",
            "name": f"{_safe(where)}_{next(counter)}",
            "fields": [
                {"name": f.name, "type": ["null", _avro_type(f.dtype, f.name, counter)]}
                for f in dtype.fields
            ],
        }
    if isinstance(dtype, pl.List | pl.Array):
        return {"type": "array", "items": ["null", _avro_type(dtype.inner, where, counter)]}
    for polars_kind, avro in _OUT:
        if isinstance(dtype, polars_kind):
            return avro
    raise UnsupportedAvroType(
        f"column '{where}': {dtype} has no Avro type", hint="cast it (to str, or a number)"
    )


def _named(name: str, where: str) -> pl.DataType:
    raise UnsupportedAvroType(f"{where}: named type '{name}' is not supported here")


def _safe(name: str) -> str:
    out = "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "record"
    return out if not out[0].isdigit() else f"_{out}"


_PRIMITIVE: dict[str, pl.DataType] = {
    "null": pl.Null(),
    "boolean": pl.Boolean(),
    "int": pl.Int32(),
    "long": pl.Int64(),
    "float": pl.Float32(),
    "double": pl.Float64(),
    "bytes": pl.Binary(),
    "string": pl.String(),
}

_LOGICAL: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "time-millis": pl.Time(),
    "time-micros": pl.Time(),
    "timestamp-millis": pl.Datetime("ms", "UTC"),
    "timestamp-micros": pl.Datetime("us", "UTC"),
    "local-timestamp-millis": pl.Datetime("ms"),
    "local-timestamp-micros": pl.Datetime("us"),
    "uuid": pl.String(),
}

_OUT: tuple[tuple[type[pl.DataType], Any], ...] = (
    (pl.Boolean, "boolean"),
    (pl.Int8, "int"),
    (pl.Int16, "int"),
    (pl.Int32, "int"),
    (pl.UInt8, "int"),
    (pl.UInt16, "int"),
    (pl.Int64, "long"),
    (pl.UInt32, "long"),
    (pl.Float32, "float"),
    (pl.Float64, "double"),
    (pl.String, "string"),
    (pl.Categorical, "string"),
    (pl.Enum, "string"),
    (pl.Binary, "bytes"),
    (pl.Date, {"type": "int", "logicalType": "date"}),
    (pl.Time, {"type": "long", "logicalType": "time-micros"}),
)
