"""The fast way to read a CSV file under ``on_bad_lines: fail``: Polars' own typed parser.

Polars refuses by itself a row with extra fields, a value that does not parse as its
column's type, and bytes that are not UTF-8 (those errors are explained by
:func:`~ocht.connector_files.explain_error` with file and line). What it lets through is
a row with *fewer* fields (padded with nulls): so this way is taken only for a file whose
shape makes that visible, where a null in the last column can only be a missing field
(no quotes; see :func:`eligible`), and when a batch does hold such a null (an empty
last field, a null marker, a blank line), the file is checked line by line once, with the
standard library, for a row with fewer fields. Temporal columns are read as text and parsed with their explicit
format. Each batch is then checked from null counts alone (free for clean data), and the
first bad row fails the run with its file and line, found by re-reading the file with the
standard library (only then).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from ocht.connector_files.csv_lines import FileShape, header_of
from ocht.connector_files.dtypes import Columns, convert
from ocht.connector_files.errors import MalformedRecord
from ocht.pipeline_model import CsvConnector

_RAW = "__ocht_raw_"


def eligible(spec: CsvConnector, shape: FileShape, header: list[str], columns: Columns) -> bool:
    """Whether :func:`read_fast` sees every bad row of this file."""
    return (
        not shape.quoted
        and shape.valid
        and (not spec.header or header == columns.names)
        and bool(columns.names)
    )


def read_fast(
    file: Path,
    *,
    spec: CsvConnector,
    columns: Columns,
    shown: str,
    original: Path,
    failures: list[MalformedRecord],
    limit: int | None = None,
) -> pl.LazyFrame:
    """``file`` typed as ``columns``. A short row fails the query: its
    :class:`~ocht.connector_files.MalformedRecord` (naming ``shown`` and the line) is put
    in ``failures`` and a Polars error raised (Polars re-creates the exceptions its
    callbacks raise from their message alone)."""
    names = columns.names
    temporal = {n for n in names if columns.dtypes[n].is_temporal()}
    skip = header_of(file, spec)[1] if spec.header else spec.skip_rows
    frame = pl.scan_csv(
        str(file),
        has_header=False,
        separator=spec.delimiter,
        quote_char=spec.quote_char,
        skip_lines=skip,
        comment_prefix=spec.comment_prefix,
        null_values=spec.null_values or None,
        schema={n: pl.String() if n in temporal else columns.dtypes[n] for n in names},
        encoding="utf8",
        n_rows=limit,
        glob=False,
    )
    first, last = names[0], names[-1]
    last_raw = f"{_RAW}{last}" if last in temporal else last
    if last in temporal:  # a missing last field reads as null: seen before parsing
        frame = frame.with_columns(pl.col(last).alias(last_raw))
    if temporal:  # Polars refuses a value that does not parse, naming column and value
        frame = frame.with_columns(
            convert(pl.col(n), columns.dtypes[n], columns.formats.get(n), strict=True)
            for n in temporal
        )
    width = len(names)
    verified: list[bool] = []  # the file was checked for short rows: it has none

    def check(pair: pl.Series) -> pl.Series:
        head, tail = pair.struct.field("head"), pair.struct.field("tail")
        if tail.null_count() == 0:
            return tail.is_not_null()
        if not verified:
            error, blank = _first_short(file, spec, width, shown, original)
            if error is not None:
                failures.append(error)
                raise pl.exceptions.ComputeError(error.message)
            verified.append(blank)
        if verified[0]:  # blank lines read as rows of nulls: they are not records
            return ~(head.is_null() & tail.is_null())
        return tail.is_null() | tail.is_not_null()

    # an expression, not a frame-level map: projection and predicate pushdown still reach
    # the reader, so only the columns the pipeline uses are parsed
    keep = pl.struct(pl.col(first).alias("head"), pl.col(last_raw).alias("tail")).map_batches(
        check, return_dtype=pl.Boolean(), is_elementwise=True
    )
    frame = frame.filter(keep)
    return frame.drop(last_raw) if last_raw != last else frame


def _scan(file: Path, spec: CsvConnector) -> Iterator[tuple[int, list[str]]]:
    """``(line, fields)`` of each data line (comments skipped)."""
    skip = header_of(file, spec)[1] if spec.header else spec.skip_rows
    with file.open(encoding="utf-8", errors="replace", newline="") as fh:
        for number, line in enumerate(fh, start=1):
            if number <= skip:
                continue
            if spec.comment_prefix and line.startswith(spec.comment_prefix):
                continue
            yield number, line.rstrip("\r\n").split(spec.delimiter)


def _first_short(
    file: Path, spec: CsvConnector, width: int, shown: str, original: Path
) -> tuple[MalformedRecord | None, bool]:
    """The error for the first row with fewer fields (``None`` if there is none), and
    whether the file has blank lines."""
    blank = False
    for number, fields in _scan(file, spec):
        if fields == [""]:
            blank = True
            continue
        if len(fields) < width:
            error = MalformedRecord(
                f"{shown}:{number}: expected {width} fields, found {len(fields)}",
                file=str(original),
                line=number,
                expected=width,
                found=len(fields),
                reason_code="malformed-line",
                hint="fix the row, or set `on_bad_lines: skip` (or `dead_letter`) "
                "to go on without it",
            )
            return error, blank
    return None, blank
