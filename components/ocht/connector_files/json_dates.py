"""Dates and timestamps in JSON text: JSON has none, so they come as strings.

A string field whose sampled values are all dates or timestamps in one known format (see
:data:`~ocht.connector_files.dtypes.DATE_FORMATS`), or a field declared with a temporal
type, is read as text and parsed in the lazy plan with its explicit format. A value that
does not parse is a bad record: with ``on_bad_lines: fail`` it stops the run naming the
file, line and column; with ``dead_letter`` it leaves as a dead letter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ocht.connector_files.dtypes import convert, detect_dates
from ocht.connector_files.errors import MalformedRecord

LINE = "__ocht_line"


@dataclass(frozen=True)
class Temporal:
    """The temporal fields of a JSON input: ``{field: (type, format or None)}``."""

    fields: dict[str, tuple[pl.DataType, str | None]]

    @classmethod
    def find(
        cls,
        schema: pl.Schema,
        sample: pl.DataFrame | None,
        formats: dict[str, str],
    ) -> Temporal:
        """Declared temporal fields (with their declared formats) and, when ``sample``
        is given, the string fields it shows to be dates or timestamps."""
        found: dict[str, tuple[pl.DataType, str | None]] = {}
        for name, dtype in schema.items():
            if dtype.is_temporal():
                found[name] = (dtype, formats.get(name))
        if sample is not None:
            strings = [n for n, t in schema.items() if t == pl.String() and n in sample.columns]
            for name, (dtype, fmt) in detect_dates(sample.select(strings)).items():
                found[name] = (dtype, fmt)
        return cls(found)

    def as_text(self, schema: pl.Schema) -> pl.Schema:
        """``schema`` with the temporal fields read as text."""
        return pl.Schema({n: pl.String() if n in self.fields else t for n, t in schema.items()})

    def converted(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """``frame`` with the temporal fields parsed, plus ``__ocht_bad_field``: the first
        field whose value did not parse (null when every value did)."""
        if not self.fields:
            return frame.with_columns(pl.lit(None, dtype=pl.String()).alias("__ocht_bad_field"))
        conv = {n: convert(pl.col(n), t, f) for n, (t, f) in self.fields.items()}
        bad = pl.coalesce(
            [
                pl.when(pl.col(n).is_not_null() & pl.col(f"__ocht_p_{n}").is_null()).then(pl.lit(n))
                for n in self.fields
            ]
        )
        return (
            frame.with_columns([e.alias(f"__ocht_p_{n}") for n, e in conv.items()])
            .with_columns(bad.alias("__ocht_bad_field"))
            .with_columns([pl.col(f"__ocht_p_{n}").alias(n) for n in self.fields])
            .drop([f"__ocht_p_{n}" for n in self.fields])
        )

    def failing(self, frame: pl.LazyFrame, shown: str, file: Path) -> pl.LazyFrame:
        """``frame`` parsed; the first value that does not parse raises
        :class:`~ocht.connector_files.MalformedRecord` (``frame`` carries ``__ocht_line``)."""
        if not self.fields:
            return frame.drop(LINE)
        raw = {n: f"__ocht_raw_{n}" for n in self.fields}
        marked = self.converted(frame.with_columns([pl.col(n).alias(r) for n, r in raw.items()]))
        names = [n for n in frame.collect_schema().names() if n != LINE]
        schema = pl.Schema(
            {n: self.fields[n][0] if n in self.fields else t for n, t in _schema(frame).items()}
        )

        def check(df: pl.DataFrame) -> pl.DataFrame:
            bad = df.get_column("__ocht_bad_field").is_not_null()
            if bad.any():
                row = df.filter(bad).row(0, named=True)
                column = row["__ocht_bad_field"]
                dtype, fmt = self.fields[column]
                raise MalformedRecord(
                    f"{shown}:{row[LINE]}: field '{column}' holds '{row[raw[column]]}', "
                    f"which is not {fmt or str(dtype).lower()}",
                    file=str(file),
                    line=row[LINE],
                    column=column,
                    hint="fix the value, declare the field's format in `schema` "
                    "(datetime('%d/%m/%Y %H:%M')), or set `on_bad_lines: dead_letter`",
                )
            return df.select(names)

        return marked.map_batches(check, streamable=True, schema=schema)


def _schema(frame: pl.LazyFrame) -> pl.Schema:
    schema = frame.collect_schema()
    return pl.Schema({n: t for n, t in schema.items() if n != LINE})


def splitter(
    temporal: Temporal, names: list[str], shown: str
) -> Callable[[pl.LazyFrame], tuple[pl.LazyFrame, pl.LazyFrame]]:
    """For dead-letter mode: ``good rows -> (parsed good rows, dead letters)``."""

    def split(good: pl.LazyFrame) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        if not temporal.fields:
            return good, pl.LazyFrame(
                schema={"record": pl.String, "reason": pl.String, "code": pl.String}
            )
        raw = {n: f"__ocht_raw_{n}" for n in temporal.fields}
        marked = temporal.converted(good.with_columns([pl.col(n).alias(r) for n, r in raw.items()]))
        bad = pl.col("__ocht_bad_field").is_not_null()
        record = pl.struct(
            [pl.col(raw[n]).alias(n) if n in raw else pl.col(n) for n in names]
        ).struct.json_encode()
        reason = pl.coalesce(
            [
                pl.when(pl.col("__ocht_bad_field") == n).then(
                    pl.format(
                        "field '{}' holds '{}', which is not {}",
                        pl.lit(n),
                        pl.col(raw[n]),
                        pl.lit(f or str(t).lower()),
                    )
                )
                for n, (t, f) in temporal.fields.items()
            ]
        )
        dead = marked.filter(bad).select(
            record.alias("record"),
            reason.alias("reason"),
            pl.lit("type-mismatch").alias("code"),
            pl.lit(shown).alias("position"),
        )
        return marked.filter(~bad).select(names), dead

    return split
