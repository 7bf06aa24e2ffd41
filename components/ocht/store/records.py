"""The values the store hands back: frozen dataclasses, JSON-ready through ``to_dict``."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, Literal

RunStatus = Literal[
    "running", "succeeded", "failed", "partial", "abandoned", "cancelled", "stopped"
]
RUN_STATUSES: tuple[str, ...] = (
    "running",
    "succeeded",
    "failed",
    "partial",
    "abandoned",
    "cancelled",
    "stopped",
)
#: ``stopped``: a stream run that ended cleanly (drained, max batches, a signal).
FINAL_STATUSES: tuple[str, ...] = (
    "succeeded",
    "failed",
    "partial",
    "abandoned",
    "cancelled",
    "stopped",
)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass(frozen=True)
class RunRecord:
    """One run's manifest.

    Attributes:
        run_id: the run's id.
        pipeline: the pipeline's name.
        content_hash: the pipeline's content hash (what exactly ran).
        profile: the profile applied, if any.
        mode: ``batch`` or ``stream``.
        status: ``running``, ``succeeded``, ``failed``, ``partial`` or ``abandoned``.
        started_at: when the run started (UTC).
        ended_at: when it ended (UTC), ``None`` while running.
        pid: the process that ran it (abandonment detection).
        host: the host that ran it.
        rows_read: rows read per input.
        rows_written: rows written per output.
        step_rows: rows out of each step.
        dead_letters: rows sent to the dead-letter output.
        error_code: the error's stable code when the run failed.
        error_message: the error's message (secrets redacted).
        cursors_before: incremental state per input when the run started.
        cursors_after: incremental state per input when it ended.
        extra: anything else the caller recorded (options, artifact version, ...).
    """

    run_id: str
    pipeline: str
    content_hash: str
    profile: str | None
    mode: str
    status: RunStatus
    started_at: datetime
    ended_at: datetime | None
    pid: int | None
    host: str | None
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_written: dict[str, int] = field(default_factory=dict)
    step_rows: dict[str, int] = field(default_factory=dict)
    dead_letters: int = 0
    error_code: str | None = None
    error_message: str | None = None
    cursors_before: dict[str, Any] = field(default_factory=dict)
    cursors_after: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def seconds(self) -> float | None:
        """Duration in seconds, ``None`` while running."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (dates as ISO 8601 strings)."""
        out = asdict(self)
        out["started_at"] = _iso(self.started_at)
        out["ended_at"] = _iso(self.ended_at)
        out["seconds"] = self.seconds
        return out


@dataclass(frozen=True)
class Checkpoint:
    """A resume point: how far a chunked read or a multi-file input got.

    Attributes:
        pipeline: the pipeline's name.
        key: what the position belongs to (an input name, ``input:chunk``, ...).
        position: JSON value saying where to resume.
        run_id: the run that saved it.
        updated_at: when it was saved (UTC).
    """

    pipeline: str
    key: str
    position: Any
    run_id: str | None
    updated_at: datetime

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        out = asdict(self)
        out["updated_at"] = _iso(self.updated_at)
        return out


@dataclass(frozen=True)
class SchemaRecord:
    """A schema written to an output at some point.

    Attributes:
        pipeline: the pipeline's name.
        output: the output's name.
        columns: column name → type name, in order.
        columns_hash: SHA-256 of ``columns`` (compare schemas cheaply).
        recorded_at: when it was first written (UTC).
        run_id: the run that wrote it.
    """

    pipeline: str
    output: str
    columns: dict[str, str]
    columns_hash: str
    recorded_at: datetime
    run_id: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        out = asdict(self)
        out["recorded_at"] = _iso(self.recorded_at)
        return out
