"""Checkpoints of a stream run: source offsets and the state of stateful steps, together.

A checkpoint is one JSON file (state frames as base64 Parquet) written atomically: to a
temporary file, fsynced, then renamed over the previous one, so a crash leaves either the
old or the new checkpoint, never a torn one. It lives under the run home at
``checkpoints/<pipeline>--<group>.json``. The executor saves it after the sinks hold a
batch and before the offsets are committed to Kafka; on restart the source resumes at
the checkpoint's offsets (never behind the group's committed ones), so state is neither
lost nor counted twice. (The SQL ``store`` brick can replace this file later.)
"""

from __future__ import annotations

import base64
import json
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

PartitionKey = tuple[str, int]


@dataclass
class Checkpoint:
    """Offsets (next to read) per partition and serialised state per step."""

    offsets: dict[PartitionKey, int] = field(default_factory=dict)
    states: dict[str, bytes] = field(default_factory=dict)
    batches: int = 0
    saved_at: float = 0.0


class FileCheckpointStore:
    """One checkpoint file per pipeline and consumer group.

    Example:
        >>> import tempfile
        >>> store = FileCheckpointStore.for_run(tempfile.mkdtemp(), "p", "g")
        >>> store.save(Checkpoint({("t", 0): 5}, {"agg": b"x"}))
        >>> store.load().offsets
        {('t', 0): 5}
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @classmethod
    def for_run(cls, home: str | Path, pipeline: str, group: str) -> FileCheckpointStore:
        """The store under ``home/checkpoints`` for this pipeline and group."""
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", f"{pipeline}--{group}")
        return cls(Path(home) / "checkpoints" / f"{safe}.json")

    def load(self) -> Checkpoint | None:
        """The last checkpoint, or ``None`` when there is none."""
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return None
        offsets = {(o["topic"], int(o["partition"])): int(o["offset"]) for o in data["offsets"]}
        states = {k: base64.b64decode(v) for k, v in data["states"].items()}
        return Checkpoint(
            offsets, states, int(data.get("batches", 0)), float(data.get("saved_at", 0))
        )

    def save(self, checkpoint: Checkpoint) -> None:
        """Write ``checkpoint`` atomically (temporary file, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": 1,
            "saved_at": checkpoint.saved_at or time.time(),
            "batches": checkpoint.batches,
            "offsets": [
                {"topic": t, "partition": p, "offset": o}
                for (t, p), o in sorted(checkpoint.offsets.items())
            ],
            "states": {k: base64.b64encode(v).decode() for k, v in checkpoint.states.items()},
        }
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".ckpt-")
        try:
            with os.fdopen(fd, "w") as fh:
                json.dump(data, fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def clear(self) -> None:
        """Forget the checkpoint (a full refresh)."""
        self.path.unlink(missing_ok=True)
