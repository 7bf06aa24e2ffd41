"""Avro object container files in and out (fastavro).

Reading streams: records are decoded ``batch_size`` at a time through a Polars IO source,
so memory holds one batch, and the writer's schema (from the file header) gives the
columns. Writing goes through the file sinks' temporary-file-and-rename, so an Avro
output is as atomic as a Parquet one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

import polars as pl
from polars.io.plugins import register_io_source

from ocht.connector_avro.types import avro_schema, frame_schema
from ocht.connector_files import FileSink, FileSource
from ocht.errors import OchtError
from ocht.pipeline_model import AvroConnector

AVRO_EXTENSIONS = (".avro",)


class MalformedAvro(OchtError):
    """A file that is not Avro, is truncated, or whose files disagree on the schema."""

    code = "malformed-record"


class AvroSource(FileSource):
    """Avro files (a file, a glob or a folder), decoded in batches."""

    spec: AvroConnector
    extensions = AVRO_EXTENSIONS

    def _read_schema(self) -> pl.Schema:
        return self._schemas()[0]

    def _schemas(self) -> tuple[pl.Schema, list[Path]]:
        found: tuple[pl.Schema, list[Path]] | None = getattr(self, "_found", None)
        if found is None:
            files = self.files()
            schemas = [frame_schema(_writer_schema(f)) for f in files]
            for file, schema in zip(files, schemas, strict=True):
                if schema != schemas[0]:
                    raise MalformedAvro(
                        f"{file}: its schema differs from {files[0].name}'s",
                        hint="read files of one schema per input",
                        path=str(file),
                    )
            found = (schemas[0], files)
            self._found = found
        return found

    def _scan(self) -> pl.LazyFrame:
        schema, files = self._schemas()
        size = self.spec.batch_size

        def generate(
            with_columns: list[str] | None,
            predicate: pl.Expr | None,
            n_rows: int | None,
            batch_size: int | None,
        ) -> Iterator[pl.DataFrame]:
            left = n_rows
            for file in files:
                for frame in _batches(file, schema, size):
                    if with_columns is not None:
                        frame = frame.select(with_columns)
                    if predicate is not None:
                        frame = frame.filter(predicate)
                    if left is not None:
                        frame = frame.head(left)
                        left -= frame.height
                    yield frame
                    if left is not None and left <= 0:
                        return

        return register_io_source(
            generate, schema=schema, explain_name="ocht-avro", explain_detail=self.describe()
        )


class AvroSink(FileSink):
    """Avro container files, block-compressed by ``codec``; every field nullable."""

    spec: AvroConnector
    format_name: ClassVar[str] = "avro"

    def sink(self, frame: pl.LazyFrame, path: Path) -> pl.LazyFrame:
        from fastavro.write import Writer

        schema = avro_schema(frame.collect_schema(), name=self.name)
        self._file = path.open("wb")
        writer = Writer(self._file, schema, codec=self.spec.codec)
        self._writer: Any = writer

        def write(batch: pl.DataFrame) -> None:
            for record in batch.iter_rows(named=True):
                writer.write(record)
            writer.flush()

        node = frame.sink_batches(write, lazy=True)
        assert node is not None
        return node

    def finish(self, temp: Path) -> Path:
        self._close()
        return temp

    def abort(self) -> None:
        self._close()
        super().abort()

    def _close(self) -> None:
        file: IO[bytes] | None = getattr(self, "_file", None)
        if file is not None and not file.closed:
            self._writer.flush()
            file.close()


def _writer_schema(file: Path) -> dict[str, Any]:
    from fastavro import reader

    try:
        with file.open("rb") as f:
            schema = reader(f).writer_schema
    except (ValueError, EOFError, OSError) as exc:
        raise MalformedAvro(
            f"{file}: not an Avro container file ({exc})",
            hint="check the file; Avro files start with 'Obj\\x01'",
            path=str(file),
        ) from None
    if not isinstance(schema, dict):
        raise MalformedAvro(f"{file}: its schema is not a record", path=str(file))
    return schema


def _batches(file: Path, schema: pl.Schema, size: int) -> Iterator[pl.DataFrame]:
    from fastavro import reader

    with file.open("rb") as f:
        rows: list[dict[str, Any]] = []
        try:
            for record in reader(f):
                rows.append(record)  # type: ignore[arg-type]
                if len(rows) >= size:
                    yield _frame(rows, schema)
                    rows = []
        except (ValueError, EOFError, StopIteration) as exc:
            raise MalformedAvro(
                f"{file}: a block does not decode ({exc})", hint="the file may be truncated"
            ) from None
        if rows:
            yield _frame(rows, schema)


def _frame(rows: list[dict[str, Any]], schema: pl.Schema) -> pl.DataFrame:
    for row in rows:
        for key, value in row.items():
            if isinstance(value, uuid.UUID):
                row[key] = str(value)
    return pl.DataFrame(rows, schema=schema, orient="row")
