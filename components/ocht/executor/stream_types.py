"""The values of stream runs: the source protocol, results, batch reports, and the
small helpers the stream loop uses."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import polars as pl

from ocht.errors import ExecutionError, OchtError, engine_failure
from ocht.executor.plan import PlannedOutput
from ocht.executor.result import CheckStats, RunResult
from ocht.executor.services import Cancelled
from ocht.observability import get_logger

PartitionKey = tuple[str, int]


@runtime_checkable
class StreamSource(Protocol):
    """What a source implements to be read as a stream."""

    def poll_batch(self) -> Any:
        """The next micro-batch: ``frame``, ``offsets``, ``dead_letters``, ``records``,
        ``at_end`` attributes (see :class:`ocht.connector_kafka.KafkaBatch`)."""

    def commit(self, offsets: dict[PartitionKey, int]) -> None:
        """Commit the position after a batch."""

    def close(self) -> None:
        """Release the consumer (leave the group)."""


@runtime_checkable
class TransactionalSink(Protocol):
    """A sink whose per-batch transaction can carry the stream's checkpoint (SQL)."""

    def checkpoint_engine(self) -> Any:
        """The engine of the database the checkpoints live in."""

    def commit_with(self, write: Callable[[Any], None]) -> None:
        """Call ``write(connection)`` inside the batch's transaction, then commit."""


@dataclass(frozen=True)
class StreamResult(RunResult):
    """A :class:`RunResult` with what only streams have.

    Attributes:
        batches: micro-batches processed (empty polls not counted).
        state_bytes: bytes held by stateful steps at the end.
        lag: records behind the end of the assigned partitions at the end.
        stop_reason: ``stopped``, ``drained`` or ``max_batches``.
    """

    batches: int = 0
    state_bytes: int = 0
    lag: int = 0
    stop_reason: str = ""


@dataclass(frozen=True)
class BatchReport:
    """One processed micro-batch (for metrics).

    Attributes:
        batch: its number in this run (1-based).
        records: Kafka records in it (good and bad).
        steps: ``{step id: (rows in, rows out)}`` in this batch.
        outputs: ``{output: rows written}``.
        dead_letters: rows sent to the dead-letter output.
        seconds: wall time from poll to commit.
        lag: records behind after it.
        state_bytes: bytes held by stateful steps after it.
        checks: every data-quality check's totals so far (rows checked, failed).
    """

    batch: int
    records: int
    steps: dict[str, tuple[int, int]] = field(default_factory=dict)
    outputs: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    seconds: float = 0.0
    lag: int = 0
    state_bytes: int = 0
    checks: list[CheckStats] = field(default_factory=list)


@dataclass
class Pending:
    """A batch handed to the sinks whose delivery is not confirmed yet.

    ``tickets`` hold, per sink written, what :meth:`settled` is asked about (``None``:
    the sink confirms in ``commit()``); ``states`` are the per-partition checkpoint rows
    (offsets and state right after this batch).
    """

    batch: Any
    written: list[PlannedOutput]
    tickets: list[Any]
    outputs: dict[str, int]
    dead: pl.DataFrame | None
    steps: dict[str, tuple[int, int]]
    states: list[Any]
    t0: float


def concat_dead(parts: list[pl.LazyFrame]) -> pl.LazyFrame | None:
    if not parts:
        return None
    return pl.concat(parts, how="diagonal_relaxed")


def settled(sink: Any, ticket: Any, *, block: bool) -> bool:
    return bool(sink.settled(ticket, block=block))


def lag_of(source: Any) -> int:
    try:
        return int(source.lag())
    except Exception:  # lag is a metric; never fail a run for it
        return 0


def quiet(fn: Callable[[], Any]) -> None:
    try:
        fn()
    except Exception:  # cleanup must not hide the original failure
        get_logger("ocht.stream").warning("cleanup failed", exc_info=True)


def explain(exc: BaseException) -> OchtError:
    if isinstance(exc, OchtError):
        return exc
    if isinstance(exc, KeyboardInterrupt):
        return Cancelled("stream stopped by Ctrl-C; the batch in flight was not committed")
    panic = engine_failure(exc)
    if panic is not None:
        return panic
    text = str(exc).strip()
    first = text.splitlines()[0] if text else type(exc).__name__
    return ExecutionError(
        f"the stream run failed: {first}",
        exception=type(exc).__name__,
        hint="the failed batch was not committed; a restart re-reads it",
    )
