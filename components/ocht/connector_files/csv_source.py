"""CSV inputs: every row checked, under every ``on_bad_lines`` (see
:mod:`ocht.connector_files.csv_read` and :mod:`ocht.connector_files.csv_fast`)."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from ocht.connector_files.csv_fast import eligible, read_fast
from ocht.connector_files.csv_lines import find_line, header_of, record_line, survey
from ocht.connector_files.csv_read import CheckedCsv, first_error, read_checked
from ocht.connector_files.dtypes import Columns, detect_dates
from ocht.connector_files.encoding import codec_name, polars_encoding, sample, transcode
from ocht.connector_files.errors import MalformedRecord
from ocht.connector_files.paths import CSV_EXTENSIONS
from ocht.connector_files.sources import FileSource, relative
from ocht.errors import ConnectorError, OchtError
from ocht.pipeline_model import CsvConnector
from ocht.registry import RunContext


class CsvSource(FileSource):
    """CSV (or any delimited text), read by Polars with every row checked.

    UTF-8 (``utf8``, ``utf8-lossy``) is read in place. Any other encoding is first
    transcoded, chunk by chunk, to a UTF-8 copy in the run's folder (removed by
    :meth:`close`); :meth:`schema` reads only a decoded sample.

    Columns are declared (``schema``) or inferred from the first ``infer_schema_length``
    rows; with ``try_parse_dates`` a text column whose sampled values are all dates or
    timestamps in one known format is read with that explicit format. A row is bad when
    it has fewer or more fields than the header, a value that does not fit its column's
    type, or bytes that are not valid UTF-8 (see :mod:`ocht.connector_files.csv_read`).
    ``on_bad_lines`` says what happens to it: ``fail`` stops the run at the first, naming
    file and line (nothing is written); ``skip`` drops it and counts it
    (:attr:`skipped`); ``dead_letter`` drops it from the input and sends it out of
    :meth:`dead_letters`.

    Example:
        >>> import tempfile, pathlib
        >>> from ocht.pipeline_model import CsvConnector
        >>> folder = pathlib.Path(tempfile.mkdtemp())
        >>> _ = (folder / "a.csv").write_text("x,y\\n1,b\\n")
        >>> src = CsvSource(CsvConnector(type="csv", path="a.csv"), name="a",
        ...                 context=RunContext("r1", "p", base_dir=folder))
        >>> src.scan().collect().to_dicts()
        [{'x': 1, 'y': 'b'}]
    """

    spec: CsvConnector
    extensions = CSV_EXTENSIONS

    def __init__(self, spec: CsvConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self.codec = codec_name(spec.encoding, where=f"inputs.{name}")
        self._workdir: Path | None = None
        self._transcoded: list[Path] | None = None
        self._columns: Columns | None = None
        self._checked: list[tuple[Path, Path, CheckedCsv | pl.LazyFrame]] | None = None
        self._limit: int | None = None
        #: bad rows dropped so far under ``on_bad_lines: skip``
        self.skipped = 0
        self._failures: list[MalformedRecord] = []

    def explain_error(self, exc: BaseException) -> OchtError | None:
        """The error of the bad row that stopped the read, else as
        :meth:`FileSource.explain_error`."""
        if self._failures:
            return self._failures[0]
        return super().explain_error(exc)

    def limit_scan(self, rows: int | None) -> None:
        """Read at most ``rows`` records per file (good and bad), e.g. for ``--limit``."""
        self._limit = rows
        self._checked = None

    def columns(self) -> Columns:
        """The input's columns, types and temporal formats (declared or from a sample)."""
        if self._columns is None:
            self._columns = self._find_columns()
        return self._columns

    def _scan(self) -> pl.LazyFrame:
        mode = self.spec.on_bad_lines
        frames: list[pl.LazyFrame] = []
        for _file, original, checked in self._read():
            if isinstance(checked, pl.LazyFrame):
                frames.append(checked)  # Polars' own parser, checked as it goes
            elif mode == "dead_letter":
                frames.append(checked.good())
            elif mode == "skip":
                frames.append(checked.checked(self._count))
            else:
                frames.append(checked.checked(self._raiser(checked, original)))
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")

    def _dead_letters(self) -> pl.LazyFrame | None:
        """With ``on_bad_lines: dead_letter``, the rejected rows (raw text, reason, code,
        ``file:line``) that :meth:`scan` leaves out; ``None`` otherwise."""
        if self.spec.on_bad_lines != "dead_letter":
            return None
        dead = [c.dead() for _, _, c in self._read() if isinstance(c, CheckedCsv)]
        return dead[0] if len(dead) == 1 else pl.concat(dead, how="vertical")

    def _read_schema(self) -> pl.Schema:
        return self.columns().schema()

    def _raiser(self, checked: CheckedCsv, file: Path) -> Callable[[pl.DataFrame], None]:
        def fail(rows: pl.DataFrame) -> None:
            if rows.item(0, "line") is None:  # read without numbering lines
                line = find_line(checked.path, spec, rows.item(0, "record"))
                rows = rows.with_columns(pl.lit(line).alias("line"))
            elif not checked.exact_lines:
                first = header_of(file, spec)[1] + 1 if spec.header else spec.skip_rows + 1
                line = record_line(checked.path, spec, rows.item(0, "line") - first)
                rows = rows.with_columns(pl.lit(line).alias("line"))
            raise first_error(rows, checked.shown, file, checked.width)

        spec = self.spec
        return fail

    def _same_columns(self, header: list[str], columns: Columns, file: Path) -> None:
        missing = [c for c in columns.names if c not in header]
        extra = [c for c in header if c not in columns.names]
        if not missing and not extra:
            return
        shown = relative(file, self.context.base_dir)
        parts = []
        if missing:
            parts.append(f"the header lacks {', '.join(missing)}")
        if extra:
            parts.append(f"the input's columns lack {', '.join(extra)}")
        raise ConnectorError(
            f"{shown}: the header does not match the input's columns: {'; '.join(parts)}",
            code="schema-mismatch",
            file=str(file),
            header=header,
            hint="name every header column in `schema` (or use `schema_overrides` for a few); "
            "files of one input share their header",
        )

    def _count(self, rows: pl.DataFrame) -> None:
        self.skipped += rows.height

    def skipped_rows(self) -> int:
        """Bad rows dropped under ``on_bad_lines: skip`` (known once the input was read)."""
        return self.skipped

    def _read(self) -> list[tuple[Path, Path, CheckedCsv | pl.LazyFrame]]:
        """Per file: the file read, the file named, and its reader (a checked frame from
        Polars' own parser when that sees every bad row, see :mod:`.csv_fast`)."""
        if self._checked is None:
            spec = self.spec
            shown = self.files()
            files = shown if polars_encoding(self.codec) is not None else self._utf8_copies(shown)
            columns = self.columns()
            if spec.on_bad_lines == "fail" and spec.header:
                for file, original in zip(files, shown, strict=True):
                    self._same_columns(header_of(file, spec)[0], columns, original)
            self._checked = []
            for file, original in zip(files, shown, strict=True):
                name = relative(original, self.context.base_dir)
                shape = survey(file, spec)
                header = header_of(file, spec)[0] if spec.header else columns.names
                reader: CheckedCsv | pl.LazyFrame
                if spec.on_bad_lines == "fail" and eligible(spec, shape, header, columns):
                    reader = read_fast(
                        file,
                        spec=spec,
                        columns=columns,
                        shown=name,
                        original=original,
                        failures=self._failures,
                        limit=self._limit,
                    )
                else:
                    reader = read_checked(
                        file,
                        spec=spec,
                        columns=columns,
                        shown=name,
                        lossy=self.codec == "utf8-lossy",
                        strict=spec.on_bad_lines == "fail",
                        lines_needed=spec.on_bad_lines == "dead_letter",
                        shape=shape,
                        limit=self._limit,
                    )
                self._checked.append((file, original, reader))
        return self._checked

    def _find_columns(self) -> Columns:
        spec = self.spec
        where = f"inputs.{self.name}"
        files = self.files()  # a missing input fails here, at compile time
        if spec.schema_ is not None:
            columns = Columns.declared(spec.schema_, f"{where}.schema")
        else:
            columns = self._infer(files[0])
        if spec.schema_overrides:
            columns = columns.with_overrides(spec.schema_overrides, f"{where}.schema_overrides")
        return columns

    def _infer(self, file: Path) -> Columns:
        spec = self.spec
        if file.stat().st_size == 0:
            raise ConnectorError(
                f"{relative(file, self.context.base_dir)} is empty (not even a header)",
                code="empty-input",
                file=str(file),
                hint="remove the file, or write at least the header line",
            )
        length = spec.infer_schema_length
        source: Path | bytes = file
        if polars_encoding(self.codec) is None:
            # header, skipped rows and the inference window, decoded: no full transcode
            source = sample(file, self.codec, spec.skip_rows + (length or 100_000) + 1)
        opts: dict[str, Any] = {
            "has_header": spec.header,
            "separator": spec.delimiter,
            "quote_char": spec.quote_char,
            "skip_rows": spec.skip_rows,
            "comment_prefix": spec.comment_prefix,
            "null_values": spec.null_values or None,
            "truncate_ragged_lines": True,
            "encoding": "utf8-lossy",
        }
        frame = pl.read_csv(
            source,
            infer_schema_length=length,
            n_rows=length,
            try_parse_dates=False,
            ignore_errors=True,  # only the sample's first rows set the types
            **opts,
        )
        names = header_of(file, spec)[0] if spec.header and isinstance(source, Path) else None
        if names is None or len(names) != frame.width:
            names = frame.columns
        frame.columns = names
        dtypes = dict(zip(names, frame.dtypes, strict=True))
        for column, dtype in list(dtypes.items()):
            if dtype == pl.String:
                dtypes[column] = _mostly_numeric(frame.get_column(column)) or dtype
        formats: dict[str, str] = {}
        if spec.try_parse_dates and length != 0:
            for column, (dtype, fmt) in detect_dates(frame.head(10_000)).items():
                dtypes[column] = dtype
                formats[column] = fmt
        return Columns(names, dtypes, formats)

    def close(self) -> None:
        """Remove the UTF-8 copies made for a non-UTF-8 input."""
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None
        self._transcoded = None

    def _utf8_copies(self, files: list[Path]) -> list[Path]:
        if self._transcoded is None:
            workdir = self._make_workdir()
            self._transcoded = []
            for i, file in enumerate(files):
                copy = workdir / f"{i:05d}-{file.name}"
                transcode(file, copy, self.codec)
                self._transcoded.append(copy)
        return self._transcoded

    def _make_workdir(self) -> Path:
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name) or "input"
        try:
            base = self.context.run_dir / "tmp"
            base.mkdir(parents=True, exist_ok=True)
            self._workdir = Path(tempfile.mkdtemp(prefix=f"{safe}-", dir=base))
        except OSError:
            self._workdir = Path(tempfile.mkdtemp(prefix=f"ocht-{safe}-"))
        return self._workdir


def _mostly_numeric(values: pl.Series) -> pl.DataType | None:
    """``Int64`` or ``Float64`` when all but a stray few of a text column's sampled values
    are numbers (at most one in a hundred, and at least twenty values seen): the strays
    are then bad values under ``on_bad_lines``, instead of turning the column into text
    and failing later on a comparison."""
    seen = values.drop_nulls()
    if seen.len() < 20:
        return None
    allowed = max(1, seen.len() // 100)
    for dtype in (pl.Int64(), pl.Float64()):
        strays = seen.cast(dtype, strict=False).null_count()
        if 0 < strays <= allowed:
            return dtype
    return None
