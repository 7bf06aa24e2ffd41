"""Dead-letter files: the declared format, one file per run, never overwritten.

A file ``dead_letter`` output (``path: out/rejects.ndjson``) is written to
``out/rejects.<run_id>.ndjson``: every run has its own file, so no run replaces
another's dead letters, and a glob (``out/rejects.*.ndjson``) reads them all. The
default, when the pipeline declares none, is ``<run folder>/dead_letters.ndjson``.

Formats:

- ``ndjson``: one JSON object per line; ``record`` is the original record as a JSON
  **object** (a JSON string holding the raw line when it could not be parsed).
- ``json``: the same objects in one JSON array (a stream run writes one array file per
  micro-batch: ``rejects.<run_id>.<n>.json``).
- ``csv`` and ``parquet``: ``record`` is that same JSON as text.

A batch run writes the file under a hidden temporary name in the same folder and renames
it at commit (nothing on failure). A stream run appends each micro-batch to the run's
file (NDJSON, CSV) or writes one part per micro-batch (Parquet, JSON).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import polars as pl

from ocht.registry import RunContext, Sink

#: the file formats dead letters can be written in
FILE_FORMATS = ("ndjson", "json", "csv", "parquet")


def run_path(path: Path, run_id: str) -> Path:
    """``path`` with the run id before its suffix: one dead-letter file per run.

    Example:
        >>> run_path(Path("out/rejects.ndjson"), "r1").as_posix()
        'out/rejects.r1.ndjson'
    """
    return path.with_name(f"{path.stem}.{run_id}{path.suffix}")


def as_lines(frame: pl.LazyFrame) -> pl.LazyFrame:
    """One column ``line``: each dead letter as a JSON object with ``record`` inlined.

    ``record`` holds JSON text already (see :func:`ocht.executor.normalize_dead_letters`),
    so it is spliced in as is, not quoted again.
    """
    rest = [c for c in frame.collect_schema().names() if c != "record"]
    body = pl.struct(rest).struct.json_encode().str.strip_prefix("{")
    return frame.select(
        pl.concat_str(
            [pl.lit('{"record":'), pl.col("record").fill_null("null"), pl.lit(","), body]
        ).alias("line")
    )


def _json_array(frame: pl.DataFrame, path: Path) -> None:
    lines = as_lines(frame.lazy()).collect()["line"].to_list()
    path.write_text("[" + ",\n".join(lines) + "]\n", encoding="utf-8")


def _write(frame: pl.LazyFrame, fmt: str, path: Path, *, lazy: bool, append: bool) -> Any:
    if fmt == "ndjson":
        lines = as_lines(frame)
        if append:
            with path.open("ab") as fh:
                lines.collect().write_csv(fh, include_header=False, quote_style="never")
            return None
        if lazy:
            return lines.sink_csv(path, include_header=False, quote_style="never", lazy=True)
        lines.sink_csv(path, include_header=False, quote_style="never")
        return None
    if fmt == "csv":
        if append:
            header = not path.exists() or path.stat().st_size == 0
            with path.open("ab") as fh:
                frame.collect().write_csv(fh, include_header=header)
            return None
        if lazy:
            return frame.sink_csv(path, lazy=True)
        frame.sink_csv(path)
        return None
    if lazy:
        return frame.sink_parquet(path, lazy=True)
    frame.sink_parquet(path)
    return None


class DeadLetterFile(Sink):
    """The dead-letter output of a run, as a file in its declared format.

    Args:
        path: the declared path (the run id is added: :func:`run_path`), or the exact
            path when ``per_run`` is false (the default file in the run's folder).
        fmt: ``ndjson``, ``json``, ``csv`` or ``parquet``.
    """

    def __init__(self, path: Path, fmt: str, *, context: RunContext, per_run: bool = True) -> None:
        super().__init__(None, name="dead_letter", context=context)
        self.fmt = fmt if fmt in FILE_FORMATS else "ndjson"
        self.path = run_path(path, context.run_id) if per_run else path
        self._tmp: Path | None = None
        self._parts = 0
        self._batches: list[pl.DataFrame] = []

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.path.with_name(f".{self.path.name}.tmp")

    def plan(self, frame: pl.LazyFrame) -> pl.LazyFrame | None:
        assert self._tmp is not None, "open() first"
        if self.fmt == "json":
            return None  # one array: batches are gathered, written at commit
        node: pl.LazyFrame = _write(frame, self.fmt, self._tmp, lazy=True, append=False)
        return node

    def write(self, batch: pl.DataFrame) -> None:
        self._batches.append(batch)

    def commit(self) -> None:
        if self.fmt == "json" and self._tmp is not None and self._batches:
            _json_array(pl.concat(self._batches, how="vertical"), self._tmp)
            self._batches = []
        if self._tmp is not None and self._tmp.exists():
            os.replace(self._tmp, self.path)
        self._tmp = None

    def abort(self) -> None:
        self._batches = []
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
        self._tmp = None

    def append(self, rows: pl.DataFrame) -> None:
        """Add one micro-batch of dead letters (stream runs); never rewrites earlier ones."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.fmt in ("ndjson", "csv"):
            _write(rows.lazy(), self.fmt, self.path, lazy=False, append=True)
            return
        self._parts += 1
        part = self.path.with_name(f"{self.path.stem}.{self._parts}{self.path.suffix}")
        tmp = part.with_name(f".{part.name}.tmp")
        if self.fmt == "json":
            _json_array(rows, tmp)
        else:
            rows.write_parquet(tmp)
        os.replace(tmp, part)

    def describe(self) -> str:
        return str(self.path)


def dead_letter_file(spec: Any, context: RunContext) -> DeadLetterFile | None:
    """A :class:`DeadLetterFile` for a file ``dead_letter`` spec, else ``None`` (Kafka, SQL)."""
    fmt = getattr(spec, "type", None)
    path = getattr(spec, "path", None)
    if fmt not in FILE_FORMATS or not isinstance(path, str) or any(c in path for c in "*?["):
        return None
    return DeadLetterFile(context.resolve(path), str(fmt), context=context)


def default_dead_letter_file(context: RunContext) -> DeadLetterFile:
    """Where dead letters go when the pipeline declares no ``dead_letter`` output."""
    return DeadLetterFile(
        context.run_dir / "dead_letters.ndjson", "ndjson", context=context, per_run=False
    )


__all__ = ["DeadLetterFile", "dead_letter_file", "default_dead_letter_file", "run_path"]
