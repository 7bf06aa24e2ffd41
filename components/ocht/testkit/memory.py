"""In-memory connectors for tests: a source of inline rows and a sink that records.

A :class:`MemoryConnector` is one instance holding its own frames and recordings (no
module-level state, as httpx's ``MockTransport``): register its :attr:`~MemoryConnector.
connector` (type ``memory``) in a registry, then

- as an input, ``{type: memory, rows: [...]}`` (or ``key:`` naming a frame given to
  :meth:`~MemoryConnector.put_frame`) gives those rows;
- as an output, ``{type: memory, key: NAME}`` records every frame written under ``NAME``,
  read back with :meth:`~MemoryConnector.recorded`.

Example:
    >>> memory = MemoryConnector()
    >>> memory.put_frame("in", pl.DataFrame({"a": [1]}))
    >>> memory.connector.name, memory.recorded("out").height
    ('memory', 0)
"""

from __future__ import annotations

import threading
from typing import Any, ClassVar, Literal

import polars as pl
from pydantic import ConfigDict, Field

from ocht.pipeline_model import ConnectorBase
from ocht.registry import ConnectorType, Sink, Source
from ocht.transform import parse_dtype


class MemorySpec(ConnectorBase):
    """Inline rows (input) or a recording key (output)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    type: Literal["memory"] = "memory"
    key: str | None = None
    rows: list[dict[str, Any]] | None = None
    schema_: dict[str, str] | None = Field(default=None, alias="schema")
    fail_after: int | None = Field(
        default=None, description="Sink: raise after this many batches (failure tests)."
    )
    fail_commit: bool = Field(
        default=False, description="Sink: raise in commit (tests of outputs committing together)."
    )


class MemoryConnector:
    """One in-memory connector: its put frames, its recordings, its ``ConnectorType``."""

    def __init__(self, name: str = "memory") -> None:
        self._lock = threading.Lock()
        self._frames: dict[str, pl.DataFrame] = {}
        self._recorded: dict[str, list[pl.DataFrame]] = {}
        self._committed: dict[str, bool] = {}
        owner = self
        source = type("BoundMemorySource", (MemorySource,), {"memory": owner})
        sink = type("BoundMemorySink", (MemorySink,), {"memory": owner})
        self.connector = ConnectorType(
            name,
            MemorySpec,
            source,
            sink,
            batch=True,
            stream=False,
            summary="Inline rows in, recorded frames out (tests).",
        )

    def __call__(self, key: str) -> pl.DataFrame:
        """Same as :meth:`recorded`."""
        return self.recorded(key)

    def put_frame(self, key: str, frame: pl.DataFrame) -> None:
        """Make ``frame`` readable by a memory input with ``key: KEY``."""
        with self._lock:
            self._frames[key] = frame

    def frame(self, key: str) -> pl.DataFrame | None:
        """The frame put under ``key``, if any."""
        with self._lock:
            return self._frames.get(key)

    def recorded(self, key: str) -> pl.DataFrame:
        """Every row a memory output with ``key: KEY`` committed (empty frame if none)."""
        with self._lock:
            frames = list(self._recorded.get(key, [])) if self._committed.get(key) else []
        return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()

    def was_committed(self, key: str) -> bool:
        """Whether the memory output ``key`` was committed (``False`` after an abort)."""
        with self._lock:
            return self._committed.get(key, False)

    def reset(self) -> None:
        """Forget every put frame and every recording."""
        with self._lock:
            self._frames.clear()
            self._recorded.clear()
            self._committed.clear()

    # -- what the sink calls ------------------------------------------------------------
    def start_recording(self, key: str) -> None:
        with self._lock:
            self._recorded[key] = []
            self._committed[key] = False

    def append_batch(self, key: str, batch: pl.DataFrame, fail_after: int | None) -> None:
        with self._lock:
            batches = self._recorded.setdefault(key, [])
            if fail_after is not None and len(batches) >= fail_after:
                raise RuntimeError(f"memory sink '{key}' failing as asked")
            batches.append(batch)

    def mark_committed(self, key: str) -> None:
        with self._lock:
            self._committed[key] = True


class MemorySource(Source):
    """Rows given inline or put with :meth:`MemoryConnector.put_frame`."""

    memory: ClassVar[MemoryConnector]
    spec: MemorySpec

    def scan(self) -> pl.LazyFrame:
        if self.spec.rows is not None:
            if self.spec.schema_ is not None:  # typed, even when there is no row
                schema = {c: parse_dtype(t) for c, t in self.spec.schema_.items()}
                return pl.LazyFrame(self.spec.rows, schema=schema)
            return pl.LazyFrame(self.spec.rows, infer_schema_length=None)
        frame = self.memory.frame(self.spec.key or self.name)
        if frame is None:
            raise KeyError(f"no frame put under '{self.spec.key or self.name}'")
        return frame.lazy()

    def describe(self) -> str:
        return f"memory:{self.spec.key or self.name}"


class MemorySink(Sink):
    """Records every batch; visible through :meth:`MemoryConnector.recorded` once committed."""

    memory: ClassVar[MemoryConnector]
    spec: MemorySpec

    @property
    def key(self) -> str:
        return self.spec.key or self.name

    def open(self) -> None:
        self.memory.start_recording(self.key)

    def write(self, batch: pl.DataFrame) -> None:
        self.memory.append_batch(self.key, batch, self.spec.fail_after)

    def commit(self) -> None:
        if self.spec.fail_commit:
            raise RuntimeError(f"memory sink '{self.key}' failing to commit as asked")
        self.memory.mark_committed(self.key)

    def abort(self) -> None:
        self.memory.start_recording(self.key)

    def describe(self) -> str:
        return f"memory:{self.key}"
