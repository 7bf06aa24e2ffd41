"""File inputs: CSV, Parquet, NDJSON and JSON documents, each read lazily by Polars.

Every source accepts a file, a glob or a directory as ``path`` and reads all the files it
names as one input (see :func:`~ocht.connector_files.paths.resolve_inputs`).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files.bad_json import infer_schema as infer_json_schema
from ocht.connector_files.bad_json import split_bad_json
from ocht.connector_files.csv_fast import eligible, read_fast
from ocht.connector_files.csv_lines import find_line, header_of, record_line, survey
from ocht.connector_files.csv_read import CheckedCsv, first_error, read_checked
from ocht.connector_files.diagnose import explain_error
from ocht.connector_files.dtypes import Columns, detect_dates, parse_schema
from ocht.connector_files.encoding import codec_name, polars_encoding, sample, transcode
from ocht.connector_files.json_dates import LINE, Temporal, splitter
from ocht.connector_files.paths import (
    CSV_EXTENSIONS,
    JSON_EXTENSIONS,
    NDJSON_EXTENSIONS,
    PARQUET_EXTENSIONS,
    resolve_inputs,
)
from ocht.errors import ConnectorError, OchtError
from ocht.pipeline_model import CsvConnector, JsonConnector, NdjsonConnector, ParquetConnector
from ocht.registry import RunContext, Source


class FileSource(Source):
    """Base of the file sources: path resolution and a description.

    Subclasses set :attr:`extensions` (what a directory input picks up) and implement
    :meth:`scan`.
    """

    extensions: ClassVar[tuple[str, ...]] = ()

    def files(self) -> list[Path]:
        """The files this input reads, sorted.

        Raises:
            SourceUnreachable: nothing matches the path.
        """
        return resolve_inputs(self.spec.path, self.context, self.extensions)

    def schema(self) -> pl.Schema:
        """The input's columns and types, from a header, a footer or a sample.

        Raises:
            SourceUnreachable: nothing matches the path.
            MalformedRecord: the sample does not parse (file and line named).
        """
        try:
            return self._read_schema()
        except pl.exceptions.PolarsError as exc:
            explained = self.explain_error(exc)
            if explained is None:
                raise
            raise explained from exc

    def explain_error(self, exc: BaseException) -> OchtError | None:
        """An Ocht error naming file and line for a Polars error raised while reading this
        input (collecting :meth:`scan`), or ``None`` when there is nothing to add.

        The executor calls it on every source when a run fails.
        """
        return explain_error(exc, self.spec, self.context)

    def describe(self) -> str:
        return f"{self.spec.type}:{self.spec.path}"

    def _read_schema(self) -> pl.Schema:
        return self.scan().collect_schema()

    def _schema(self, types: dict[str, str] | None, field: str = "schema") -> dict[str, Any] | None:
        if not types:
            return None
        return parse_schema(types, where=f"inputs.{self.name}.{field}")[0]


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

    def limit_scan(self, rows: int | None) -> None:
        """Read at most ``rows`` records per file (good and bad), e.g. for ``--limit``."""
        self._limit = rows
        self._checked = None

    def columns(self) -> Columns:
        """The input's columns, types and temporal formats (declared or from a sample)."""
        if self._columns is None:
            self._columns = self._find_columns()
        return self._columns

    def scan(self) -> pl.LazyFrame:
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

    def dead_letters(self) -> pl.LazyFrame | None:
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
        shown = _relative(file, self.context.base_dir)
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
                name = _relative(original, self.context.base_dir)
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
                f"{_relative(file, self.context.base_dir)} is empty (not even a header)",
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


class ParquetSource(FileSource):
    """Parquet through ``pl.scan_parquet``; :meth:`schema` reads only the file footer."""

    spec: ParquetConnector
    extensions = PARQUET_EXTENSIONS

    def scan(self) -> pl.LazyFrame:
        return pl.scan_parquet([str(f) for f in self.files()], glob=False)


class NdjsonSource(FileSource):
    """Newline-delimited JSON through ``pl.scan_ndjson`` (streams; the scalable JSON).

    Nested objects and arrays come through as ``Struct`` and ``List`` columns. JSON has no
    date type: a string field whose sampled values are all dates or timestamps in one
    known format is parsed with that format (see :mod:`ocht.connector_files.json_dates`),
    and ``schema`` may declare one (``ts: datetime('%d/%m/%Y %H:%M')``).
    """

    spec: NdjsonConnector
    extensions = NDJSON_EXTENSIONS

    def __init__(self, spec: NdjsonConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._found: tuple[pl.Schema, Temporal] | None = None

    def scan(self) -> pl.LazyFrame:
        if self.spec.on_bad_lines == "dead_letter":
            return self._split_bad_json()[0]
        raw, temporal = self._columns()
        if not temporal.fields:
            return pl.scan_ndjson(
                [str(f) for f in self.files()],
                schema=self._schema(self.spec.schema_),
                infer_schema_length=self.spec.infer_schema_length,
            )
        frames = [
            temporal.failing(
                pl.scan_ndjson(
                    str(f), schema=temporal.as_text(raw), row_index_name=LINE, row_index_offset=1
                ),
                _relative(f, self.context.base_dir),
                f,
            )
            for f in self.files()
        ]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")

    def dead_letters(self) -> pl.LazyFrame | None:
        """With ``on_bad_lines: dead_letter``, the lines that are not JSON objects of the
        input's types (raw text, reason, ``file:line``); ``None`` otherwise."""
        return self._split_bad_json()[1] if self.spec.on_bad_lines == "dead_letter" else None

    def _read_schema(self) -> pl.Schema:
        raw, temporal = self._columns()
        return pl.Schema(
            {n: temporal.fields[n][0] if n in temporal.fields else t for n, t in raw.items()}
        )

    def _columns(self) -> tuple[pl.Schema, Temporal]:
        """The fields as read (temporal ones as text) and the temporal fields."""
        if self._found is None:
            files = self.files()
            sample: pl.DataFrame | None = None
            formats: dict[str, str] = {}
            if self.spec.schema_:
                dtypes, formats = parse_schema(
                    self.spec.schema_, where=f"inputs.{self.name}.schema"
                )
                raw = pl.Schema(dtypes)
            elif self.spec.on_bad_lines == "dead_letter":
                raw = infer_json_schema(files, self.spec.infer_schema_length)
            else:
                raw = pl.scan_ndjson(
                    [str(f) for f in files], infer_schema_length=self.spec.infer_schema_length
                ).collect_schema()
            if not self.spec.schema_:
                with contextlib.suppress(pl.exceptions.PolarsError):
                    length = self.spec.infer_schema_length or 10_000
                    sample = pl.scan_ndjson(
                        str(files[0]), schema=raw, ignore_errors=True, n_rows=min(length, 10_000)
                    ).collect()
            self._found = (raw, Temporal.find(raw, sample, formats))
        return self._found

    def _split_bad_json(self) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        split: tuple[pl.LazyFrame, pl.LazyFrame] | None = getattr(self, "_bad_split", None)
        if split is None:
            files = self.files()
            raw, temporal = self._columns()
            good, dead = split_bad_json(
                files,
                schema=temporal.as_text(raw),
                shown=[_relative(f, self.context.base_dir) for f in files],
            )
            good, bad_values = splitter(temporal, list(raw.names()), self.spec.path)(good)
            if temporal.fields:
                dead = pl.concat([dead, bad_values], how="vertical_relaxed")
            split = (good, dead)
            self._bad_split = split
        return split


class JsonSource(FileSource):
    """A JSON document holding an array of objects, through ``pl.read_json``.

    A JSON document cannot be read in pieces: the whole file is parsed in memory (once,
    when the frame is first needed). Prefer ``ndjson`` for large inputs. Nested objects
    and arrays come through as ``Struct`` and ``List`` columns.
    """

    spec: JsonConnector
    extensions = JSON_EXTENSIONS

    def __init__(self, spec: JsonConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._frame: pl.DataFrame | None = None

    def scan(self) -> pl.LazyFrame:
        files = self.files()
        declared = self._schema(self.spec.schema_)

        def load() -> pl.DataFrame:
            return self._load(files)

        def schema() -> pl.Schema:
            return pl.Schema(declared) if declared is not None else self._load(files).schema

        # deferred: nothing is parsed until the plan runs (or its schema is asked for)
        return pl.defer(load, schema=schema)

    def _read_schema(self) -> pl.Schema:
        declared = self._schema(self.spec.schema_)
        files = self.files()
        return pl.Schema(declared) if declared is not None else self._load(files).schema

    def close(self) -> None:
        self._frame = None

    def _load(self, files: list[Path]) -> pl.DataFrame:
        if self._frame is None:
            formats: dict[str, str] = {}
            declared: pl.Schema | None = None
            if self.spec.schema_:
                dtypes, formats = parse_schema(
                    self.spec.schema_, where=f"inputs.{self.name}.schema"
                )
                declared = pl.Schema(dtypes)
            frames = []
            for f in files:
                if declared is not None:
                    temporal = Temporal.find(declared, None, formats)
                    frame = pl.read_json(f, schema=temporal.as_text(declared))
                else:
                    frame = pl.read_json(f)
                    temporal = Temporal.find(frame.schema, frame.head(10_000), {})
                if temporal.fields:
                    frame = temporal.failing(
                        frame.lazy().with_row_index(LINE, offset=1),
                        _relative(f, self.context.base_dir),
                        f,
                    ).collect()
                frames.append(frame)
            self._frame = (
                frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
            )
        return self._frame


def _relative(file: Path, base: Path) -> str:
    """``file`` relative to ``base`` when under it (for dead letters' ``position``)."""
    try:
        return str(file.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(file)
