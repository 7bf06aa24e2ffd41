"""PostgreSQL's fast paths: ``COPY ... TO STDOUT`` / ``FROM STDIN`` in CSV, parsed and
written by Polars (in Rust), with psycopg 3 moving the bytes.

CSV keeps ``NULL`` (an unquoted empty field) apart from the empty string (``""``), and
Polars reads and writes both that way. Reads are cut into chunks at row boundaries: a
newline ends a row only outside quotes, i.e. after an even number of ``"`` characters.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from ocht.connector_sql.convert import for_copy

_TEXTLIKE = {"text", "varchar", "bpchar", "char", "name", "citext"}


@dataclass(frozen=True)
class SqlColumn:
    """A column as the source sees it.

    Attributes:
        name: the column's name.
        sql_type: the database's type name (``int4``, ``numeric``, ``TIMESTAMP``...).
        dtype: the Polars dtype it is read as.
    """

    name: str
    sql_type: str
    dtype: pl.DataType


def select_list(columns: Sequence[SqlColumn], quote: Any, *, copy: bool) -> str:
    """The SELECT list reading ``columns`` from alias ``q``, shaped for COPY or the driver."""
    parts = []
    for col in columns:
        ref = f"q.{quote(col.name)}"
        kind = col.sql_type.lower()
        dtype = col.dtype
        if copy and isinstance(dtype, pl.Duration):
            expr = f"(EXTRACT(EPOCH FROM {ref}) * 1000000)::bigint"
        elif copy and dtype == pl.Binary:
            expr = f"encode({ref}, 'hex')"
        elif isinstance(dtype, pl.Decimal) and kind == "numeric":
            expr = f"round({ref}, {dtype.scale or 0})"  # round, not truncate, to the scale
        elif not copy and dtype == pl.String and kind not in _TEXTLIKE:
            expr = f"{ref}::text"  # json, uuid, arrays, enums: their text form
        else:
            parts.append(ref)
            continue
        parts.append(f"{expr} AS {quote(col.name)}")
    return ", ".join(parts)


def _csv_dtype(dtype: pl.DataType) -> pl.DataType:
    if isinstance(dtype, pl.Duration):
        return pl.Int64()
    if dtype.is_numeric() or dtype == pl.Date:
        return dtype
    return pl.String()


def _finish(frame: pl.DataFrame, columns: Sequence[SqlColumn]) -> pl.DataFrame:
    exprs = []
    for col in columns:
        c, dtype = pl.col(col.name), col.dtype
        if dtype == pl.Boolean:
            exprs.append(c == "t")
        elif isinstance(dtype, pl.Datetime):
            fmt = "%Y-%m-%d %H:%M:%S%.f" + ("%#z" if dtype.time_zone else "")
            exprs.append(c.str.to_datetime(fmt, time_unit="us", time_zone=dtype.time_zone))
        elif dtype == pl.Time:
            exprs.append(c.str.to_time("%H:%M:%S%.f"))
        elif isinstance(dtype, pl.Duration):
            exprs.append(c.cast(pl.Duration("us")))
        elif dtype == pl.Binary:
            exprs.append(c.str.decode("hex"))
    return frame.with_columns(exprs) if exprs else frame


def _cut(buf: bytearray) -> int:
    """Length of the longest prefix of ``buf`` made of whole CSV rows (0 if none)."""
    end = buf.rfind(b"\n")
    while end >= 0:
        if buf.count(b'"', 0, end) % 2 == 0:
            return end + 1
        end = buf.rfind(b"\n", 0, end)
    return 0


def _parse(data: bytes | bytearray, columns: Sequence[SqlColumn]) -> pl.DataFrame:
    frame = pl.read_csv(
        io.BytesIO(data),
        has_header=False,
        schema={c.name: _csv_dtype(c.dtype) for c in columns},
        quote_char='"',
    )
    return _finish(frame, columns)


def copy_out(
    raw: Any, select_sql: str, columns: Sequence[SqlColumn], chunk_size: int
) -> Iterator[pl.DataFrame]:
    """Frames of at most ``chunk_size`` rows read with ``COPY (select_sql) TO STDOUT``.

    ``raw`` is a psycopg 3 connection inside a transaction whose ``TimeZone`` is UTC and
    ``DateStyle`` ISO (the text forms parsed here).
    """
    if not columns:
        return
    buf = bytearray()
    rows = 0
    with raw.cursor() as cur, cur.copy(f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv)") as cp:
        for block in cp:
            data = bytes(block)
            buf += data
            rows += data.count(b"\n")
            if rows < chunk_size:
                continue
            cut = _cut(buf)
            if cut:
                yield from _slices(_parse(buf[:cut], columns), chunk_size)
                del buf[:cut]
                rows = buf.count(b"\n")
        if buf:
            yield from _slices(_parse(buf, columns), chunk_size)


def _slices(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    for start in range(0, frame.height, size):
        yield frame.slice(start, size)


def copy_in(raw: Any, table_sql: str, quoted_columns: Sequence[str], frame: pl.DataFrame) -> None:
    """Append ``frame`` to ``table_sql`` with ``COPY ... FROM STDIN`` (CSV)."""
    buf = io.BytesIO()
    for_copy(frame).write_csv(buf, include_header=False, quote_style="necessary")
    cols = ", ".join(quoted_columns)
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {table_sql} ({cols}) FROM STDIN WITH (FORMAT csv)") as cp,
    ):
        cp.write(buf.getbuffer())


def pg_type_name(raw: Any, oid: int) -> str:
    """The type name of ``oid`` (``int4``, ``numeric``...), or ``unknown``."""
    info = raw.adapters.types.get(oid)
    if info is None:
        return "unknown"
    return f"{info.name}[]" if info.oid != oid else str(info.name)  # found by its array oid
