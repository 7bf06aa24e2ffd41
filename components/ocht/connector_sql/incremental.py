"""Incremental reads: a high-water mark on a cursor column, with boundary keys.

State (JSON, one per input, kept by the executor in the store)::

    {"cursor": "updated_at", "value": "2024-05-01T10:00:00", "primary_key": ["id"],
     "boundary_keys": [[17], [18]], "boundary_overflow": false}

A run reads rows with ``cursor >= value - lookback`` and skips the rows whose cursor
equals ``value`` and whose key is in ``boundary_keys`` (they were loaded last time), so
rows sharing the last value are neither lost nor doubled. ``boundary_keys`` holds the
keys of the rows at the new last value, at most :data:`BOUNDARY_CAP` of them. Past the
cap no keys are kept (``boundary_overflow``): the next run reads the rows at that value
again (duplicates under ``append``; an ``upsert`` output absorbs them) — rows are never
lost. Without a ``primary_key`` there are no boundary keys either, with the same effect.
Rows whose cursor is NULL are read by a full load only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl

from ocht.observability import get_logger

BOUNDARY_CAP = 10_000

_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_lookback(value: int | float | str) -> timedelta:
    """``90s``, ``15m``, ``1h30m`` or a number of seconds as a timedelta."""
    if isinstance(value, int | float):
        return timedelta(seconds=value)
    total = sum(int(n) * _UNITS[u] for n, u in re.findall(r"(\d+)(us|ms|s|m|h|d|w)", value))
    return timedelta(seconds=total)


def to_json(value: Any) -> Any:
    """A cursor or key value as JSON (dates as ISO strings, decimals as strings)."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def from_json(value: Any, dtype: pl.DataType) -> Any:
    """Inverse of :func:`to_json` for a column of ``dtype``."""
    if value is None:
        return None
    if isinstance(dtype, pl.Datetime):
        parsed = datetime.fromisoformat(str(value))
        if dtype.time_zone is None:
            return parsed.replace(tzinfo=None)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=_utc())
    if dtype == pl.Date:
        return date.fromisoformat(str(value)[:10])
    if isinstance(dtype, pl.Decimal):
        return Decimal(str(value))
    if dtype.is_integer():
        return int(value)
    if dtype.is_float():
        return float(value)
    return value


def _utc() -> Any:
    from datetime import UTC

    return UTC


@dataclass
class Tracker:
    """Follows one read: filters the boundary rows, finds the new high-water mark.

    Args:
        cursor: the cursor column.
        primary_key: key columns (may be empty).
        schema: the source's schema (for value types).
        prior: the stored state, or ``None`` for a full read.
        lookback: subtracted from the stored value before reading.
    """

    cursor: str
    primary_key: list[str]
    schema: pl.Schema
    prior: dict[str, Any] | None
    lookback: int | float | str | None = None

    def __post_init__(self) -> None:
        self.dtype = self.schema[self.cursor]
        self.prior_value = from_json(self.prior.get("value"), self.dtype) if self.prior else None
        self.prior_keys = (
            self._key_frame(self.prior.get("boundary_keys") or [])
            if self.prior and self.primary_key
            else None
        )
        self.max_value: Any = None
        self.max_keys: list[pl.DataFrame] = []
        self.max_key_count = 0

    # -- before the read -------------------------------------------------------------------
    def lower_bound(self) -> Any:
        """The smallest cursor value to read (``None``: read everything)."""
        value = self.prior_value
        if value is None or self.lookback in (None, 0, ""):
            return value
        assert self.lookback is not None
        if isinstance(value, datetime):
            return value - parse_lookback(self.lookback)
        if isinstance(value, date):
            moved = datetime.combine(value, datetime.min.time()) - parse_lookback(self.lookback)
            return moved.date()
        if isinstance(self.lookback, int | float):
            if isinstance(value, Decimal):
                return value - Decimal(str(self.lookback))
            if isinstance(value, int | float):
                return value - self.lookback
        raise ValueError(
            f"lookback {self.lookback!r} does not apply to cursor '{self.cursor}' of type "
            f"{self.dtype} (numbers for numeric cursors, durations for dates and times)"
        )

    # -- during the read -------------------------------------------------------------------
    def filter(self, frame: pl.DataFrame) -> pl.DataFrame:
        """``frame`` without the rows at the stored value whose key was loaded already."""
        if self.prior_value is None or self.prior_keys is None or self.prior_keys.is_empty():
            return frame
        at = pl.col(self.cursor) == pl.lit(self.prior_value, dtype=self.dtype)
        indexed = frame.with_row_index("__ocht_row")
        seen = indexed.filter(at).join(
            self.prior_keys, on=self.primary_key, how="semi", nulls_equal=True
        )
        if seen.is_empty():
            return frame
        kept = indexed.join(
            seen.select("__ocht_row"), on="__ocht_row", how="anti", maintain_order="left"
        )
        return kept.drop("__ocht_row")

    def observe(self, frame: pl.DataFrame) -> None:
        """Take the chunk's largest cursor value and the keys of its rows at that value."""
        col = frame.get_column(self.cursor)
        top = col.max()
        if top is None:
            return
        if self.max_value is None or top > self.max_value:
            self.max_value = top
            self.max_keys, self.max_key_count = [], 0
        if top == self.max_value and self.primary_key:
            keys = frame.filter(col == top).select(self.primary_key)
            self.max_key_count += keys.height
            if self.max_key_count <= BOUNDARY_CAP:
                self.max_keys.append(keys)

    # -- after the read --------------------------------------------------------------------
    def result(self) -> dict[str, Any] | None:
        """The state to store after this read (``None``: nothing read, keep the old one)."""
        value, keys, count = self.max_value, self.max_keys, self.max_key_count
        if value is None or (self.prior_value is not None and value < self.prior_value):
            return dict(self.prior) if self.prior else None
        if (
            self.prior_value is not None
            and value == self.prior_value
            and self.prior_keys is not None
        ):
            keys = [self.prior_keys, *keys]
            count += self.prior_keys.height
        overflow = count > BOUNDARY_CAP or bool(
            self.prior and self.prior.get("boundary_overflow") and value == self.prior_value
        )
        if overflow:
            get_logger().warning(
                "too many rows share the last cursor value to remember their keys; the next "
                "run reads them again",
                cursor=self.cursor,
                rows=count,
                cap=BOUNDARY_CAP,
            )
        boundary: list[list[Any]] = []
        if keys and not overflow:
            merged = pl.concat(keys, how="vertical_relaxed").unique(maintain_order=True)
            boundary = [[to_json(v) for v in row] for row in merged.iter_rows()]
        return {
            "cursor": self.cursor,
            "value": to_json(value),
            "primary_key": list(self.primary_key),
            "boundary_keys": boundary,
            "boundary_overflow": overflow,
        }

    def _key_frame(self, rows: list[list[Any]]) -> pl.DataFrame:
        schema = {k: self.schema[k] for k in self.primary_key}
        data = [
            [from_json(v, schema[k]) for v, k in zip(row, self.primary_key, strict=True)]
            for row in rows
        ]
        return pl.DataFrame(data, schema=schema, orient="row")
