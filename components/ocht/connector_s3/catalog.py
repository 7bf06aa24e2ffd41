"""The connector types this brick serves for object-store URLs (``s3://``, ``gs://``, ``az://``).

The registry hands a ``csv``, ``parquet``, ``ndjson`` or ``json`` input or output whose
``path`` is an object-store URL to these classes instead of the local-file ones.
"""

from __future__ import annotations

from ocht.connector_s3.sinks import CsvObjectSink, NdjsonObjectSink, ParquetObjectSink
from ocht.connector_s3.sources import (
    CsvObjectSource,
    JsonObjectSource,
    NdjsonObjectSource,
    ParquetObjectSource,
)
from ocht.pipeline_model import CsvConnector, JsonConnector, NdjsonConnector, ParquetConnector
from ocht.registry import ConnectorType

CONNECTORS: tuple[ConnectorType, ...] = (
    ConnectorType(
        "csv",
        CsvConnector,
        CsvObjectSource,
        CsvObjectSink,
        summary="CSV objects on S3, GCS or Azure (staged, read like local files).",
    ),
    ConnectorType(
        "parquet",
        ParquetConnector,
        ParquetObjectSource,
        ParquetObjectSink,
        summary="Parquet objects on S3, GCS or Azure, read in place.",
    ),
    ConnectorType(
        "ndjson",
        NdjsonConnector,
        NdjsonObjectSource,
        NdjsonObjectSink,
        summary="NDJSON objects on S3, GCS or Azure.",
    ),
    ConnectorType(
        "json",
        JsonConnector,
        JsonObjectSource,
        None,
        summary="JSON-array objects on S3, GCS or Azure (read whole).",
    ),
)
