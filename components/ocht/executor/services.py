"""What a run is given: the request (what to run) and the services (what to run it with).

Everything a run uses from outside is passed in explicitly and typed: the run store is a
:class:`RunStore` (``ocht.store.Store`` implements it, without importing the executor),
the cancel token is a :class:`~ocht.registry.CancelToken`, the clock a :class:`Clock`,
the observers :class:`~ocht.observability.RunHooks`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ocht.errors import OchtError

if TYPE_CHECKING:  # config imports the pipeline model; keep this module light
    from ocht.config import LoadedPipeline
    from ocht.observability import RunHooks
    from ocht.registry import CancelToken, Registry
    from ocht.store import Store


class Cancelled(OchtError):
    """The run was cancelled (a cancel token or Ctrl-C); no output was changed, and a
    stream stopped after its last committed batch."""

    code = "cancelled"
    exit_code = 130


class RunTimedOut(OchtError):
    """The run did not finish within its time limit; no output was changed."""

    code = "run-timeout"


class SchemaRecordLike(Protocol):
    """A schema recorded in the store."""

    @property
    def columns(self) -> Mapping[str, str]: ...


class CheckpointLike(Protocol):
    """A checkpoint saved in the store."""

    @property
    def position(self) -> Any: ...


class RunStore(Protocol):
    """The run store as the executor uses it: manifests, incremental state, schemas,
    checkpoints. ``ocht.store.Store`` implements it."""

    def start_run(
        self,
        *,
        pipeline: str,
        content_hash: str = "",
        profile: str | None = None,
        mode: str = "batch",
        run_id: str | None = None,
        cursors_before: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Write a run's manifest with status ``running``."""

    def finish_run(
        self,
        run_id: str,
        status: Any,
        *,
        rows_read: Mapping[str, int] | None = None,
        rows_written: Mapping[str, int] | None = None,
        step_rows: Mapping[str, int] | None = None,
        dead_letters: int | None = None,
        error_code: str | None = None,
        error_message: str | None = None,
        cursors_after: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> Any:
        """Record how a run ended: status (``succeeded``, ``failed``, ``cancelled``, ...),
        counts, error, the state after; fields left ``None`` keep their value."""

    def get_state(self, pipeline: str) -> dict[str, Any]:
        """The incremental state per input of ``pipeline``."""

    def set_state(
        self, pipeline: str, values: Mapping[str, Any], *, run_id: str | None = None
    ) -> None:
        """Replace the incremental state of the inputs named in ``values``."""

    def record_schema(
        self, pipeline: str, output: str, columns: Mapping[str, str], *, run_id: str | None = None
    ) -> Any:
        """Record the schema of an input or output (``input:NAME`` or the output's name)."""

    def last_schema(self, pipeline: str, output: str) -> SchemaRecordLike | None:
        """The last schema recorded for ``output``, if any."""

    def save_checkpoint(
        self, pipeline: str, key: str, position: Any, *, run_id: str | None = None
    ) -> Any:
        """Save a resume position under ``key``."""

    def load_checkpoint(self, pipeline: str, key: str) -> CheckpointLike | None:
        """The position saved under ``key``, if any."""

    def clear_checkpoints(self, pipeline: str, key: str | None = None) -> int:
        """Drop the positions of ``pipeline`` (under ``key`` only, when given)."""


class Clock(Protocol):
    """Where a run reads the time (tests pass a fixed one)."""

    def now(self) -> datetime:
        """The current time, timezone-aware (UTC)."""

    def time(self) -> float:
        """Seconds since the epoch (event-time windows in stream runs)."""


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        """``datetime.now(UTC)``."""
        return datetime.now(UTC)

    def time(self) -> float:
        """``time.time()``."""
        return time.time()


@dataclass(frozen=True)
class RunServices:
    """What every run of a :class:`~ocht.executor.Runner` is given.

    Attributes:
        store: the run store: manifests, incremental state, schema history; ``None``
            records nothing and keeps no state.
        registry: step kinds and connectors (default: built-ins and plugins).
        hooks: lifecycle observers (logs, progress, metrics).
        clock: where run ids and stream windows read the time (default: the real one).
        home: the folder for run data: default dead letters, traces, checkpoints
            (default ``.ocht``).
    """

    store: RunStore | None = None
    registry: Registry | None = None
    hooks: RunHooks | None = None
    clock: Clock | None = None
    home: str | Path | None = None


@dataclass(frozen=True)
class RunRequest:
    """What to run, and how.

    Attributes:
        pipeline: a pipeline file, a dict, or a loaded pipeline.
        profile: the profile to apply.
        variables: ``--set`` values.
        limit: read at most this many rows from each input (batch).
        dry_run: compile and check only: read no data, write nothing.
        full_refresh: ignore stored incremental state (and replace it on success).
        timeout: fail with ``run-timeout`` (changing no output) after this many seconds.
        resume: read a multi-file input file by file, committing each (batch).
        run_id: the run's id (default: a new sortable one).
        max_batches: stream: stop after this many non-empty micro-batches.
        drain: stream: stop once the input is read to its end and idle this long (seconds).
        lookup_refresh: stream: re-read bounded inputs (join lookups) this often (seconds).
        max_in_flight: stream: micro-batches written but not yet acknowledged, at most.
        trace_samples: rows the run's trace keeps per step of what it dropped, changed
            and dead-lettered (batch; 0: none, ``ocht trace`` then shows counts only).
    """

    pipeline: str | Path | Mapping[str, Any] | LoadedPipeline
    profile: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    limit: int | None = None
    dry_run: bool = False
    full_refresh: bool = False
    timeout: float | None = None
    resume: bool = False
    run_id: str | None = None
    max_batches: int | None = None
    drain: float | None = None
    lookup_refresh: float | None = None
    max_in_flight: int = 8
    trace_samples: int = 5


def raise_if_cancelled(token: CancelToken | None) -> None:
    """Raise :class:`Cancelled` (or :class:`RunTimedOut`) when ``token`` was cancelled.

    Called between batches and right before any output is committed.
    """
    if token is None or not token.cancelled:
        return
    if token.reason == "timeout":
        raise RunTimedOut("the run passed its time limit; no output was changed")
    raise Cancelled("run cancelled; no output was changed")


if TYPE_CHECKING:  # mypy proves the store brick implements the protocol

    def _store_is_a_run_store(store: Store) -> RunStore:
        return store
