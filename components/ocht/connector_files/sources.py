"""File inputs: CSV, Parquet, NDJSON and JSON documents, each read lazily by Polars.

Every source accepts a file, a glob or a directory as ``path`` and reads all the files it
names as one input (see :func:`~ocht.connector_files.paths.resolve_inputs`).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files.bad_json import infer_schema as infer_json_schema
from ocht.connector_files.bad_json import split_bad_json
from ocht.connector_files.bad_lines import split_bad_lines
from ocht.connector_files.diagnose import explain_error
from ocht.connector_files.dtypes import parse_schema
from ocht.connector_files.encoding import codec_name, polars_encoding, sample, transcode
from ocht.connector_files.paths import (
    CSV_EXTENSIONS,
    JSON_EXTENSIONS,
    NDJSON_EXTENSIONS,
    PARQUET_EXTENSIONS,
    resolve_inputs,
)
from ocht.errors import OchtError
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
        return parse_schema(types, where=f"inputs.{self.name}.{field}")


class CsvSource(FileSource):
    """CSV (or any delimited text) through ``pl.scan_csv``.

    UTF-8 (``utf8``, ``utf8-lossy``) is read in place. Any other encoding is first
    transcoded, chunk by chunk, to a UTF-8 copy in the run's folder (removed by
    :meth:`close`), which is then scanned; :meth:`schema` reads only a decoded sample.

    With ``on_bad_lines: fail`` a row with extra fields, or a value that does not parse
    as its column's type, fails the run when the frame is collected; pass the error to
    :func:`~ocht.connector_files.explain_error` for a ``malformed-record`` error naming the
    file and line. With ``skip`` extra fields are dropped and unparseable values read as
    null so the run goes on. With ``dead_letter`` bad lines leave the input and come out of
    :meth:`dead_letters`. A row with *fewer* fields is read, under ``fail`` and ``skip``,
    with the missing trailing fields as null (Polars' behaviour).

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

    def options(self) -> dict[str, Any]:
        """Keyword arguments for ``pl.scan_csv`` (without the source and encoding)."""
        spec = self.spec
        opts: dict[str, Any] = {
            "has_header": spec.header,
            "separator": spec.delimiter,
            "quote_char": spec.quote_char,
            "null_values": spec.null_values or None,
            "skip_rows": spec.skip_rows,
            "comment_prefix": spec.comment_prefix,
            "infer_schema_length": spec.infer_schema_length,
            "try_parse_dates": spec.try_parse_dates,
            "glob": False,
        }
        schema = self._schema(spec.schema_)
        overrides = self._schema(spec.schema_overrides, "schema_overrides")
        if schema is not None:
            opts["schema"] = {**schema, **(overrides or {})}
        elif overrides is not None:
            opts["schema_overrides"] = overrides
        if spec.on_bad_lines in ("skip", "dead_letter"):
            opts["truncate_ragged_lines"] = True
            opts["ignore_errors"] = True
        return opts

    def scan(self) -> pl.LazyFrame:
        if self.spec.on_bad_lines == "dead_letter":
            return self._split_bad_lines()[0]
        files = self.files()
        encoding = polars_encoding(self.codec)
        if encoding is None:
            files, encoding = self._utf8_copies(files), "utf8"
        return pl.scan_csv([str(f) for f in files], encoding=encoding, **self.options())

    def dead_letters(self) -> pl.LazyFrame | None:
        """With ``on_bad_lines: dead_letter``, the rejected lines (raw text, reason, code,
        ``file:line``) that :meth:`scan` leaves out; ``None`` otherwise."""
        return self._split_bad_lines()[1] if self.spec.on_bad_lines == "dead_letter" else None

    def _split_bad_lines(self) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        split: tuple[pl.LazyFrame, pl.LazyFrame] | None = getattr(self, "_bad_split", None)
        if split is None:
            shown = self.files()
            files = shown if polars_encoding(self.codec) is not None else self._utf8_copies(shown)
            if self.spec.schema_ is None and self.spec.infer_schema_length is None:
                schema = pl.scan_csv(
                    [str(f) for f in files[:1]], encoding="utf8-lossy", **self.options()
                ).collect_schema()
            else:
                schema = self.schema()
            strict = self.spec.encoding.lower().replace("-", "") == "utf8"
            split = split_bad_lines(
                files,
                spec=self.spec,
                schema=schema,
                lossy=not strict,
                shown=[_relative(f, self.context.base_dir) for f in shown],
            )
            self._bad_split = split
        return split

    def _read_schema(self) -> pl.Schema:
        opts = self.options()
        files = self.files()  # a missing input fails here, at compile time
        if self.spec.on_bad_lines == "dead_letter":
            files = files[:1]  # the first file sets the columns; drifting files are rejected
        if "schema" in opts:
            return pl.Schema(opts["schema"])
        encoding = polars_encoding(self.codec)
        if encoding is not None:
            return pl.scan_csv([str(f) for f in files], encoding=encoding, **opts).collect_schema()
        if self.spec.infer_schema_length is None:
            return self.scan().collect_schema()
        # header, skipped rows and the inference window, decoded: no full transcode
        lines = self.spec.skip_rows + self.spec.infer_schema_length + 1
        head = sample(files[0], self.codec, lines)
        opts.pop("glob")
        return pl.scan_csv(head, encoding="utf8", **opts).collect_schema()

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
    date type: declare ``schema`` to read ``"2024-01-31"`` as a date.
    """

    spec: NdjsonConnector
    extensions = NDJSON_EXTENSIONS

    def scan(self) -> pl.LazyFrame:
        if self.spec.on_bad_lines == "dead_letter":
            return self._split_bad_json()[0]
        return pl.scan_ndjson(
            [str(f) for f in self.files()],
            schema=self._schema(self.spec.schema_),
            infer_schema_length=self.spec.infer_schema_length,
        )

    def dead_letters(self) -> pl.LazyFrame | None:
        """With ``on_bad_lines: dead_letter``, the lines that are not JSON objects of the
        input's types (raw text, reason, ``file:line``); ``None`` otherwise."""
        return self._split_bad_json()[1] if self.spec.on_bad_lines == "dead_letter" else None

    def _read_schema(self) -> pl.Schema:
        if self.spec.on_bad_lines == "dead_letter":
            declared = self._schema(self.spec.schema_)
            if declared is not None:
                return pl.Schema(declared)
            return infer_json_schema(self.files(), self.spec.infer_schema_length)
        return super()._read_schema()

    def _split_bad_json(self) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        split: tuple[pl.LazyFrame, pl.LazyFrame] | None = getattr(self, "_bad_split", None)
        if split is None:
            files = self.files()
            split = split_bad_json(
                files,
                schema=self.schema(),
                shown=[_relative(f, self.context.base_dir) for f in files],
            )
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
            declared = self._schema(self.spec.schema_)
            frames = [pl.read_json(f, schema=declared) for f in files]
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
