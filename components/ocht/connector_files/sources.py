"""File inputs: CSV, Parquet, NDJSON and JSON documents, each read lazily by Polars.

Every source accepts a file, a glob or a directory as ``path`` and reads all the files it
names as one input (see :func:`~ocht.connector_files.paths.resolve_inputs`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files.bad_json import infer_schema as infer_json_schema
from ocht.connector_files.bad_json import split_bad_json
from ocht.connector_files.diagnose import explain_error
from ocht.connector_files.dtypes import parse_schema
from ocht.connector_files.json_dates import LINE, Temporal, splitter
from ocht.connector_files.ledger import FileLedger
from ocht.connector_files.paths import (
    JSON_EXTENSIONS,
    NDJSON_EXTENSIONS,
    PARQUET_EXTENSIONS,
    resolve_inputs,
)
from ocht.errors import OchtError
from ocht.pipeline_model import JsonConnector, NdjsonConnector, ParquetConnector
from ocht.registry import RunContext, Source


class FileSource(Source):
    """Base of the file sources: path resolution and a description.

    Subclasses set :attr:`extensions` (what a directory input picks up) and implement
    :meth:`scan`.
    """

    extensions: ClassVar[tuple[str, ...]] = ()

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._files: list[Path] | None = None
        self._ledger: FileLedger | None = None
        self._nothing_new = False

    def files(self) -> list[Path]:
        """The files this input reads, sorted (under ``incremental: files``, only the ones
        no earlier successful run loaded; when there are none, the newest known file, read
        for its columns only).

        Raises:
            SourceUnreachable: nothing matches the path.
        """
        if self._files is None:
            found = resolve_inputs(self.spec.path, self.context, self.extensions)
            if getattr(self.spec, "incremental", None) == "files":
                self._ledger = FileLedger(self.context.state_of(self.name))
                fresh = [f for f in found if self._ledger.is_new(str(f), _signature(f))]
                for f in fresh:
                    self._ledger.add(str(f), _signature(f))
                self._nothing_new = not fresh
                found = fresh or found[-1:]
            self._files = found
        return self._files

    def scan(self) -> pl.LazyFrame:
        """The input's rows (none when an incremental input has no new file)."""
        frame = self._scan()
        return frame.head(0) if self._nothing_new else frame

    def _scan(self) -> pl.LazyFrame:
        raise NotImplementedError

    def dead_letters(self) -> pl.LazyFrame | None:
        """The rows the reader rejected (``on_bad_lines: dead_letter``), else ``None``."""
        self.files()
        return None if self._nothing_new else self._dead_letters()

    def _dead_letters(self) -> pl.LazyFrame | None:
        return None

    def state(self) -> dict[str, Any] | None:
        """The files loaded so far, stored when the run commits (``incremental: files``)."""
        return self._ledger.state() if self._ledger is not None else None

    def file_counts(self) -> tuple[int, int] | None:
        """(new, skipped) files under ``incremental: files``, else ``None``."""
        return (self._ledger.new, self._ledger.skipped) if self._ledger is not None else None

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


class ParquetSource(FileSource):
    """Parquet through ``pl.scan_parquet``; :meth:`schema` reads only the file footer."""

    spec: ParquetConnector
    extensions = PARQUET_EXTENSIONS

    def _scan(self) -> pl.LazyFrame:
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

    def _scan(self) -> pl.LazyFrame:
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
                relative(f, self.context.base_dir),
                f,
            )
            for f in self.files()
        ]
        return frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical")

    def _dead_letters(self) -> pl.LazyFrame | None:
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
                shown=[relative(f, self.context.base_dir) for f in files],
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

    def _scan(self) -> pl.LazyFrame:
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
                        relative(f, self.context.base_dir),
                        f,
                    ).collect()
                frames.append(frame)
            self._frame = (
                frames[0] if len(frames) == 1 else pl.concat(frames, how="diagonal_relaxed")
            )
        return self._frame


def relative(file: Path, base: Path) -> str:
    """``file`` relative to ``base`` when under it (for dead letters' ``position``)."""
    try:
        return str(file.resolve().relative_to(base.resolve()))
    except ValueError:
        return str(file)


def _signature(file: Path) -> str:
    """What marks a file as changed: its size and modification time."""
    stat = file.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"
