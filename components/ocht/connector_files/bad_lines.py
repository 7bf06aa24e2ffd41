"""CSV with ``on_bad_lines: dead_letter``: good rows go on, bad lines become dead letters.

Each file is scanned twice in the same streaming query, zipped row by row: once by the
CSV parser with every field as text (ragged rows kept), once as raw lines. A line is bad
when it has a different number of fields than the header (counted outside quotes), holds
bytes that are not valid in the declared encoding, comes from a file whose header differs
from the input's schema, or has a value that does not convert to its column's type. Good
rows are converted to the input's schema; bad ones leave as dead letters carrying the
raw line, the reason, a stable code and ``file:line``. Everything is Polars expressions.

Blank lines are not records: they are skipped. A quoted field spanning several lines is
not supported in this mode (the line count would drift); use ``on_bad_lines: fail``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl

from ocht.pipeline_model import CsvConnector

_ROW = "__ocht_row"
_LINE = "__ocht_line"
_TEXT = "__ocht_text"
_LINE_SEPARATOR = "\x1f"  # a byte no text file uses: each line is read as one field


def split_bad_lines(
    files: list[Path],
    *,
    spec: CsvConnector,
    schema: pl.Schema,
    lossy: bool,
    shown: list[str] | None = None,
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """``(good rows typed as schema, dead-letter records)`` for CSV ``files``.

    Args:
        files: UTF-8 files (already transcoded when the input is in another encoding).
        spec: the input's options.
        schema: the input's schema (declared or inferred).
        lossy: whether the input accepts undecodable bytes (``utf8-lossy``); if not, a
            line with one is a dead letter with code ``bad-encoding``.
        shown: the file names to put in ``position`` (default: ``files``).
    """
    goods, deads = [], []
    for i, file in enumerate(files):
        good, dead = _split_file(file, spec, schema, lossy, (shown or [])[i : i + 1] or [str(file)])
        goods.append(good)
        deads.append(dead)
    if len(goods) == 1:
        return goods[0], deads[0]
    return pl.concat(goods, how="vertical"), pl.concat(deads, how="vertical")


def _header(file: Path, spec: CsvConnector) -> list[str]:
    with file.open(encoding="utf-8", errors="replace", newline="") as fh:
        for _ in range(spec.skip_rows):
            fh.readline()
        first = fh.readline()
    row = next(
        csv.reader(io.StringIO(first), delimiter=spec.delimiter, quotechar=spec.quote_char or '"'),
        [],
    )
    return [c.strip() for c in row]


def _split_file(
    file: Path, spec: CsvConnector, schema: pl.Schema, lossy: bool, shown: list[str]
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    names = list(schema.names())
    header = _header(file, spec) if spec.header else names
    width = len(header)
    drift = spec.header and header != names
    fields = pl.scan_csv(
        str(file),
        has_header=spec.header,
        separator=spec.delimiter,
        quote_char=spec.quote_char,
        skip_rows=spec.skip_rows,
        encoding="utf8-lossy",
        infer_schema=False,
        truncate_ragged_lines=True,
        null_values=spec.null_values or None,
        new_columns=None if spec.header else names,
        glob=False,
        schema_overrides=None,
    )
    first_data_line = spec.skip_rows + (2 if spec.header else 1)
    lines = pl.scan_csv(
        str(file),
        has_header=False,
        separator=_LINE_SEPARATOR,
        quote_char=None,
        skip_rows=spec.skip_rows + (1 if spec.header else 0),
        encoding="utf8-lossy",
        schema={_TEXT: pl.String()},
        glob=False,
    ).with_row_index(_LINE, offset=first_data_line)
    frame = pl.concat([fields, lines], how="horizontal")

    text = pl.col(_TEXT)
    quote = spec.quote_char
    unquoted = (
        text.str.replace_all(f"{quote}[^{quote}]*{quote}", "", literal=False) if quote else text
    )
    count = unquoted.str.count_matches(spec.delimiter, literal=True) + 1
    blank = text.is_null() | (text.str.strip_chars() == "")
    present = [c for c in names if c in header]
    converted = {c: _convert(pl.col(c), schema[c]) for c in present}
    bad_type = pl.any_horizontal(
        [
            pl.col(c).is_not_null() & converted[c].is_null()
            for c in present
            if schema[c] != pl.String()
        ]
        or [pl.lit(False)]
    )

    problems: list[tuple[pl.Expr, str, str]] = []
    if drift:
        missing = [c for c in names if c not in header]
        extra = [c for c in header if c not in names]
        why = (
            "header differs from the input's columns"
            + (f"; missing {missing}" if missing else "")
            + (f"; extra {extra}" if extra else "")
        )
        problems.append((pl.lit(True), why, "schema-drift"))
    if not lossy:
        problems.append(
            (
                text.str.contains("\ufffd", literal=True),
                "bytes that are not valid UTF-8",
                "bad-encoding",
            )
        )
    problems.append((count != width, f"expected {width} fields", "malformed-line"))
    problems.append((bad_type, "a value does not fit its column's type", "type-mismatch"))

    bad = pl.any_horizontal([p for p, _, _ in problems]) & ~blank
    good = frame.filter(~bad & ~blank).select(
        [
            converted[c].alias(c) if c in converted else pl.lit(None, dtype=schema[c]).alias(c)
            for c in names
        ]
    )
    reason = pl.coalesce([pl.when(p).then(pl.lit(r)) for p, r, _ in problems])
    code = pl.coalesce([pl.when(p).then(pl.lit(k)) for p, _, k in problems])
    where = shown[0]
    dead = frame.filter(bad).select(
        text.alias("record"),
        pl.when(count != width)
        .then(pl.format("expected {} fields, found {}", pl.lit(width), count))
        .otherwise(reason)
        .alias("reason"),
        code.alias("code"),
        pl.format("{}:{}", pl.lit(where), pl.col(_LINE)).alias("position"),
    )
    return good, dead


def _convert(expr: pl.Expr, target: pl.DataType) -> pl.Expr:
    if target == pl.String():
        return expr
    stripped = expr.str.strip_chars()
    if target == pl.Date():
        return stripped.str.to_date(strict=False)
    if isinstance(target, pl.Datetime):
        return stripped.str.to_datetime(
            strict=False, time_unit=target.time_unit, time_zone=target.time_zone
        )
    if target == pl.Boolean():
        low = stripped.str.to_lowercase()
        return pl.when(low == "true").then(True).when(low == "false").then(False)
    return stripped.cast(target, strict=False)
