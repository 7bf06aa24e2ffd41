"""Read one CSV file with every row checked: the same reader under every ``on_bad_lines``.

A row is **bad** when it has fewer or more fields than the header, holds bytes that are not
valid in its encoding, comes from a file whose header differs from the input's columns, or
has a value that does not convert to its column's type (declared, or inferred from a
sample). The reader marks bad rows in one pass; :class:`CheckedCsv` then gives the good
rows typed, and the bad ones as dead letters (raw text, reason naming column and value,
a stable code, ``file:line``), counted, or as the error of the first one.

Two ways to split rows, picked per file:

- **lines** (a file without the quote character): the file is read as raw lines by Polars
  and each line split with ``str.split_exact``; field counts, line numbers and the raw text
  are exact, and the cost is that of Polars' own CSV reader.
- **fields** (a file that quotes): Polars' CSV parser, every field as text plus one
  sentinel column that catches extra fields. Quoted delimiters and fields spanning lines
  are read right; a row with *fewer* fields cannot be told from one with empty trailing
  fields, so it is read with nulls there, and ``position`` counts records, which equals the
  line while no field spans lines. An unclosed quote fails the run (the rest of the file
  cannot be split into records).

Blank lines and lines starting with ``comment_prefix`` are not records, in both ways.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from ocht.connector_files.csv_lines import FileShape, header_of, record_starts, survey
from ocht.connector_files.dtypes import Columns, convert
from ocht.connector_files.errors import MalformedRecord
from ocht.pipeline_model import CsvConnector

LINE = "__ocht_line"
TEXT = "__ocht_text"
BAD = "__ocht_bad"
_EXTRA = "__ocht_extra"
_TYPED = "__ocht_t_"
_LINE_SEPARATOR = "\x1f"  # a byte no text file uses: each line is read as one field


@dataclass
class CheckedCsv:
    """One file read with its bad rows marked.

    Attributes:
        frame: every record: the raw fields, the converted ``__ocht_t_<column>`` values,
            ``__ocht_line``, ``__ocht_text`` and the boolean ``__ocht_bad``.
        columns: the input's columns.
        shown: the file name put in positions and errors.
        problems: ``(condition, reason, code)`` per kind of fault, first match wins.
        faults: ``(condition, column)`` for values that do not fit their column.
        found: the number of fields a row has (text when it cannot be told).
        width: the number of fields a row must have.
        exact_lines: whether ``__ocht_line`` is the physical line (else a record number
            that :func:`record_line` turns into the line).
    """

    frame: pl.LazyFrame
    columns: Columns
    shown: str
    problems: list[tuple[pl.Expr, pl.Expr, str]]
    faults: list[tuple[pl.Expr, str]]
    found: pl.Expr
    width: int
    exact_lines: bool
    path: Path
    spec: CsvConnector
    first_line: int
    unmarked: pl.LazyFrame
    bad: pl.Expr
    quick: list[tuple[str, bool, pl.Expr]] | None
    _starts: list[int] | None = None

    def good(self) -> pl.LazyFrame:
        """The good rows, typed as the input's columns."""
        return self.frame.filter(~pl.col(BAD)).select(self._typed())

    def checked(self, on_bad: Callable[[pl.DataFrame], None]) -> pl.LazyFrame:
        """The good rows; each batch's bad rows (``record``, ``reason``, ``code``,
        ``column``, ``line``, ``fields``) are handed to ``on_bad`` first, which may raise
        to stop the run."""
        typed = self._typed()
        details = [
            pl.col(TEXT).alias("record"),
            self._reason().alias("reason"),
            self._code().alias("code"),
            self._column().alias("column"),
            pl.col(LINE).alias("line"),
            self.found.alias("fields"),
        ]

        quick, everything = self.quick, self.bad

        def check(df: pl.DataFrame) -> pl.DataFrame:
            if quick is None:
                bad = df.select(everything).to_series()
            else:
                # a column never null (extra fields: always null) in this batch cannot
                # make a row bad, and null counts cost nothing: clean batches pass as is
                parts = []
                for column, all_null, expr in quick:
                    nulls = df.get_column(column).null_count()
                    if (nulls != df.height) if all_null else (nulls > 0):
                        parts.append(expr)
                if not parts:
                    return df.select(typed)
                bad = df.select(pl.any_horizontal(parts).fill_null(False)).to_series()
            if bad.any():
                on_bad(df.filter(bad).select(details))
                df = df.filter(~bad)
            return df.select(typed)

        return self.unmarked.map_batches(check, streamable=True, schema=self.columns.schema())

    def dead(self) -> pl.LazyFrame:
        """The bad rows as dead-letter records."""
        line = pl.col(LINE)
        if not self.exact_lines:
            line = line.map_batches(self._record_lines, return_dtype=pl.Int64)
        return self.frame.filter(pl.col(BAD)).select(
            pl.col(TEXT).alias("record"),
            self._reason().alias("reason"),
            self._code().alias("code"),
            pl.format("{}:{}", pl.lit(self.shown), line).alias("position"),
        )

    def _record_lines(self, numbers: pl.Series) -> pl.Series:
        """Record numbers (as ``__ocht_line`` counts them) to physical lines, from one
        pass over the file made only when a file whose fields span lines has bad rows."""
        if numbers.is_empty():
            return numbers.cast(pl.Int64)
        if self._starts is None:
            self._starts = record_starts(self.path, self.spec)
        starts, first = self._starts, self.first_line
        return pl.Series(
            [starts[n - first] if 0 <= n - first < len(starts) else n for n in numbers],
            dtype=pl.Int64,
        )

    def _typed(self) -> list[pl.Expr]:
        return [pl.col(f"{_TYPED}{n}").alias(n) for n in self.columns.names]

    def _reason(self) -> pl.Expr:
        return pl.coalesce([pl.when(p).then(r) for p, r, _ in self.problems])

    def _column(self) -> pl.Expr:
        if not self.faults:
            return pl.lit(None, dtype=pl.String())
        return pl.coalesce([pl.when(p).then(pl.lit(c)) for p, c in self.faults])

    def _code(self) -> pl.Expr:
        return pl.coalesce([pl.when(p).then(pl.lit(k)) for p, _, k in self.problems])


def read_checked(
    file: Path,
    *,
    spec: CsvConnector,
    columns: Columns,
    shown: str,
    lossy: bool,
    strict: bool = False,
    lines_needed: bool = True,
    shape: FileShape | None = None,
    limit: int | None = None,
) -> CheckedCsv:
    """``file`` read with every record checked against ``columns`` (see the module doc).

    Args:
        file: a UTF-8 file (already transcoded when the input is in another encoding).
        spec: the input's options.
        columns: the input's columns (declared or inferred).
        shown: the file name for positions and errors.
        lossy: whether undecodable bytes are accepted (``utf8-lossy``); if not, a line
            holding one is bad (``bad-encoding``).
        strict: let Polars refuse undecodable bytes itself (an error for the whole read,
            explained by :func:`~ocht.connector_files.explain_error`), which saves checking
            every line; for ``on_bad_lines: fail``.
        lines_needed: number every line (dead letters carry it); when not, a file
            without quotes is read without a row index and :func:`find_line` finds the
            line of a failure.
        shape: the file's :class:`~.csv_lines.FileShape`, when already surveyed.
        limit: read at most this many records (good and bad together).
    """
    names = columns.names
    header, skip = header_of(file, spec) if spec.header else (names, spec.skip_rows)
    width = len(header)
    first_line = skip + 1
    fields = [f"__ocht_f{i}" for i in range(width)]
    quote = spec.quote_char
    shape = shape or survey(file, spec)
    quoted, valid = shape.quoted, shape.valid
    lossy = lossy or valid  # valid text needs no check for replaced bytes
    lines = pl.scan_csv(
        str(file),
        has_header=False,
        separator=_LINE_SEPARATOR,
        quote_char=None,
        skip_lines=skip,
        encoding="utf8" if strict and not lossy else "utf8-lossy",
        schema={TEXT: pl.String()},
        glob=False,
    )
    if lines_needed or quoted:
        lines = lines.with_row_index(LINE, offset=first_line)
    else:
        lines = lines.with_columns(pl.lit(None, dtype=pl.UInt32()).alias(LINE))
    keep = pl.col(TEXT).is_not_null()
    if spec.comment_prefix:
        keep &= ~pl.col(TEXT).str.starts_with(spec.comment_prefix)
    spanning = quoted and _lines_split_records(lines, quote or '"')
    exact = not spanning
    if quoted:
        parsed = pl.scan_csv(
            str(file),
            has_header=False,
            separator=spec.delimiter,
            quote_char=quote,
            skip_lines=skip,
            # in step with the raw lines unless records span lines: comments come out below
            comment_prefix=spec.comment_prefix if spanning else None,
            encoding="utf8-lossy",
            schema=dict.fromkeys([*fields, _EXTRA], pl.String()),
            missing_columns="insert",
            truncate_ragged_lines=True,
            glob=False,
        )
    if spanning:
        # a field spans lines: records are not lines, so the raw text is rebuilt from the
        # fields and a row with fewer fields cannot be told from empty trailing ones
        frame = parsed.with_row_index(LINE, offset=first_line)
        text = pl.concat_str(
            [pl.col(f) for f in fields], separator=spec.delimiter, ignore_nulls=True
        )
        frame = frame.with_columns(text.alias(TEXT))
        short: pl.Expr = pl.lit(False)
        found: pl.Expr = pl.lit(f"more than {width}")
    elif quoted:
        # one record per line: the parser's fields beside the raw lines, row for row
        frame = pl.concat([lines, parsed], how="horizontal").filter(keep)
        unquoted = pl.col(TEXT).str.replace_all(f"{quote}[^{quote}]*{quote}", "", literal=False)
        found = unquoted.str.count_matches(spec.delimiter, literal=True) + 1
        short = found < width
    else:
        split = pl.col(TEXT).str.split_exact(spec.delimiter, width).alias("__ocht_split")
        renamed = {f"field_{i}": f for i, f in enumerate(fields)} | {f"field_{width}": _EXTRA}
        frame = lines.filter(keep).with_columns(split).unnest("__ocht_split").rename(renamed)
        short = pl.col(fields[-1]).is_null()
        found = pl.col(TEXT).str.count_matches(spec.delimiter, literal=True) + 1
    if limit is not None:
        frame = frame.head(limit)

    nulls = [*spec.null_values]
    position = {name: i for i, name in enumerate(header)}
    typed: list[pl.Expr] = []
    value_faults: list[tuple[pl.Expr, pl.Expr, str]] = []
    for name in names:
        if name not in position:
            typed.append(pl.lit(None, dtype=columns.dtypes[name]).alias(f"{_TYPED}{name}"))
            continue
        raw = pl.col(fields[position[name]])
        dtype = columns.dtypes[name]
        # an empty field is null; other types read "" as null when converting anyway
        value: pl.Expr = pl.when(raw.str.len_bytes() > 0).then(raw) if dtype == pl.String() else raw
        if nulls:
            value = pl.when(raw.is_in(nulls)).then(None).otherwise(value)
        typed.append(convert(value, dtype, columns.formats.get(name)).alias(f"{_TYPED}{name}"))
        if dtype != pl.String():
            present = value.str.len_bytes() > 0
            fault = present & pl.col(f"{_TYPED}{name}").is_null()
            shown_type = columns.formats.get(name) or _type_name(dtype)
            reason = pl.format(
                "column '{}' holds '{}', which is not {}",
                pl.lit(name),
                value,
                pl.lit(shown_type),
            )
            value_faults.append((fault, reason, name))
    frame = frame.with_columns(typed)

    problems: list[tuple[pl.Expr, pl.Expr, str]] = []
    if spec.header and header != names:
        missing = [c for c in names if c not in header]
        extra = [c for c in header if c not in names]
        why = (
            "header differs from the input's columns"
            + (f"; missing {missing}" if missing else "")
            + (f"; extra {extra}" if extra else "")
        )
        if missing or extra:
            problems.append((pl.lit(True), pl.lit(why), "schema-drift"))
    if not lossy and not strict:
        problems.append(
            (
                pl.col(TEXT).str.contains("\ufffd", literal=True),
                pl.lit("bytes that are not valid UTF-8"),
                "bad-encoding",
            )
        )
    problems.append(
        (
            pl.col(_EXTRA).is_not_null() | short,
            pl.format("expected {} fields, found {}", pl.lit(width), found),
            "malformed-line",
        )
    )
    for fault, reason, _ in value_faults:
        problems.append((fault, reason, "type-mismatch"))
    bad = pl.any_horizontal([p for p, _, _ in problems]) if problems else pl.lit(False)
    bad = bad.fill_null(False)
    faults = [(f, c) for f, _, c in value_faults]
    # what a batch must show for a row of it to be bad: checked from null counts, which
    # cost nothing, so a clean batch is passed on without evaluating ``bad`` row by row
    quick: list[tuple[str, bool, pl.Expr]] | None = None
    if not (spec.header and header != names) and (lossy or strict) and not quoted:
        quick = [(_EXTRA, True, pl.col(_EXTRA).is_not_null()), (fields[-1], False, short)]
        quick += [(f"{_TYPED}{c}", False, f) for f, _, c in value_faults]
    unmarked = frame
    frame = frame.with_columns(bad.alias(BAD))
    return CheckedCsv(
        frame,
        columns,
        shown,
        problems,
        faults,
        found.cast(pl.String()),
        width,
        exact,
        file,
        spec,
        first_line,
        unmarked,
        bad,
        quick,
    )


def first_error(rows: pl.DataFrame, shown: str, file: Path, width: int) -> MalformedRecord:
    """The ``malformed-record`` error for the first of the bad ``rows`` of ``shown``
    (``file`` is its full path, ``width`` the fields a row must have)."""
    row = rows.row(0, named=True)
    details: dict[str, object] = {"reason_code": row["code"]}
    hint = "fix the row, or set `on_bad_lines: skip` (or `dead_letter`) to go on without it"
    if row["code"] == "bad-encoding":
        hint = "set `encoding` to the file's encoding (latin-1, cp1252, ...) or to utf8-lossy"
    if row["code"] == "malformed-line":
        details["expected"] = width
        if str(row["fields"]).isdigit():
            details["found"] = int(row["fields"])
    if row["column"] is not None:
        details["column"] = row["column"]
    return MalformedRecord(
        f"{shown}:{row['line']}: {row['reason']}",
        file=str(file),
        line=row["line"],
        hint=hint,
        **details,
    )


def _type_name(dtype: pl.DataType) -> str:
    return str(dtype).lower()


def _lines_split_records(lines: pl.LazyFrame, quote: str) -> bool:
    """Whether some line holds an odd number of quotes: a quoted field spans lines (or a
    quote is never closed), so records and lines are not one to one."""
    odd = pl.col(TEXT).str.count_matches(quote, literal=True) % 2 == 1
    found = lines.select(odd.any()).collect(engine="streaming").item()
    return bool(found)
