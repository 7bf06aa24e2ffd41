"""The seam of stateful stream steps: :class:`StreamOperator`, and its state as bytes.

A stateful step kind builds its batch form and, in stream mode, a factory of stream
operators from the same compiled expressions (``CompiledStep.operator``); a plugin step
becomes stateful the same way. The executor feeds an operator one micro-batch *per
source partition* (``part`` is ``"topic:partition"``; ``""`` for rows that are not tied
to a partition, such as the output of an earlier stateful step) and tells it which
partitions it holds (:meth:`StreamOperator.assign` / :meth:`StreamOperator.revoke`) and
which are at their end (:meth:`StreamOperator.positions`).

State is kept per partition as Polars frames, so it is checkpointed with that
partition's offset, restored when the partition is assigned and dropped when it is
revoked (Kafka Streams' tasks). :func:`pack` serialises frames as Parquet.
"""

from __future__ import annotations

import io
import json
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl

_MAGIC = b"OCHTST1"
_SEP = "\x1f"
#: The error code of a step option that cannot run on a stream.
NOT_STREAMABLE = "not-streamable"
#: The partition slot of rows not tied to a source partition.
UNPARTITIONED = ""


@dataclass
class OperatorOutput:
    """What one micro-batch produced: rows to pass on, and records that came too late."""

    rows: pl.DataFrame
    late: pl.DataFrame | None = None


class StreamOperator(ABC):
    """A stateful step in stream mode, with state per source partition.

    Subclasses implement :meth:`process`, :meth:`part_frames`, :meth:`load_part`,
    :meth:`drop_part` and :meth:`parts`; the rest has defaults.
    """

    def __init__(self, step_id: str) -> None:
        self.step_id = step_id
        self.held: set[str] = set()
        #: partitions at their end (``None``: unknown, every partition counts as at its end)
        self.at_end: set[str] | None = None

    # -- partitions --------------------------------------------------------------------
    def assign(self, parts: Iterable[str]) -> None:
        """These partitions are now read by this operator's worker."""
        self.held.update(parts)

    def revoke(self, parts: Iterable[str]) -> None:
        """These partitions moved away: forget their state (it is in their checkpoint)."""
        for part in parts:
            self.held.discard(part)
            self.drop_part(part)

    def positions(self, at_end: set[str] | None) -> None:
        """Which held partitions are at their end (caught up) right now."""
        self.at_end = at_end

    # -- records -----------------------------------------------------------------------
    @abstractmethod
    def process(self, batch: pl.DataFrame, *, now: float, part: str = "") -> OperatorOutput:
        """Fold one partition's rows of a micro-batch into the state; return what is ready."""

    def idle_due(self, *, now: float) -> bool:
        """Whether :meth:`on_idle` would emit something now."""
        return False

    def on_idle(self, *, now: float) -> pl.DataFrame | None:
        """Called when a poll brought no records; may emit (idle partitions)."""
        return None

    def flush(self) -> pl.DataFrame | None:
        """Emit everything still held (the stream was drained)."""
        return None

    # -- state -------------------------------------------------------------------------
    @abstractmethod
    def part_frames(self, part: str) -> dict[str, pl.DataFrame]:
        """The state of one partition as named frames."""

    @abstractmethod
    def load_part(self, part: str, frames: dict[str, pl.DataFrame]) -> None:
        """Replace one partition's state with frames from :meth:`part_frames`."""

    @abstractmethod
    def drop_part(self, part: str) -> None:
        """Forget one partition's state."""

    @abstractmethod
    def parts(self) -> set[str]:
        """The partitions that have state."""

    def snapshot(self, part: str | None = None) -> bytes:
        """One partition's state (every partition's when ``part`` is ``None``) as bytes."""
        chosen = sorted(self.parts()) if part is None else [part]
        return pack(
            {
                f"{p}{_SEP}{name}": frame
                for p in chosen
                for name, frame in self.part_frames(p).items()
            }
        )

    def restore(self, data: bytes) -> None:
        """Load state saved by :meth:`snapshot` (the partitions it holds)."""
        grouped: dict[str, dict[str, pl.DataFrame]] = {}
        for key, frame in unpack(data).items():
            part, _, name = key.partition(_SEP)
            grouped.setdefault(part, {})[name] = frame
        for part, frames in grouped.items():
            self.load_part(part, frames)

    def state_rows(self) -> int:
        """Rows held in state."""
        return sum(f.height for p in self.parts() for f in self.part_frames(p).values())

    def state_bytes(self) -> int:
        """Approximate bytes held in state (in memory)."""
        return int(
            sum(f.estimated_size() for p in self.parts() for f in self.part_frames(p).values())
        )


def pack(frames: dict[str, pl.DataFrame]) -> bytes:
    """Frames as bytes: a JSON index followed by one Parquet file per frame."""
    body = io.BytesIO()
    index: dict[str, list[int]] = {}
    for name, frame in frames.items():
        start = body.tell()
        frame.write_parquet(body, compression="zstd")
        index[name] = [start, body.tell() - start]
    head = json.dumps(index).encode()
    return _MAGIC + struct.pack(">I", len(head)) + head + body.getvalue()


def unpack(data: bytes) -> dict[str, pl.DataFrame]:
    """The frames of :func:`pack`."""
    if not data.startswith(_MAGIC):
        raise ValueError("not an Ocht state snapshot")
    n = struct.unpack(">I", data[len(_MAGIC) : len(_MAGIC) + 4])[0]
    start = len(_MAGIC) + 4
    index = json.loads(data[start : start + n])
    body = data[start + n :]
    return {
        name: pl.read_parquet(io.BytesIO(body[o : o + length]))
        for name, (o, length) in index.items()
    }


def concat(frames: Iterable[pl.DataFrame]) -> pl.DataFrame | None:
    """The frames stacked (``None`` when there are none)."""
    parts = [f for f in frames if f.width]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="vertical_relaxed")
