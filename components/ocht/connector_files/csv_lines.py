"""Line-level facts about a CSV file, read with the standard library: its header, its
shape (quotes, encoding, blank lines) and where records start. Used to pick a reader and,
on failure and dead-letter paths only, to name lines."""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass
from pathlib import Path

from ocht.pipeline_model import CsvConnector


def header_of(file: Path, spec: CsvConnector) -> tuple[list[str], int]:
    """The header's names (a UTF-8 byte-order mark and surrounding blanks removed), and
    the number of physical lines up to and including it (skipped rows and comments)."""
    with file.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        for _ in range(spec.skip_rows):
            fh.readline()
        lines = spec.skip_rows + 1
        first = fh.readline()
        while first and spec.comment_prefix and first.startswith(spec.comment_prefix):
            first = fh.readline()
            lines += 1
    row = next(
        csv.reader(io.StringIO(first), delimiter=spec.delimiter, quotechar=spec.quote_char or '"'),
        [],
    )
    return [c.strip() for c in row], lines


@dataclass(frozen=True)
class FileShape:
    """What one fast pass over a CSV file's bytes shows.

    Attributes:
        quoted: the quote character appears.
        valid: the bytes are valid UTF-8.
    """

    quoted: bool
    valid: bool


def survey(file: Path, spec: CsvConnector) -> FileShape:
    """The file's :class:`FileShape`, in one pass of large blocks at memory speed (a
    one-byte search and an ASCII test; read, not mapped, so the pass does not count as
    the process's memory)."""
    quote = spec.quote_char.encode() if spec.quote_char else None
    quoted, valid = False, True
    decoder = codecs.getincrementaldecoder("utf-8")()
    with file.open("rb") as fh:
        while block := fh.read(1 << 24):
            quoted = quoted or (quote is not None and block.find(quote) != -1)
            if valid and not block.isascii():
                try:
                    decoder.decode(block)
                except UnicodeDecodeError:
                    valid = False
    if valid:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            valid = False
    return FileShape(quoted, valid)


def find_line(file: Path, spec: CsvConnector, text: str) -> int | None:
    """The first physical line after the header that reads ``text`` (a failure path)."""
    skip = header_of(file, spec)[1] if spec.header else spec.skip_rows
    with file.open(encoding="utf-8", errors="replace", newline="") as fh:
        for number, line in enumerate(fh, start=1):
            if number > skip and line.rstrip("\r\n") == text:
                return number
    return None


def record_starts(file: Path, spec: CsvConnector) -> list[int]:
    """The physical line where each data record (after the header) starts, read with the
    standard library (only on a failure or dead-letter path)."""
    skip = header_of(file, spec)[1] if spec.header else spec.skip_rows
    starts: list[int] = []
    with file.open(encoding="utf-8-sig", errors="replace", newline="") as fh:
        for _ in range(skip):
            fh.readline()
        number = skip
        start = number + 1
        quote = spec.quote_char
        inside = False
        for line in fh:
            number += 1
            if not inside:
                start = number
                blank = not line.strip()
                if blank or (spec.comment_prefix and line.startswith(spec.comment_prefix)):
                    continue
            if quote:
                inside ^= line.count(quote) % 2 == 1
            if not inside:
                starts.append(start)
    return starts


def record_line(file: Path, spec: CsvConnector, record: int) -> int | None:
    """The physical line where data record ``record`` (0-based, after the header) starts."""
    starts = record_starts(file, spec)
    return starts[record] if 0 <= record < len(starts) else None
