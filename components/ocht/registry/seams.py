"""The connector seams: what a source and a sink implement.

A source turns its spec into a Polars ``LazyFrame`` (batch). A sink either hands Polars a
native lazy sink node (``plan``: files, with Polars' streaming writers) or receives
DataFrame batches (``write``); either way ``commit`` makes the output visible and
``abort`` discards it, so a failed run leaves nothing half-written.

Every call the executor makes on a source or a sink is declared here, with a default:
a source author implements only :meth:`Source.scan`, a sink author only
:meth:`Sink.write` (or :meth:`Sink.plan`). The rest is optional.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.registry.cancel import CancelToken
from ocht.transform import Mode


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
        full_refresh: ignore stored incremental state and read everything.
        state: the incremental state stored by the last successful run, per input name
            (empty with ``full_refresh`` or without a run store).
        cancel: set when the run is asked to stop; a long read may look at it.
    """

    run_id: str
    pipeline: str
    base_dir: Path = field(default_factory=Path.cwd)
    run_dir: Path = field(default_factory=lambda: Path(".ocht/runs/unknown"))
    mode: Mode = "batch"
    full_refresh: bool = False
    state: Mapping[str, Any] = field(default_factory=dict)
    cancel: CancelToken = field(default_factory=CancelToken, compare=False)

    def state_of(self, name: str) -> Any:
        """The stored incremental state of input ``name`` (``None``: read everything)."""
        return None if self.full_refresh else self.state.get(name)

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

    def state(self) -> dict[str, Any] | None:
        """Incremental state to store after a successful run (``None``: nothing to keep).

        Called only after every output committed; the next run finds it in
        :meth:`RunContext.state_of`.
        """
        return None

    def dead_letters(self) -> pl.LazyFrame | None:
        """Rows the source itself refused (bad lines), in the dead-letter columns."""
        return None

    def explain_error(self, exc: BaseException) -> Any:
        """An ``OchtError`` for an exception raised while this input was read, or ``None``."""
        return None

    def lag(self) -> int:
        """Records behind the end of the input (stream sources; a metric)."""
        return 0

    def skipped_rows(self) -> int:
        """Bad records this input dropped and counted (``on_bad_lines: skip``), once read."""
        return 0

    def files(self) -> list[Path] | None:
        """The files this input reads, in order (file inputs); ``None`` for anything else."""
        return None

    def file_counts(self) -> tuple[int, int] | None:
        """``(new, skipped)`` files of an ``incremental: files`` input, else ``None``."""
        return None


class Sink:
    """Writes one output.

    Override :meth:`plan` to hand Polars a native lazy sink (best for files), or
    :meth:`write` to receive batches. :meth:`commit` publishes what was written;
    :meth:`abort` discards it.
    """

    #: Whether the sink is written only in full (``True``) or batch by batch.
    atomic: ClassVar[bool] = True
    #: Whether :meth:`commit` only publishes what is already written (a file rename).
    #: Such sinks commit after every other one, so they never show a run whose
    #: transactions failed to commit.
    commit_last: ClassVar[bool] = False

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

    def prepare(self) -> None:
        """Before any output commits: flush what is buffered and check what could make
        :meth:`commit` fail (deferred constraints), so a failure here changes nothing."""

    def commit(self) -> None:
        """Make everything written visible at once."""

    def abort(self) -> None:
        """Discard everything written since :meth:`open`."""

    def describe(self) -> str:
        """A short human description (a path, a table, a topic)."""
        return str(getattr(self.spec, "path", self.name))

    def written_columns(self) -> dict[str, str] | None:
        """After :meth:`commit`: the columns written (name → type name), to be recorded in
        the run store as this output's schema; ``None`` to record nothing."""
        return None

    # -- stream runs -------------------------------------------------------------------
    def mark(self) -> Any:
        """After a micro-batch was written: a ticket to ask :meth:`settled` about, or
        ``None`` when :meth:`commit` confirms the batch (the default)."""
        return None

    def settled(self, ticket: Any, *, block: bool = False) -> bool:
        """Whether the batch behind ``ticket`` (from :meth:`mark`) was acknowledged;
        with ``block``, wait until it is (or fail)."""
        return True

    def close(self) -> None:
        """Release resources at the end of a stream run."""


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
