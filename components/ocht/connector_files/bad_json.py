"""NDJSON with ``on_bad_lines: dead_letter``: good objects go on, bad lines become dead
letters.

Each file is read as raw lines; each batch of lines is decoded by Polars in one call
(``str.json_decode`` against the input's schema). Only when a batch fails is it split in
halves, recursively, to find the lines at fault, so clean data costs one vectorised
decode per batch and each bad line ``log2(batch)`` more. A line is bad when it is not
JSON, not an object, or holds a value that does not fit its field's type; it leaves as a
dead letter with the raw line, Polars' reason, code ``bad-json`` and ``file:line``.
Blank lines are skipped.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path

import polars as pl

_LINE = "__ocht_line"
_TEXT = "__ocht_text"
_VALUE = "__ocht_value"
_ERROR = "__ocht_error"
_LINE_SEPARATOR = "\x1f"  # never in a text file: each line is read as one field


def lines_of(file: Path) -> pl.LazyFrame:
    """``file``'s lines (``__ocht_text``) with their 1-based numbers (``__ocht_line``)."""
    return pl.scan_csv(
        str(file),
        has_header=False,
        separator=_LINE_SEPARATOR,
        quote_char=None,
        encoding="utf8-lossy",
        schema={_TEXT: pl.String()},
        glob=False,
    ).with_row_index(_LINE, offset=1)


def infer_schema(files: list[Path], limit: int | None) -> pl.Schema:
    """The schema of the first ``limit`` lines that are JSON objects (bad lines skipped)."""
    rows: list[dict[str, object]] = []
    for file in files:
        with file.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if limit is not None and len(rows) >= limit:
                    break
                try:
                    value = json.loads(line)
                except ValueError:
                    continue
                if isinstance(value, dict):
                    rows.append(value)
    if not rows:
        return pl.Schema()
    text = "\n".join(json.dumps(r) for r in rows).encode()
    try:  # Polars' own JSON inference, as a plain ndjson input would get
        return pl.read_ndjson(io.BytesIO(text), infer_schema_length=None).schema
    except pl.exceptions.PolarsError:
        return pl.DataFrame(rows, infer_schema_length=None).schema


def split_bad_json(
    files: list[Path], *, schema: pl.Schema, shown: list[str] | None = None
) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """``(good rows typed as schema, dead-letter records)`` for NDJSON ``files``."""
    dtype = pl.Struct(schema)
    decode = _decoder(dtype)
    goods, deads = [], []
    for i, file in enumerate(files):
        where = (shown or [])[i] if shown and i < len(shown) else str(file)
        text = pl.col(_TEXT)
        decoded = (
            lines_of(file)
            .filter(text.is_not_null() & (text.str.strip_chars() != ""))
            .map_batches(
                decode,
                streamable=True,
                schema={_LINE: pl.UInt32(), _TEXT: pl.String(), _VALUE: dtype, _ERROR: pl.String()},
            )
        )
        goods.append(
            decoded.filter(pl.col(_ERROR).is_null()).select(
                [pl.col(_VALUE).struct.field(n).alias(n) for n in schema.names()]
            )
        )
        deads.append(
            decoded.filter(pl.col(_ERROR).is_not_null()).select(
                text.alias("record"),
                pl.col(_ERROR).alias("reason"),
                pl.lit("bad-json").alias("code"),
                pl.format("{}:{}", pl.lit(where), pl.col(_LINE)).alias("position"),
            )
        )
    if len(goods) == 1:
        return goods[0], deads[0]
    return pl.concat(goods, how="vertical"), pl.concat(deads, how="vertical")


def _decoder(dtype: pl.Struct) -> Callable[[pl.DataFrame], pl.DataFrame]:
    def decode(df: pl.DataFrame) -> pl.DataFrame:
        values, errors = _decode(df.get_column(_TEXT), dtype)
        return df.with_columns(values.alias(_VALUE), pl.Series(_ERROR, errors, pl.String()))

    return decode


def _decode(lines: pl.Series, dtype: pl.Struct) -> tuple[pl.Series, list[str | None]]:
    try:
        return lines.str.json_decode(dtype), [None] * len(lines)
    except pl.exceptions.PolarsError as exc:
        if len(lines) == 1:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else "not JSON"
            return pl.Series([None], dtype=dtype), [reason]
    mid = len(lines) // 2
    left, left_errors = _decode(lines[:mid], dtype)
    right, right_errors = _decode(lines[mid:], dtype)
    return left.append(right), left_errors + right_errors
