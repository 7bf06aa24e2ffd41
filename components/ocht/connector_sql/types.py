"""SQL types ↔ Polars dtypes.

Reading maps a database type name (PostgreSQL's ``int4``, ``numeric``, ``timestamptz``;
SQLite's declared type; SQLAlchemy's rendering elsewhere) to a Polars dtype:

=============================  ===================================================
SQL                            Polars
=============================  ===================================================
boolean                        Boolean
smallint / integer / bigint    Int16 / Int32 / Int64 (SQLite integers: Int64)
numeric(p, s) / decimal        Decimal(p, s); unconstrained numeric: Decimal(38, 9)
real / double precision        Float32 / Float64 (SQLite REAL: Float64)
text, varchar, char, uuid      String
json / jsonb                   String holding the JSON text (documents need not share
                               a shape, so a Struct would be unsafe; use
                               ``str.json_decode`` in a step when they do)
date                           Date
timestamp                      Datetime("us")
timestamp with time zone       Datetime("us", "UTC")
time                           Time
interval                       Duration("us")
bytea / blob                   Binary
arrays, enums, anything else   String (the database's text form)
=============================  ===================================================

Writing maps each Polars dtype back to a column type of the target dialect (Struct and
List become JSONB on PostgreSQL, JSON text elsewhere).
"""

from __future__ import annotations

import re

import polars as pl

#: scale given to an unconstrained NUMERIC (PostgreSQL ``numeric`` without (p, s))
DEFAULT_DECIMAL = pl.Decimal(38, 9)

_ARGS = re.compile(r"\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\)")


def dtype_from_sql(
    name: str, *, dialect: str, precision: int | None = None, scale: int | None = None
) -> pl.DataType:
    """The Polars dtype for a column of SQL type ``name`` read from ``dialect``.

    Example:
        >>> dtype_from_sql("NUMERIC(10, 2)", dialect="sqlite")
        Decimal(precision=10, scale=2)
    """
    text = name.strip().lower()
    args = _ARGS.search(text)
    base = _ARGS.sub("", text).strip()
    if args:
        precision = int(args.group(1)) if precision is None else precision
        scale = int(args.group(2)) if args.group(2) is not None and scale is None else scale
    sqlite = dialect == "sqlite"
    if base.startswith("_") or base.endswith("[]") or base == "array":
        return pl.String()
    if base in ("bool", "boolean"):
        return pl.Boolean()
    if base in ("int2", "smallint", "tinyint"):
        return pl.Int64() if sqlite else pl.Int16()
    if base in ("int4", "integer", "int", "mediumint", "serial"):
        return pl.Int64() if sqlite else pl.Int32()
    if base in ("int8", "bigint", "bigserial", "long"):
        return pl.Int64()
    if base in ("numeric", "decimal", "number", "dec"):
        if precision is None or precision <= 0:
            return DEFAULT_DECIMAL
        return pl.Decimal(min(precision, 76), scale or 0)
    if base in ("float4", "real") and not sqlite:
        return pl.Float32()
    if base in ("float4", "float8", "real", "double precision", "double", "float"):
        return pl.Float64()
    if base in ("date",):
        return pl.Date()
    if base in ("timestamptz", "timestamp with time zone", "datetimetz", "datetimeoffset"):
        return pl.Datetime("us", "UTC")
    if base in ("timestamp", "timestamp without time zone", "datetime", "datetime2"):
        return pl.Datetime("us")
    if base in ("time", "time without time zone"):
        return pl.Time()
    if base == "interval":
        return pl.Duration("us")
    if base in ("bytea", "blob", "binary", "varbinary", "longblob", "largebinary"):
        return pl.Binary()
    if sqlite:  # SQLite's affinity rules for any other declared type
        if "int" in base:
            return pl.Int64()
        if any(k in base for k in ("real", "floa", "doub")):
            return pl.Float64()
    return pl.String()


def sql_type_for(dtype: pl.DataType, *, dialect: str) -> str:
    """The column type to create for a Polars ``dtype`` in ``dialect``.

    Example:
        >>> sql_type_for(pl.Datetime("us", "UTC"), dialect="postgresql")
        'TIMESTAMPTZ'
    """
    pg = dialect == "postgresql"
    if dtype == pl.Boolean:
        return "BOOLEAN"
    if dtype in (pl.Int8, pl.Int16, pl.UInt8):
        return "SMALLINT"
    if dtype in (pl.Int32, pl.UInt16):
        return "INTEGER"
    if dtype in (pl.Int64, pl.UInt32):
        return "BIGINT"
    if dtype in (pl.UInt64, pl.Int128, pl.UInt128):
        return "NUMERIC(39, 0)" if dtype != pl.UInt64 else "NUMERIC(20, 0)"
    if dtype == pl.Float32:
        return "REAL"
    if dtype == pl.Float64:
        return "DOUBLE PRECISION"
    if isinstance(dtype, pl.Decimal):
        return f"NUMERIC({dtype.precision or 38}, {dtype.scale or 0})"
    if dtype == pl.Date:
        return "DATE"
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            return "TIMESTAMP"
        return "TIMESTAMPTZ" if dialect in ("postgresql", "sqlite") else "TIMESTAMP"
    if dtype == pl.Time:
        return "TIME"
    if isinstance(dtype, pl.Duration):
        return "INTERVAL" if dialect in ("postgresql", "sqlite") else "BIGINT"
    if dtype == pl.Binary:
        return "BYTEA" if pg else "BLOB"
    if isinstance(dtype, pl.Struct | pl.List | pl.Array | pl.Object):
        return "JSONB" if pg else "JSON"
    return "TEXT"


def family(dtype: pl.DataType) -> str:
    """A coarse kind used to tell a real type change from a harmless width difference."""
    if dtype == pl.Null:
        return "null"
    if dtype.is_integer():
        return "integer"
    if dtype.is_float():
        return "float"
    if isinstance(dtype, pl.Decimal):
        return "decimal"
    if isinstance(dtype, pl.Datetime):
        return "timestamptz" if dtype.time_zone else "timestamp"
    if isinstance(dtype, pl.Struct | pl.List | pl.Array):
        return "nested"
    if dtype in (pl.String, pl.Categorical) or isinstance(dtype, pl.Enum):
        return "string"
    return str(dtype.base_type()).lower()


def fits(data: pl.DataType, table: pl.DataType) -> bool:
    """Whether values of dtype ``data`` can go into a column read back as ``table``.

    Same family (the database checks ranges), nulls anywhere, integers into floats or
    decimals, nested values into JSON text columns.
    """
    have, want = family(data), family(table)
    if have == want or have == "null":
        return True
    if have == "integer" and want in ("float", "decimal"):
        return True
    return have == "nested" and want == "string"
