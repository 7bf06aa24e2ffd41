"""Turn Polars' read errors into errors that name the file and the line.

Polars reports a malformed row when the frame is collected, and often without saying
where (``found more fields than defined in 'Schema'``). The executor hands such an error
to :func:`explain_error`; these functions re-read the input with the standard library
(only on this failure path) to find the offending record.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from ocht.connector_files.encoding import codec_name, undecodable_line
from ocht.connector_files.errors import MalformedRecord
from ocht.connector_files.paths import (
    CSV_EXTENSIONS,
    JSON_EXTENSIONS,
    NDJSON_EXTENSIONS,
    resolve_inputs,
)
from ocht.errors import ConnectorError, OchtError
from ocht.pipeline_model import CsvConnector, JsonConnector, NdjsonConnector
from ocht.registry import RunContext

_PARSE = re.compile(
    r"could not parse `(?P<value>.*?)` as dtype `(?P<dtype>[^`]*)` at column "
    r"'(?P<column>.*?)' \(column number (?P<number>\d+)\)",
    re.DOTALL,
)
_CONVERSION = re.compile(
    r"conversion from `str` to `(?P<dtype>[^`]+)` failed in column '(?P<column>[^']*)' "
    r"for \d+ out of \d+ values: \[\"(?P<value>(?:[^\"\\]|\\.)*)\"",
)
_SCHEMA_MISMATCH = re.compile(r"names? (?:specified in schema not found|not specified in schema)")


def explain_error(exc: BaseException, spec: Any, context: RunContext) -> OchtError | None:
    """An Ocht error for a failure while reading a file input, or ``None``.

    Call it with any exception raised while collecting a frame scanned from ``spec``;
    it answers for CSV, NDJSON and JSON inputs and returns ``None`` for anything it
    cannot explain (re-raise the original then).
    """
    if isinstance(spec, CsvConnector):
        return explain_csv_error(exc, spec, context)
    if isinstance(spec, NdjsonConnector | JsonConnector):
        return explain_json_error(exc, spec, context)
    return None


def explain_csv_error(
    exc: BaseException, spec: CsvConnector, context: RunContext
) -> OchtError | None:
    """A ``malformed-record`` error for a Polars CSV failure, or ``None``.

    Recognises a row with more fields than the header, a value that does not parse as
    its column's type, bytes that are not UTF-8, and a ``schema`` whose names do not
    match the header.

    Example:
        >>> import tempfile, pathlib, polars as pl
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.csv").write_text("x,y\\n1,2\\n3,4,5\\n")
        >>> spec = CsvConnector(type="csv", path="a.csv")
        >>> ctx = RunContext("r1", "p", base_dir=folder)
        >>> try:
        ...     pl.scan_csv(folder / "a.csv").collect()
        ... except pl.exceptions.ComputeError as exc:
        ...     err = explain_csv_error(exc, spec, ctx)
        >>> (err.code, err.details["line"])
        ('malformed-record', 3)
    """
    message = str(exc)
    try:
        files = resolve_inputs(spec.path, context, CSV_EXTENSIONS)
        codec = codec_name(spec.encoding, where="csv")
    except OchtError:
        return None
    if "invalid utf-8" in message.lower() and codec == "utf-8":
        return _not_utf8(files)
    if "more fields than" in message:
        return _ragged(files, spec, codec)
    if "not properly escaped" in message:
        return _unclosed(files, spec)
    if m := _PARSE.search(message):
        return _unparseable(files, spec, codec, m)
    # a timestamp the reader parses strictly (a cast step's failure is not the reader's)
    if (m := _CONVERSION.search(message)) and "str.strptime" in message:
        return _unconverted(files, spec, codec, m)
    if _SCHEMA_MISMATCH.search(message):
        return _schema_mismatch(files, spec, codec, message)
    if "empty csv" in message.lower():
        empty = next((f for f in files if f.stat().st_size == 0), files[0])
        return ConnectorError(
            f"{empty} is empty (not even a header)",
            code="empty-input",
            file=str(empty),
            hint="remove the file, or write at least the header line",
        )
    return None


def explain_json_error(
    exc: BaseException, spec: NdjsonConnector | JsonConnector, context: RunContext
) -> OchtError | None:
    """A ``malformed-record`` error for NDJSON/JSON text that does not parse, or ``None``."""
    message = str(exc).lower()
    # simd-json names its faults (Syntax, EOF, ExpectedObjectKey, ...) "at character N"
    words = ("syntax", "json", "eof", "parse", "invalid", "expected", "at character")
    if not any(word in message for word in words):
        return None
    ndjson = isinstance(spec, NdjsonConnector)
    try:
        files = resolve_inputs(spec.path, context, NDJSON_EXTENSIONS if ndjson else JSON_EXTENSIONS)
    except OchtError:
        return None
    for file in files:
        found = _bad_json_line(file) if ndjson else _bad_json_document(file)
        if found is not None:
            line, reason = found
            return MalformedRecord(
                f"{file}:{line}: not valid JSON ({reason})",
                file=str(file),
                line=line,
                hint="fix the record" + ("" if ndjson else "; one object per line is `ndjson`"),
            )
    return None


# -- CSV ----------------------------------------------------------------------------------
class _Lines:
    """Physical lines for ``csv.reader``, counting them and skipping comment lines."""

    def __init__(self, handle: IO[str], comment: str | None) -> None:
        self.handle = handle
        self.comment = comment
        self.number = 0
        self.start: int | None = None

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        while True:
            line = next(self.handle)
            self.number += 1
            if self.comment and line.startswith(self.comment):
                continue
            if self.start is None:
                self.start = self.number
            return line


def _records(path: Path, spec: CsvConnector, codec: str) -> Iterator[tuple[int, list[str]]]:
    """``(first line, fields)`` of each record after the skipped rows (header included)."""
    encoding = "utf-8" if codec == "utf8-lossy" else codec
    with open(path, encoding=encoding, errors="replace", newline="") as handle:
        lines = _Lines(handle, spec.comment_prefix)
        reader = csv.reader(
            lines,
            delimiter=spec.delimiter,
            quotechar=spec.quote_char or '"',
            quoting=csv.QUOTE_NONE if spec.quote_char is None else csv.QUOTE_MINIMAL,
        )
        skipped = 0
        while True:
            lines.start = None
            try:
                row = next(reader)
            except (StopIteration, csv.Error):
                return
            if not row or row == [""]:
                continue
            if skipped < spec.skip_rows:
                skipped += 1
                continue
            yield (lines.start or lines.number), row


def _expected_width(spec: CsvConnector, first: list[str]) -> int:
    if not spec.header and spec.schema_:
        return len(spec.schema_)
    return len(first)


def _ragged(files: list[Path], spec: CsvConnector, codec: str) -> OchtError | None:
    for file in files:
        records = _records(file, spec, codec)
        first = next(records, None)
        if first is None:
            continue
        width = _expected_width(spec, first[1])
        for line, row in records:
            if len(row) != width:  # the first ragged row, long or short
                what = "the header has" if spec.header else "the first row has"
                return MalformedRecord(
                    f"{file}:{line}: a row with {len(row)} fields where {what} {width}",
                    file=str(file),
                    line=line,
                    expected=width,
                    found=len(row),
                    hint="fix the row (an unquoted delimiter?), or set `on_bad_lines: skip`",
                )
    return None


def _unparseable(
    files: list[Path], spec: CsvConnector, codec: str, match: re.Match[str]
) -> OchtError | None:
    value, dtype, column = match["value"], match["dtype"], match["column"]
    index = int(match["number"]) - 1
    for file in files:
        records = _records(file, spec, codec)
        if spec.header:
            next(records, None)
        for line, row in records:
            if index < len(row) and row[index] in (value, value.strip('"')):
                return MalformedRecord(
                    f"{file}:{line}: column '{column}' holds '{value}', which is not {dtype}",
                    file=str(file),
                    line=line,
                    column=column,
                    value=value,
                    hint="declare the column's type in `schema_overrides` (str reads anything), "
                    "list the value in `null_values`, or set `on_bad_lines: skip`",
                )
    return None


def _unconverted(
    files: list[Path], spec: CsvConnector, codec: str, match: re.Match[str]
) -> OchtError | None:
    """A text value (a date or timestamp) that does not parse with its column's format."""
    value, column = match["value"], match["column"]
    for file in files:
        records = _records(file, spec, codec)
        header = next(records, (0, []))[1] if spec.header else list(spec.schema_ or {})
        header = [h.strip().lstrip("\ufeff") for h in header]
        if column not in header:
            continue
        index = header.index(column)
        for line, row in records:
            if index < len(row) and row[index] == value:
                return MalformedRecord(
                    f"{file}:{line}: column '{column}' holds '{value}', which is not "
                    f"{match['dtype']} in the column's format",
                    file=str(file),
                    line=line,
                    column=column,
                    value=value,
                    hint="fix the value, declare the column's format "
                    "(datetime('%d/%m/%Y %H:%M')), or set `on_bad_lines: skip`",
                )
    return None


def _unclosed(files: list[Path], spec: CsvConnector) -> OchtError | None:
    """A quote opened and never closed: the rest of the file is one field."""
    quote = spec.quote_char or '"'
    for file in files:
        opened: int | None = None
        with open(file, encoding="utf-8", errors="replace", newline="") as handle:
            for number, line in enumerate(handle, start=1):
                if line.count(quote) % 2 == 1:
                    opened = number if opened is None else None
        if opened is not None:
            return MalformedRecord(
                f"{file}:{opened}: a quote ({quote}) opened here is never closed",
                file=str(file),
                line=opened,
                hint='close the quote (a quote inside a field is written twice: "")',
            )
    return None


def _not_utf8(files: list[Path]) -> OchtError | None:
    for file in files:
        line = undecodable_line(file, "utf-8")
        if line is not None:
            return MalformedRecord(
                f"{file}:{line}: not valid UTF-8 text",
                file=str(file),
                line=line,
                hint="set `encoding` to the file's encoding (latin-1, cp1252, ...) "
                "or to utf8-lossy",
            )
    return None


def _schema_mismatch(
    files: list[Path], spec: CsvConnector, codec: str, message: str
) -> OchtError | None:
    if not spec.schema_ or not spec.header:
        return None
    header = next(_records(files[0], spec, codec), (0, []))[1]
    missing = [c for c in spec.schema_ if c not in header]
    extra = [c for c in header if c not in spec.schema_]
    parts = []
    if missing:
        parts.append(f"the header lacks {', '.join(missing)}")
    if extra:
        parts.append(f"the schema lacks {', '.join(extra)}")
    detail = "; ".join(parts) or message.splitlines()[0]
    return ConnectorError(
        f"{files[0]}: `schema` does not match the header: {detail}",
        code="schema-mismatch",
        file=str(files[0]),
        header=header,
        hint="name every header column in `schema` (or use `schema_overrides` for a few)",
    )


# -- JSON ---------------------------------------------------------------------------------
def _bad_json_line(path: Path) -> tuple[int, str] | None:
    with open(path, encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                json.loads(line)
            except json.JSONDecodeError as exc:
                return number, exc.msg
    return None


def _bad_json_document(path: Path) -> tuple[int, str] | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            json.load(handle)
    except json.JSONDecodeError as exc:
        return exc.lineno, exc.msg
    return None
