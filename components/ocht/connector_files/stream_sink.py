"""File outputs of stream runs: rolling part files, published once their offsets commit.

In a stream run a ``parquet``, ``csv`` or ``ndjson`` output's ``path`` names a folder.
Its rows are published there as part files, ``part-<run id>-<sequence><suffix>``; a part
appears whole (an atomic rename of a finished, fsynced file) and only after the source
offsets of every row in it are committed. Layout::

    out/orders/part-20260101T101500-3f9a2c-000001.parquet      published parts
    out/.ocht-tmp/stream-orders-<digest>/<run id>/.owner       staging, out of the folder
    out/.ocht-tmp/stream-orders-<digest>/<run id>/chunk-000007.arrow

Per micro-batch the executor (``ocht.executor``'s stream loop) calls, in this order:

- :meth:`PartFiles.write`: the batch's rows go to a staged chunk (Arrow IPC, fsynced);
- :meth:`PartFiles.stage`, before the offsets are saved: the chunk joins the open part;
  when the roll policy (``roll_rows``, ``roll_bytes``, ``roll_seconds``) is met the open
  part is built from its chunks (in the output's format) and becomes ready to publish;
- :meth:`PartFiles.journal`: what is staged (the open part's chunks, the parts ready, the
  next sequence number), saved **in the same transaction as the offsets**;
- :meth:`PartFiles.publish`, after that commit: ready parts are renamed into the folder.

So every committed row is in a published part or in a chunk that the journal names, and
no uncommitted row is ever published. When a run starts, :meth:`PartFiles.recover` is
given the journals of earlier runs: parts they had ready are renamed into place (again:
a rename that already happened is recognised), their open chunks are built into one last
part named by the journal's sequence (so a recovery that dies half-way builds the same
part again), and everything else they left in staging is removed. Staging folders of a
live process (same host, process running) are left alone, so several workers may write
one folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files.sinks import (
    CsvSink,
    FileSink,
    NdjsonSink,
    ParquetSink,
    _alive,
    _fsync,
    _fsync_dir,
    _owner_of,
    _remove_tree,
    _safe,
)
from ocht.errors import InvalidPipeline, Issue
from ocht.registry import RunContext

_OWNER = ".owner"


@dataclass(frozen=True)
class _Chunk:
    name: str
    rows: int
    size: int


class PartFiles(FileSink):
    """The stream form of a file output (see the module docstring).

    Mixed before a format's :class:`FileSink` (which gives ``sink``, ``finish`` and the
    suffix); the executor drives it through ``recover``, ``stage``, ``journal``,
    ``publish`` and ``roll``.
    """

    atomic: ClassVar[bool] = True  # each part is published whole
    suffix: ClassVar[str] = ""

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self.folder = self.target
        if self.folder.is_file():
            msg = (
                f"output '{name}': in stream mode path names a folder for part files, "
                f"not a file ({spec.path})"
            )
            raise InvalidPipeline(
                msg,
                issues=[
                    Issue(
                        "stream-output-not-folder",
                        msg,
                        f"outputs.{name}.path",
                        hint=f"name a folder, e.g. {Path(spec.path).with_suffix('')}/ "
                        f"(parts are named part-<run>-<n>{self.suffix})",
                    )
                ],
            )
        self.root: Path | None = None  # this output's staging root
        self.mine: Path | None = None  # this run's staging folder
        self.unstaged: list[_Chunk] = []  # written, their batch not committed yet
        self.open_chunks: list[_Chunk] = []  # committed, in the open part
        self.ready: list[tuple[str, list[_Chunk]]] = []  # built parts waiting to publish
        self.seq = 1
        self.chunks = 0
        self.opened_at: float | None = None

    # -- staging place ------------------------------------------------------------------
    def _staging_root(self, scope: str) -> Path:
        digest = hashlib.sha1(f"{scope}\x1f{self.folder}".encode()).hexdigest()[:12]
        leaf = f"stream-{_safe(self.name)}-{digest}"
        parent = self.folder.parent
        self.folder.mkdir(parents=True, exist_ok=True)
        if parent != self.folder and parent.stat().st_dev == self.folder.stat().st_dev:
            return parent / ".ocht-tmp" / leaf
        return self.folder / ".ocht-tmp" / leaf  # a mount point: hidden, but inside

    def open(self) -> None:
        """Create the folder and this run's staging folder (once per run).

        Raises:
            OutputWriteError: the folder or the staging place cannot be created.
        """
        if self.mine is not None:
            return
        try:
            if self.root is None:
                self.root = self._staging_root(self.context.pipeline)
            mine = self.root / _safe(self.context.run_id)
            mine.mkdir(parents=True, exist_ok=True)
            (mine / _OWNER).write_text(f"{socket.gethostname()}\n{os.getpid()}\n")
        except (FileExistsError, NotADirectoryError):
            raise self._error(
                f"cannot create {self.folder}: part of that path is a file",
                "pick another output path",
            ) from None
        except OSError as exc:
            raise self._error(
                f"cannot write to {self.folder}: {exc.strerror or exc}",
                "check the permissions or pick another path",
            ) from None
        self.mine = mine

    # -- per batch ----------------------------------------------------------------------
    def write(self, batch: pl.DataFrame) -> None:
        """Stage one micro-batch's rows as a chunk (durable before its offsets commit)."""
        self.open()
        assert self.mine is not None
        if not self.chunks:
            self.sink(batch.lazy().head(0), self.mine / "probe")  # refuses what it cannot hold
        self.chunks += 1
        path = self.mine / f"chunk-{self.chunks:06d}.arrow"
        try:
            batch.write_ipc(path)
            _fsync(path)
        except OSError as exc:
            path.unlink(missing_ok=True)
            raise self._error(
                f"cannot stage rows for {self.folder}: {exc.strerror or exc}",
                "check the free space of the output's file system",
            ) from None
        self.unstaged.append(_Chunk(path.name, batch.height, path.stat().st_size))

    def commit(self) -> None:
        """Nothing: a part is published by :meth:`publish`, after the offsets commit."""

    def stage(self) -> None:
        """The oldest written batch is being committed: its chunk joins the open part,
        and the part is built when the roll policy says so (before the commit, so a
        failure here commits nothing)."""
        if not self.unstaged:
            return
        self.open_chunks.append(self.unstaged.pop(0))
        if self.opened_at is None:
            self.opened_at = time.monotonic()
        spec = self.spec
        rows = sum(c.rows for c in self.open_chunks)
        size = sum(c.size for c in self.open_chunks)
        if rows >= spec.roll_rows or size >= spec.roll_bytes or self._due():
            self._seal()

    def _due(self) -> bool:
        return (
            self.opened_at is not None
            and time.monotonic() - self.opened_at >= self.spec.roll_seconds
        )

    def roll(self, *, force: bool = False) -> bool:
        """Close the open part when ``force`` (a clean stop) or when it is
        ``roll_seconds`` old; ``True`` when a part became ready (save, then publish)."""
        if not self.open_chunks or not (force or self._due()):
            return False
        self._seal()
        return True

    def _seal(self) -> None:
        assert self.mine is not None
        name = self.part_name(self.context.run_id, self.seq)
        self._build(self.mine, [c.name for c in self.open_chunks], name)
        self.ready.append((name, self.open_chunks))
        self.seq += 1
        self.open_chunks = []
        self.opened_at = None

    def journal(self) -> bytes:
        """What this run has staged, saved with the offsets of the batch just committed."""
        return json.dumps(
            {
                "seq": self.seq,
                "open": [c.name for c in self.open_chunks],
                "publish": [{"name": n, "chunks": [c.name for c in cs]} for n, cs in self.ready],
            }
        ).encode()

    def publish(self) -> None:
        """Rename the ready parts into the folder (their offsets are committed)."""
        assert self.mine is not None or not self.ready
        for name, chunks in self.ready:
            assert self.mine is not None
            self._publish(self.mine, name, [c.name for c in chunks])
        self.ready = []

    def abort(self) -> None:
        """Remove the chunks of batches that were not committed."""
        if self.mine is not None:
            for c in self.unstaged:
                (self.mine / c.name).unlink(missing_ok=True)
        self.unstaged = []

    def close(self) -> None:
        """End of the run: release the staging folder. What is committed but not
        published yet (a failed run) stays for the next run to publish."""
        self.abort()
        mine, self.mine = self.mine, None
        if mine is None:
            return
        if not self.open_chunks and not self.ready:
            _remove_tree(mine)
            with contextlib.suppress(OSError):
                mine.parent.rmdir()
                mine.parent.parent.rmdir()  # .ocht-tmp, when nothing else is in it
        else:
            (mine / _OWNER).unlink(missing_ok=True)  # recoverable, even by this process

    # -- recovery -----------------------------------------------------------------------
    def recover(self, journals: dict[str, bytes], *, scope: str) -> list[str]:
        """Finish what earlier runs committed and sweep what they did not.

        Args:
            journals: ``{run id: journal}`` saved by earlier runs of this output.
            scope: the pipeline and consumer group (the staging place is theirs).

        Returns:
            The runs whose journals are settled (their rows can be forgotten).
        """
        self.root = self._staging_root(scope)
        self.open()
        assert self.mine is not None
        done: list[str] = []
        for run, data in journals.items():
            folder = self.root / _safe(run)
            if folder == self.mine or _live(folder):
                continue
            self._finish_run(run, folder, json.loads(data or b"{}"))
            _remove_tree(folder)
            done.append(run)
        swept = []
        for child in sorted(self.root.iterdir()):
            if child.is_dir() and child != self.mine and not _live(child):
                _remove_tree(child)  # nothing committed in it: no journal names it
                swept.append(child.name)
        if swept:
            _log().info("swept staged files", output=self.name, runs=swept)
        return done

    def _finish_run(self, run: str, folder: Path, journal: dict[str, Any]) -> None:
        published = []
        for entry in journal.get("publish", []):
            self._publish(folder, entry["name"], entry["chunks"])
            published.append(entry["name"])
        chunks = journal.get("open", [])
        if chunks:
            name = self.part_name(run, int(journal.get("seq", 1)))
            if not (self.folder / name).exists() and self._staged(folder, chunks, name):
                self._build(folder, chunks, name)
                self._publish(folder, name, chunks)
            published.append(name)
        if published:
            _log().info("published parts of an earlier run", output=self.name, parts=published)

    # -- files --------------------------------------------------------------------------
    def part_name(self, run: str, seq: int) -> str:
        """``part-<run id>-<sequence><suffix>``: sortable, unique, fixed by the journal."""
        return f"part-{_safe(run)}-{seq:06d}{self.suffix}"

    def _build(self, folder: Path, chunks: list[str], name: str) -> None:
        """Write the part ``folder/name`` from staged chunks, in the output's format."""
        frames = [pl.scan_ipc(folder / c) for c in chunks]
        frame = frames[0] if len(frames) == 1 else pl.concat(frames, how="vertical_relaxed")
        temp = folder / f"{name}.tmp"
        try:
            self.sink(frame, temp).collect(engine="streaming")
            built = self.finish(temp)
            _fsync(built)
            os.replace(built, folder / name)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise self._error(
                f"cannot write a part file for {self.folder}: {exc.strerror or exc}",
                "check the free space of the output's file system",
            ) from None

    def _staged(self, folder: Path, chunks: list[str], name: str) -> bool:
        if all((folder / c).exists() for c in chunks):
            return True
        _log().error(
            "the staged files of a committed part are gone; its rows are not published",
            output=self.name,
            part=name,
            code="staged-part-missing",
        )
        return False

    def _publish(self, folder: Path, name: str, chunks: list[str]) -> None:
        staged, target = folder / name, self.folder / name
        if staged.exists():
            try:
                os.replace(staged, target)
                _fsync_dir(self.folder)
            except OSError as exc:
                raise self._error(
                    f"cannot publish {target}: {exc.strerror or exc}",
                    "check the permissions of the output folder",
                ) from None
        elif not target.exists():
            if not self._staged(folder, chunks, name):
                return
            self._build(folder, chunks, name)  # built again from its chunks
            os.replace(staged, target)
            _fsync_dir(self.folder)
        for c in chunks:
            (folder / c).unlink(missing_ok=True)


def _log() -> Any:
    from ocht.observability import get_logger  # not paid by importing the brick (rich)

    return get_logger("ocht.stream")


def _live(folder: Path) -> bool:
    """A staging folder still owned by a running process (or by another host)."""
    owner = _owner_of(folder)
    if owner is None:
        return False
    host, pid = owner
    return host != socket.gethostname() or _alive(pid)


class CsvOutput(CsvSink):
    """The ``csv`` connector's sink: a :class:`CsvSink` in batch runs, part files
    (:class:`PartFiles`) in stream runs."""

    def __new__(cls, spec: Any, *, name: str, context: RunContext) -> CsvOutput:
        return super().__new__(CsvParts if _streams(cls, CsvOutput, context) else cls)


class ParquetOutput(ParquetSink):
    """The ``parquet`` connector's sink: a :class:`ParquetSink` in batch runs, part files
    in stream runs."""

    def __new__(cls, spec: Any, *, name: str, context: RunContext) -> ParquetOutput:
        return super().__new__(ParquetParts if _streams(cls, ParquetOutput, context) else cls)


class NdjsonOutput(NdjsonSink):
    """The ``ndjson`` connector's sink: an :class:`NdjsonSink` in batch runs, part files
    in stream runs."""

    def __new__(cls, spec: Any, *, name: str, context: RunContext) -> NdjsonOutput:
        return super().__new__(NdjsonParts if _streams(cls, NdjsonOutput, context) else cls)


def _streams(cls: type, output: type, context: RunContext) -> bool:
    return cls is output and context.mode == "stream"


class CsvParts(PartFiles, CsvOutput):
    """CSV part files (each with its header)."""

    suffix = ".csv"


class ParquetParts(PartFiles, ParquetOutput):
    """Parquet part files."""

    suffix = ".parquet"


class NdjsonParts(PartFiles, NdjsonOutput):
    """NDJSON part files."""

    suffix = ".ndjson"
