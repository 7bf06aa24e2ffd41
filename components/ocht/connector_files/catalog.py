"""The connector types this brick registers (read by ``ocht.registry`` as ``CONNECTORS``)."""

from __future__ import annotations

from ocht.connector_files.console import ConsoleSink
from ocht.connector_files.csv_source import CsvSource
from ocht.connector_files.sources import JsonSource, NdjsonSource, ParquetSource
from ocht.connector_files.stream_sink import CsvOutput, NdjsonOutput, ParquetOutput
from ocht.pipeline_model import (
    ConsoleConnector,
    CsvConnector,
    JsonConnector,
    NdjsonConnector,
    ParquetConnector,
)
from ocht.registry import ConnectorType

CONNECTORS: tuple[ConnectorType, ...] = (
    ConnectorType(
        "csv",
        CsvConnector,
        CsvSource,
        CsvOutput,
        stream=True,
        summary="Delimited text files (a file, a glob or a folder); any encoding.",
    ),
    ConnectorType(
        "parquet",
        ParquetConnector,
        ParquetSource,
        ParquetOutput,
        stream=True,
        summary="Apache Parquet files (a file, a glob or a folder).",
    ),
    ConnectorType(
        "ndjson",
        NdjsonConnector,
        NdjsonSource,
        NdjsonOutput,
        stream=True,
        summary="Newline-delimited JSON, one object per line; nested values kept.",
    ),
    ConnectorType(
        "json",
        JsonConnector,
        JsonSource,
        None,
        summary="A JSON array of objects, read whole (use ndjson for large data).",
    ),
    ConnectorType(
        "console",
        ConsoleConnector,
        None,
        ConsoleSink,
        summary="Print the first rows as a table (output only).",
    ),
)
