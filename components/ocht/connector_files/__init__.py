"""File connectors: CSV, Parquet, NDJSON and JSON inputs; CSV, Parquet, NDJSON and console
outputs. In stream mode a CSV, Parquet or NDJSON output writes rolling part files into a
folder, each published once the offsets of its rows are committed (:class:`PartFiles`).

Inputs take a file, a glob (``data/*.csv``, ``data/**/*.csv``) or a folder as ``path`` and
read every file as one lazy frame. Outputs are atomic: written to a temporary file out of
the output's folder (in the run's folder, or a ``.ocht-tmp`` folder beside the output's
folder; no glob of the output's folder sees it) and renamed onto the target on commit, so
a failed run leaves no partial file and an older output untouched. Call
:func:`sweep_temporary` at start-up to remove what a killed run left.

For the executor: a Polars error raised while collecting a frame scanned from a file
input is often silent about where it happened; pass it to :func:`explain_error` (with the
input's spec and the run context) for a ``malformed-record`` error naming the file and
line, and re-raise the original when it returns ``None``.

Example:
    >>> from ocht.connector_files import CONNECTORS
    >>> [c.name for c in CONNECTORS]
    ['csv', 'parquet', 'ndjson', 'json', 'console']
"""

from ocht.connector_files.catalog import CONNECTORS
from ocht.connector_files.console import ConsoleSink
from ocht.connector_files.csv_source import CsvSource
from ocht.connector_files.diagnose import explain_csv_error, explain_error, explain_json_error
from ocht.connector_files.errors import MalformedRecord
from ocht.connector_files.ledger import FileLedger
from ocht.connector_files.paths import resolve_inputs
from ocht.connector_files.sinks import (
    CsvSink,
    FileSink,
    NdjsonSink,
    ParquetSink,
    csv_write_options,
    sweep_temporary,
)
from ocht.connector_files.sources import (
    FileSource,
    JsonSource,
    NdjsonSource,
    ParquetSource,
)
from ocht.connector_files.stream_sink import (
    CsvOutput,
    CsvParts,
    NdjsonOutput,
    NdjsonParts,
    ParquetOutput,
    ParquetParts,
    PartFiles,
)

__all__ = [
    "CONNECTORS",
    "ConsoleSink",
    "CsvOutput",
    "CsvParts",
    "CsvSink",
    "CsvSource",
    "FileLedger",
    "FileSink",
    "FileSource",
    "JsonSource",
    "MalformedRecord",
    "NdjsonOutput",
    "NdjsonParts",
    "NdjsonSink",
    "NdjsonSource",
    "ParquetOutput",
    "ParquetParts",
    "ParquetSink",
    "ParquetSource",
    "PartFiles",
    "csv_write_options",
    "explain_csv_error",
    "explain_error",
    "explain_json_error",
    "resolve_inputs",
    "sweep_temporary",
]
