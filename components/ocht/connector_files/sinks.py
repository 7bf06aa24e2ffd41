"""File outputs: CSV, Parquet and NDJSON, written atomically by Polars' streaming sinks.

Lifecycle (driven by the executor)::

    sink.open()               # makes .{name}.{run_id}.tmp/ next to the output; fails early
    node = sink.plan(frame)   # a lazy sink node; the executor runs every node together:
    pl.collect_all([node, ...], engine="streaming")
    sink.commit()             # fsync, then os.replace onto the output: all or nothing
    # or, on any failure:
    sink.abort()              # removes the temporary folder; an older output stays as it was
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files.encoding import codec_name, polars_encoding, transcode_out
from ocht.errors import OutputWriteError
from ocht.pipeline_model import CsvConnector, NdjsonConnector, ParquetConnector
from ocht.registry import RunContext, Sink


class FileSink(Sink):
    """Base of the file sinks: a temporary file beside the output, renamed on commit.

    The temporary file lives in a hidden folder next to the output
    (``.{name}.{run_id}.tmp/{name}``), on the same file system so the rename is atomic.
    A folder rather than a bare file because Polars, when one of several outputs run by
    one ``collect_all`` fails, returns the error while the other writers may still be
    finishing: once :meth:`abort` has removed the folder, a late writer cannot create
    its file again.

    Subclasses implement :meth:`sink` (the Polars lazy sink call for a path).
    """

    atomic: ClassVar[bool] = True
    commit_last: ClassVar[bool] = True  # publishes by a rename, after every transaction
    format_name: ClassVar[str] = "file"

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self.target: Path = context.resolve(spec.path)
        self.workdir: Path | None = None
        self.temp: Path | None = None

    # -- lifecycle ------------------------------------------------------------------------
    def open(self) -> None:
        """Check the output can be written and create the temporary folder.

        Raises:
            OutputWriteError: the path is a directory, a parent is a file, or the folder
                cannot be created or written to. Nothing has been read yet.
        """
        target = self.target
        if target.is_dir():
            raise self._error(
                f"the output path {target} is a directory", "name a file, e.g. out/data.csv"
            )
        folder = target.parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except (FileExistsError, NotADirectoryError):
            raise self._error(
                f"cannot create {folder}: part of that path is a file", "pick another output path"
            ) from None
        except OSError as exc:
            raise self._error(
                f"cannot create the folder {folder}: {exc.strerror}",
                "check the permissions or pick another path",
            ) from None
        run = re.sub(r"[^A-Za-z0-9_.-]", "_", self.context.run_id)
        workdir = folder / f".{target.name}.{run}.tmp"
        _remove_tree(workdir)  # left over by a crashed run with the same id
        try:  # proves the folder is writable before any data is read
            workdir.mkdir()
        except OSError as exc:
            raise self._error(
                f"cannot write to {folder}: {exc.strerror}",
                "check the permissions or pick another path",
            ) from None
        self.workdir = workdir
        self.temp = workdir / target.name

    def plan(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """The lazy sink node writing ``frame`` to the temporary file."""
        if self.temp is None:
            self.open()
        assert self.temp is not None
        return self.sink(frame, self.temp)

    def sink(self, frame: pl.LazyFrame, path: Path) -> pl.LazyFrame:
        """Polars' lazy sink for ``frame`` into ``path``."""
        raise NotImplementedError

    def commit(self) -> None:
        """Flush the temporary file to disk and rename it onto the output.

        Raises:
            OutputWriteError: nothing was written, or the rename failed (the temporary
                file is removed and an older output stays untouched).
        """
        temp = self.temp
        if temp is None or not temp.exists():
            self.abort()
            raise self._error(
                f"nothing was written for {self.target}",
                "the output's plan was not run before commit",
            )
        try:
            temp = self.finish(temp)
            _fsync(temp)
            os.replace(temp, self.target)
            _fsync_dir(self.target.parent)
        except OSError as exc:
            self.abort()
            raise self._error(
                f"cannot publish {self.target}: {exc.strerror or exc}",
                "check the permissions and free space",
            ) from None
        except Exception:
            self.abort()
            raise
        self.abort()  # only the emptied temporary folder is left to remove

    def finish(self, temp: Path) -> Path:
        """Last step before the rename; returns the file to publish (default: ``temp``)."""
        return temp

    def abort(self) -> None:
        """Remove the temporary folder; the output (old or absent) is left as it was."""
        if self.workdir is not None:
            _remove_tree(self.workdir)
        self.workdir = None
        self.temp = None

    def describe(self) -> str:
        return f"{self.format_name}:{self.spec.path}"

    def _error(self, message: str, hint: str) -> OutputWriteError:
        return OutputWriteError(message, hint=hint, path=str(self.target), output=self.name)


class CsvSink(FileSink):
    """CSV with the spec's delimiter, header and quote character.

    Nulls are written as the first of ``null_values`` (empty when none). A non-UTF-8
    ``encoding`` is applied to the finished file before it is published. Nested columns
    (structs, lists) have no CSV form: write ``ndjson`` or ``parquet`` instead.
    """

    spec: CsvConnector
    format_name = "csv"

    def __init__(self, spec: CsvConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self.codec = codec_name(spec.encoding, where=f"outputs.{name}")

    def sink(self, frame: pl.LazyFrame, path: Path) -> pl.LazyFrame:
        nested = [name for name, dtype in frame.collect_schema().items() if dtype.is_nested()]
        if nested:
            raise self._error(
                f"CSV cannot hold the nested column(s) {', '.join(nested)}",
                "write ndjson or parquet, or flatten them first (unnest, or cast to str)",
            )
        spec = self.spec
        node = frame.sink_csv(
            path,
            separator=spec.delimiter,
            include_header=spec.header,
            quote_char=spec.quote_char or '"',
            quote_style="never" if spec.quote_char is None else None,
            null_value=spec.null_values[0] if spec.null_values else None,
            check_extension=False,
            lazy=True,
        )
        assert node is not None
        return node

    def finish(self, temp: Path) -> Path:
        if polars_encoding(self.codec) is not None:
            return temp
        encoded = temp.with_name(temp.name + ".enc")
        try:
            transcode_out(temp, encoded, self.codec)
        finally:
            temp.unlink(missing_ok=True)
        return encoded


class ParquetSink(FileSink):
    """Parquet with the spec's compression (``zstd`` by default)."""

    spec: ParquetConnector
    format_name = "parquet"

    def sink(self, frame: pl.LazyFrame, path: Path) -> pl.LazyFrame:
        node = frame.sink_parquet(path, compression=self.spec.compression, lazy=True)
        assert node is not None
        return node


class NdjsonSink(FileSink):
    """Newline-delimited JSON, one object per row (nested columns kept nested)."""

    spec: NdjsonConnector
    format_name = "ndjson"

    def sink(self, frame: pl.LazyFrame, path: Path) -> pl.LazyFrame:
        node = frame.sink_ndjson(path, check_extension=False, lazy=True)
        assert node is not None
        return node


def _remove_tree(folder: Path) -> None:
    """Remove ``folder``, again if a writer still finishing re-fills it meanwhile."""
    for _ in range(50):
        shutil.rmtree(folder, ignore_errors=True)
        if not folder.exists():
            return
        time.sleep(0.01)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDWR)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (POSIX; directories cannot be opened on Windows)."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
