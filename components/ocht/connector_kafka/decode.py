"""Kafka records → DataFrame, vectorised, with malformed records set aside as dead letters.

The fast path joins a batch's values with newlines and reads them with one
``pl.read_ndjson``. Only when that fails (a value that is not a JSON object, a value of
the wrong type for a declared column) is the batch decoded record by record, so the bad
records are isolated and the rest of the batch goes on.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import polars as pl

from ocht.transform import parse_dtype

#: Dead-letter rows: why, where from, and the original value.
DEAD_LETTER_SCHEMA = pl.Schema(
    {
        "record": pl.String,
        "reason": pl.String,
        "code": pl.String,
        "step": pl.String,
        "source": pl.String,
        "position": pl.String,
        "topic": pl.String,
        "partition": pl.Int32,
        "offset": pl.Int64,
    }
)

METADATA_DTYPES: dict[str, pl.DataType] = {
    "key": pl.String(),
    "headers": pl.List(pl.Struct({"key": pl.String, "value": pl.String})),
    "timestamp": pl.Datetime("ms", "UTC"),
    "partition": pl.Int32(),
    "offset": pl.Int64(),
    "topic": pl.String(),
}


def declared_schema(columns: dict[str, str], *, path: str = "") -> pl.Schema:
    """A ``{column: type name}`` mapping as a Polars schema."""
    return pl.Schema({c: parse_dtype(t, path=f"{path}.{c}") for c, t in columns.items()})


def metadata_schema(columns: Sequence[str]) -> pl.Schema:
    """The ``_key``, ``_offset``, ... columns requested."""
    return pl.Schema({f"_{c}": METADATA_DTYPES[c] for c in columns})


def decode_values(
    values: Sequence[bytes | None], fmt: str, schema: pl.Schema | None
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Decode record values; returns the frame of good records and ``(index, reason)``.

    For ``json`` without a ``schema``, types are inferred from these records.
    The frame's rows are the good records in order.
    """
    if fmt == "raw":
        return pl.DataFrame({"value": list(values)}, schema={"value": pl.Binary}), []
    if fmt == "string":
        texts = [v.decode("utf-8", "replace") if v is not None else None for v in values]
        return pl.DataFrame({"value": texts}, schema={"value": pl.String}), []
    if not values:
        return pl.DataFrame(schema=schema), []
    if schema is None:  # inferred: the types the same data gets from a file
        frame, bad = _decode_json(values, None)
        return file_types(frame), bad
    decimals = [n for n, t in schema.items() if isinstance(t, pl.Decimal)]
    if not decimals:
        return _decode_json(values, schema)
    # a decimal is written as a JSON string ("1.25", exact) and may come as a number:
    # both are read as text, then converted; a value that does not convert is a bad record
    text = pl.Schema({n: pl.String() if n in decimals else t for n, t in schema.items()})
    frame, bad = _decode_json(values, text)
    converted = frame.with_columns(pl.col(n).cast(schema[n], strict=False) for n in decimals)
    broken = pl.any_horizontal(
        frame.get_column(n).is_not_null() & converted.get_column(n).is_null() for n in decimals
    )
    failed = frame.select(broken.alias("x")).to_series() if frame.height else None
    if failed is None or not failed.any():
        return converted, bad
    taken = {i for i, _ in bad}
    good = [i for i in range(len(values)) if i not in taken]
    for row in failed.arg_true().to_list():
        names = [n for n in decimals if frame[row, n] is not None and converted[row, n] is None]
        bad.append((good[row], f"undecodable record: '{names[0]}' is not a {schema[names[0]]}"))
    return converted.filter(~failed), sorted(bad)


#: ISO 8601 dates and date-times, as the file readers recognise them
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_ISO_DATETIME = r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"


def file_types(frame: pl.DataFrame) -> pl.DataFrame:
    """Text columns whose every value is an ISO date or date-time become ``date`` or
    ``datetime`` (UTC when the values carry an offset), as the CSV reader types them, so
    a stream infers the types a batch run over the same data in a file does.

    Example:
        >>> file_types(pl.DataFrame({"ts": ["2024-01-01T10:00:00"], "s": ["x"]})).dtypes
        [Datetime(time_unit='us', time_zone=None), String]
    """
    casts = []
    for name, dtype in frame.schema.items():
        if dtype != pl.String:
            continue
        col = frame.get_column(name).drop_nulls()
        if col.len() == 0:
            continue
        if col.str.contains(_ISO_DATE).all():
            casts.append(pl.col(name).str.to_date("%Y-%m-%d", strict=False))
        elif col.str.contains(_ISO_DATETIME).all():
            zoned = col.str.contains(r"(Z|[+-]\d{2}:?\d{2})$")
            if zoned.all():
                casts.append(pl.col(name).str.to_datetime(time_unit="us", time_zone="UTC"))
            elif not zoned.any():
                casts.append(pl.col(name).str.to_datetime(time_unit="us", strict=False))
    return frame.with_columns(casts) if casts else frame


def _decode_json(
    values: Sequence[bytes | None], schema: pl.Schema | None
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    if None not in values:  # a C-level scan; a generator would run per record
        try:
            frame = pl.read_ndjson(
                io.BytesIO(b"\n".join(values)),  # type: ignore[arg-type]
                schema=schema,
                infer_schema_length=None,
            )
        except Exception:  # some record is bad: find which below
            frame = None
        if frame is not None and frame.height == len(values):
            return frame, []
    return _decode_one_by_one(values, schema)


def _decode_one_by_one(
    values: Sequence[bytes | None], schema: pl.Schema | None
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    """Isolate the bad records: structural checks first, then bisection with read_ndjson
    (O(bad x log n) reads instead of one per record)."""
    bad: list[tuple[int, str]] = []
    candidates: list[tuple[int, bytes]] = []
    for i, value in enumerate(values):
        if value is None or not value.strip():
            bad.append((i, "empty record value"))
            continue
        if b"\n" in value or b"\r" in value:  # a pretty-printed value: make it one line
            try:
                value = json.dumps(json.loads(value)).encode()
            except ValueError as exc:
                bad.append((i, f"not JSON: {exc}"))
                continue
        candidates.append((i, value))
    if schema is None:
        # no declared types: a record is good when it is a JSON object
        kept = []
        for i, value in candidates:
            try:
                obj = json.loads(value)
            except ValueError as exc:
                bad.append((i, f"not JSON: {exc}"))
                continue
            if not isinstance(obj, dict):
                bad.append((i, f"not a JSON object: {type(obj).__name__}"))
                continue
            kept.append(value)
        bad.sort()
        if not kept:
            return pl.DataFrame(), bad
        return pl.read_ndjson(io.BytesIO(b"\n".join(kept)), infer_schema_length=None), bad
    parts: list[pl.DataFrame] = []
    _bisect(candidates, schema, parts, bad)
    bad.sort()
    frame = pl.concat(parts) if parts else pl.DataFrame(schema=schema)
    return frame, bad


def _bisect(
    chunk: Sequence[tuple[int, bytes]],
    schema: pl.Schema,
    parts: list[pl.DataFrame],
    bad: list[tuple[int, str]],
) -> None:
    if not chunk:
        return
    try:
        frame = pl.read_ndjson(io.BytesIO(b"\n".join(v for _, v in chunk)), schema=schema)
    except Exception as exc:
        if len(chunk) == 1:
            bad.append((chunk[0][0], _reason(exc)))
            return
        frame = None
    if frame is not None and frame.height == len(chunk):
        parts.append(frame)
        return
    if len(chunk) == 1:
        bad.append((chunk[0][0], "not one JSON object"))
        return
    mid = len(chunk) // 2
    _bisect(chunk[:mid], schema, parts, bad)
    _bisect(chunk[mid:], schema, parts, bad)


def _reason(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    first = text[0] if text else type(exc).__name__
    if "expected to contain JSON object" in first or "error parsing" in first.lower():
        return f"not a JSON object: {first}"
    if "cannot parse" in first:
        return f"wrong type for a declared column: {first}"
    return f"undecodable record: {first}"


def metadata_frame(msgs: Sequence[Any], columns: Sequence[str]) -> pl.DataFrame:
    """The requested metadata columns of ``msgs`` (confluent-kafka messages)."""
    data: dict[str, list[Any]] = {}
    for c in columns:
        if c == "key":
            data["_key"] = [
                k.decode("utf-8", "replace") if (k := m.key()) is not None else None for m in msgs
            ]
        elif c == "partition":
            data["_partition"] = [m.partition() for m in msgs]
        elif c == "offset":
            data["_offset"] = [m.offset() for m in msgs]
        elif c == "topic":
            data["_topic"] = [m.topic() for m in msgs]
        elif c == "timestamp":
            data["_timestamp"] = [
                datetime.fromtimestamp(ts[1] / 1000, UTC) if ts[1] >= 0 else None
                for m in msgs
                if (ts := m.timestamp()) or True
            ]
        elif c == "headers":
            data["_headers"] = [
                [
                    {"key": k, "value": v.decode("utf-8", "replace") if v is not None else None}
                    for k, v in (m.headers() or [])
                ]
                for m in msgs
            ]
    return pl.DataFrame(data, schema=metadata_schema(columns))


def dead_letter_frame(
    msgs: Sequence[Any], bad: Sequence[tuple[int, str]], source: str
) -> pl.DataFrame:
    """Dead-letter rows for the records at ``bad`` indexes (the value as ``record``)."""
    rows = []
    for i, reason in bad:
        m = msgs[i]
        value = m.value()
        rows.append(
            {
                "record": value.decode("utf-8", "replace") if value is not None else None,
                "reason": reason,
                "code": "undecodable-record",
                "step": f"input:{source}",
                "source": source,
                "position": f"{m.topic()}:{m.partition()}:{m.offset()}",
                "topic": m.topic(),
                "partition": m.partition(),
                "offset": m.offset(),
            }
        )
    return pl.DataFrame(rows, schema=DEAD_LETTER_SCHEMA)
