"""File outputs: CSV, Parquet and NDJSON, written atomically by Polars' streaming sinks.

Lifecycle (driven by the executor)::

    sink.open()               # makes the temporary folder (see below); fails early
    node = sink.plan(frame)   # a lazy sink node; the executor runs every node together:
    pl.collect_all([node, ...], engine="streaming")
    sink.commit()             # fsync, then os.replace onto the output: all or nothing
    # or, on any failure:
    sink.abort()              # removes the temporary folder; an older output stays as it was

Temporary files live where no glob of the output's folder reads them: in the run's own
folder (``<run folder>/tmp/outputs/``) when it is on the output's file system, else in a
``.ocht-tmp/<run id>/`` folder beside the output's folder (never inside it). Each such
folder holds an owner file (host and process id); :func:`sweep_temporary` removes the
folders of processes that are gone (a run killed with SIGKILL), and every sink sweeps its
own temporary root when it opens.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import time
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files.encoding import codec_name, polars_encoding, transcode_out
from ocht.errors import OutputWriteError
from ocht.pipeline_model import CsvConnector, NdjsonConnector, ParquetConnector
from ocht.registry import RunContext, Sink


class FileSink(Sink):
    """Base of the file sinks: a temporary file out of the output's folder, renamed on
    commit.

    The temporary file lives in a folder of its own (see the module doc), on the output's
    file system so the rename is atomic. A folder rather than a bare file because Polars, when one of several outputs run by
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
        workdir = self._temporary_folder(folder)
        self.workdir = workdir
        self.temp = workdir / target.name

    def _temporary_folder(self, folder: Path) -> Path:
        """A fresh, owned folder for this output's temporary file, out of ``folder``."""
        run = _safe(self.context.run_id)
        name = f"{_safe(self.name)}-{_safe(self.target.name)}"
        last: OSError | None = None
        for root in _temporary_roots(self.context, folder, run):
            # the run folders (for <run>/tmp/outputs) or the .ocht-tmp folder
            sweep_temporary(root.parent.parent.parent if root.name == "outputs" else root.parent)
            workdir = root / name
            _remove_tree(workdir)  # left over by a crashed run with the same id
            try:  # proves the place is writable before any data is read
                workdir.mkdir(parents=True)
                _claim(root)
            except OSError as exc:
                last = exc
                continue
            return workdir
        detail = last.strerror if last is not None else "no place for a temporary file"
        raise self._error(
            f"cannot write to {folder}: {detail}", "check the permissions or pick another path"
        )

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
            _release(self.workdir.parent)
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
        node = frame.sink_csv(path, **csv_write_options(spec), check_extension=False, lazy=True)
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


def csv_write_options(spec: CsvConnector) -> dict[str, Any]:
    """``sink_csv`` keywords for a CSV output's delimiter, header, quoting and nulls
    (shared by local and object-store outputs)."""
    return {
        "separator": spec.delimiter,
        "include_header": spec.header,
        "quote_char": spec.quote_char or '"',
        "quote_style": "never" if spec.quote_char is None else None,
        "null_value": spec.null_values[0] if spec.null_values else None,
    }


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


_OWNER = ".owner"


def sweep_temporary(root: Path) -> list[Path]:
    """Remove the temporary outputs under ``root`` whose owning process is gone.

    ``root`` is a ``.ocht-tmp`` folder (each child a run's folder with an owner file) or
    the folder holding the run folders (each child's ``tmp/outputs``). Folders of live
    processes, and of other hosts, are left alone. The executor may call it at start-up;
    every file sink also calls it for its own place when it opens.

    Returns:
        The folders removed.

    Example:
        >>> import tempfile, pathlib
        >>> sweep_temporary(pathlib.Path(tempfile.mkdtemp()))
        []
    """
    removed: list[Path] = []
    try:
        children = [c for c in root.iterdir() if c.is_dir()]
    except OSError:
        return removed
    for child in children:
        for folder in (child, child / "tmp" / "outputs"):
            owner = _owner_of(folder)
            if owner is None or owner[0] != socket.gethostname() or _alive(owner[1]):
                continue
            _remove_tree(folder)
            removed.append(folder)
    if root.name == ".ocht-tmp":
        with contextlib.suppress(OSError):
            root.rmdir()  # only when empty
    return removed


def _temporary_roots(context: RunContext, folder: Path, run: str) -> list[Path]:
    """Where this run's temporary outputs may go, best first: the run's folder, the
    project's ``.ocht-tmp`` (both only on the output's file system and out of its
    folder), a ``.ocht-tmp`` beside the output's folder, and last a hidden one in it."""
    roots: list[Path] = []
    device = folder.stat().st_dev
    run_dir, base = context.run_dir, context.base_dir
    with contextlib.suppress(OSError):
        run_dir.mkdir(parents=True, exist_ok=True)
        if run_dir.stat().st_dev == device and not run_dir.is_relative_to(folder):
            roots.append(run_dir / "tmp" / "outputs")
    with contextlib.suppress(OSError):
        if folder != base and folder.is_relative_to(base) and base.stat().st_dev == device:
            roots.append(base / ".ocht-tmp" / run)
    if folder.parent != folder:
        roots.append(folder.parent / ".ocht-tmp" / run)
    roots.append(folder / ".ocht-tmp" / run)
    return list(dict.fromkeys(roots))


def _claim(root: Path) -> None:
    owner = root / _OWNER
    if not owner.exists():
        owner.write_text(f"{socket.gethostname()}\n{os.getpid()}\n")


def _release(root: Path) -> None:
    """Remove ``root`` once no temporary folder is left in it."""
    try:
        if all(c.name == _OWNER for c in root.iterdir()):
            (root / _OWNER).unlink(missing_ok=True)
            root.rmdir()
            if root.parent.name == ".ocht-tmp":
                root.parent.rmdir()
            elif root.name == "outputs":
                root.parent.rmdir()  # <run>/tmp, when nothing else uses it
    except OSError:
        pass


def _owner_of(folder: Path) -> tuple[str, int] | None:
    try:
        host, pid = (folder / _OWNER).read_text().split()[:2]
        return host, int(pid)
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", text) or "x"


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
