"""The connector seams: what a source and a sink implement.

A source turns its spec into a Polars ``LazyFrame`` (batch). A sink either hands Polars a
native lazy sink node (``plan``: files, with Polars' streaming writers) or receives
DataFrame batches (``write``); either way ``commit`` makes the output visible and
``abort`` discards it, so a failed run leaves nothing half-written.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl

Mode = Literal["batch", "stream"]


@dataclass(frozen=True)
class RunContext:
    """What connectors know about the run they serve.

    Attributes:
        run_id: this run's id (in logs, dead letters, the manifest).
        pipeline: the pipeline's name.
        base_dir: relative paths in the pipeline resolve against it (the pipeline
            file's folder, or the working directory for a pipeline given as a dict).
        run_dir: this run's own folder (default dead letters, traces).
        mode: ``batch`` or ``stream``.
        options: run-wide settings (``full_refresh``, ``resume``, a store, ...).
    """

    run_id: str
    pipeline: str
    base_dir: Path = field(default_factory=Path.cwd)
    run_dir: Path = field(default_factory=lambda: Path(".ocht/runs/unknown"))
    mode: Mode = "batch"
    options: dict[str, Any] = field(default_factory=dict)

    def resolve(self, path: str | Path) -> Path:
        """``path`` made absolute against :attr:`base_dir` (``~`` expanded)."""
        p = Path(path).expanduser()
        return p if p.is_absolute() else self.base_dir / p


class Source(ABC):
    """Reads one input. Subclasses implement :meth:`scan`."""

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        self.spec = spec
        self.name = name
        self.context = context

    @abstractmethod
    def scan(self) -> pl.LazyFrame:
        """The whole input as a lazy frame (nothing is read until it is collected)."""

    def schema(self) -> pl.Schema:
        """The input's columns and types (may read a file header or a sample)."""
        return self.scan().collect_schema()

    def describe(self) -> str:
        """A short human description (a path, a table, a topic)."""
        return str(getattr(self.spec, "path", self.name))

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""


class Sink:
    """Writes one output.

    Override :meth:`plan` to hand Polars a native lazy sink (best for files), or
    :meth:`write` to receive batches. :meth:`commit` publishes what was written;
    :meth:`abort` discards it.
    """

    #: Whether the sink is written only in full (``True``) or batch by batch.
    atomic: ClassVar[bool] = True

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        self.spec = spec
        self.name = name
        self.context = context

    def open(self) -> None:
        """Prepare to receive data (create a temporary file, begin a transaction)."""

    def plan(self, frame: pl.LazyFrame) -> pl.LazyFrame | None:
        """A Polars lazy sink node writing ``frame``, or ``None`` to be sent batches."""
        return None

    def write(self, batch: pl.DataFrame) -> None:
        """Receive one batch (called when :meth:`plan` returns ``None``)."""
        raise NotImplementedError(f"{type(self).__name__} implements neither plan nor write")

    def commit(self) -> None:
        """Make everything written visible at once."""

    def abort(self) -> None:
        """Discard everything written since :meth:`open`."""

    def describe(self) -> str:
        """A short human description (a path, a table, a topic)."""
        return str(getattr(self.spec, "path", self.name))


@dataclass(frozen=True)
class ConnectorType:
    """A registered connector type.

    Attributes:
        name: the ``type`` value in a pipeline.
        spec: the pydantic model of its options.
        source: the source class, when it can be read.
        sink: the sink class, when it can be written.
        batch: usable in batch runs.
        stream: usable in stream runs.
        summary: one line for ``ocht list connectors``.
    """

    name: str
    spec: type[Any]
    source: type[Source] | None = None
    sink: type[Sink] | None = None
    batch: bool = True
    stream: bool = False
    summary: str = ""

    @property
    def capabilities(self) -> tuple[str, ...]:
        """``read``, ``write``, ``batch``, ``stream`` as they apply."""
        flags = (
            ("read", self.source is not None),
            ("write", self.sink is not None),
            ("batch", self.batch),
            ("stream", self.stream),
        )
        return tuple(name for name, on in flags if on)
