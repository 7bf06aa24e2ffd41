"""In-memory connectors for tests: a source of inline rows and a sink that records.

Both register as connector type ``memory``:

- as an input, ``{type: memory, rows: [...]}`` (or ``key:`` naming frames put with
  :func:`put_frame`) gives those rows;
- as an output, ``{type: memory, key: NAME}`` records every frame written under ``NAME``,
  read back with :func:`recorded`.
"""

from __future__ import annotations

import threading
from typing import Any, Literal

import polars as pl
from pydantic import ConfigDict, Field

from ocht.pipeline_model import ConnectorBase
from ocht.registry import ConnectorType, Sink, Source

_LOCK = threading.Lock()
_FRAMES: dict[str, pl.DataFrame] = {}
_RECORDED: dict[str, list[pl.DataFrame]] = {}
_COMMITTED: dict[str, bool] = {}


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


def put_frame(key: str, frame: pl.DataFrame) -> None:
    """Make ``frame`` readable by a memory input with ``key: KEY``."""
    with _LOCK:
        _FRAMES[key] = frame


def recorded(key: str) -> pl.DataFrame:
    """Every row a memory output with ``key: KEY`` committed (empty frame if none)."""
    with _LOCK:
        frames = list(_RECORDED.get(key, [])) if _COMMITTED.get(key) else []
    return pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()


def was_committed(key: str) -> bool:
    """Whether the memory output ``key`` was committed (``False`` after an abort)."""
    with _LOCK:
        return _COMMITTED.get(key, False)


def reset_memory() -> None:
    """Forget every put frame and every recording."""
    with _LOCK:
        _FRAMES.clear()
        _RECORDED.clear()
        _COMMITTED.clear()


class MemorySource(Source):
    """Rows given inline or put with :func:`put_frame`."""

    spec: MemorySpec

    def scan(self) -> pl.LazyFrame:
        if self.spec.rows is not None:
            return pl.LazyFrame(self.spec.rows, infer_schema_length=None)
        with _LOCK:
            frame = _FRAMES.get(self.spec.key or self.name)
        if frame is None:
            raise KeyError(f"no frame put under '{self.spec.key or self.name}'")
        return frame.lazy()

    def describe(self) -> str:
        return f"memory:{self.spec.key or self.name}"


class MemorySink(Sink):
    """Records every batch; visible through :func:`recorded` once committed."""

    spec: MemorySpec

    @property
    def key(self) -> str:
        return self.spec.key or self.name

    def open(self) -> None:
        with _LOCK:
            _RECORDED[self.key] = []
            _COMMITTED[self.key] = False

    def write(self, batch: pl.DataFrame) -> None:
        with _LOCK:
            batches = _RECORDED.setdefault(self.key, [])
            if self.spec.fail_after is not None and len(batches) >= self.spec.fail_after:
                raise RuntimeError(f"memory sink '{self.key}' failing as asked")
            batches.append(batch)

    def commit(self) -> None:
        with _LOCK:
            _COMMITTED[self.key] = True

    def abort(self) -> None:
        with _LOCK:
            _RECORDED[self.key] = []
            _COMMITTED[self.key] = False

    def describe(self) -> str:
        return f"memory:{self.key}"


MEMORY = ConnectorType(
    "memory",
    MemorySpec,
    MemorySource,
    MemorySink,
    batch=True,
    stream=False,
    summary="Inline rows in, recorded frames out (tests).",
)
