"""Apache Avro (fastavro): container files in and out, and the Avro ↔ Polars type mapping.

Example:
    >>> import polars as pl
    >>> from ocht.connector_avro import avro_schema, frame_schema
    >>> dict(frame_schema(avro_schema(pl.Schema({"n": pl.Int64}), name="r")))
    {'n': Int64}
"""

from ocht.connector_avro.catalog import CONNECTORS
from ocht.connector_avro.files import AvroSink, AvroSource, MalformedAvro
from ocht.connector_avro.types import (
    UnsupportedAvroType,
    avro_schema,
    frame_schema,
    polars_type,
)

__all__ = [
    "CONNECTORS",
    "AvroSink",
    "AvroSource",
    "MalformedAvro",
    "UnsupportedAvroType",
    "avro_schema",
    "frame_schema",
    "polars_type",
]
