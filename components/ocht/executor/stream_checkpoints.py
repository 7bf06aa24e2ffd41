"""Per-partition state and offsets of a stream run, kept in the run store.

There is one checkpoint mechanism: rows of the store's ``ocht_stream_checkpoints``
table (:class:`ocht.store.PartitionCheckpoints`), one per (pipeline, consumer group,
topic, partition), holding the next offset, the Kafka cluster id and the stateful
steps' state for that partition. They live in the run store, or, when the pipeline
writes a SQL output, in that output's database, written in the output's own
transaction (exactly once).

- **assigned**: the partition's row is loaded; its state is restored into every
  operator and the consumer starts at its offset (never behind the group's commit).
- **revoked**: the pending batches are committed first (the source calls
  ``before_revoke``), then the partition's state is dropped from memory.
- **after each batch**: the rows of every partition the batch touched (and, when a
  window was emitted, every held partition) are saved in one transaction, before the
  Kafka offsets are committed.

A checkpoint that does not describe what the consumer reads is **stale**: another
cluster id, an offset the partition's log does not reach (a recreated or truncated
topic), or a first record before the checkpoint's offset (the consumer's position was
reset). The documented rule: the partition starts
fresh (its state and that checkpoint are discarded, the partition is read from the
group's committed offset or ``start``) and the worker logs a ``stale checkpoint``
warning with the reason; it never mixes an old state with new offsets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ocht.executor.stream_types import PartitionKey
from ocht.observability import get_logger
from ocht.transform import UNPARTITIONED, StreamOperator, pack_state, unpack_state

_SEP = "\x1e"
#: the checkpoint row of state not tied to a source partition
_GLOBAL: PartitionKey = ("", -1)


def part_name(key: PartitionKey) -> str:
    """A partition as operators name it: ``"topic:partition"``."""
    return UNPARTITIONED if key == _GLOBAL else f"{key[0]}:{key[1]}"


def part_key(name: str) -> PartitionKey:
    """The inverse of :func:`part_name`."""
    if name == UNPARTITIONED:
        return _GLOBAL
    topic, _, partition = name.rpartition(":")
    return topic, int(partition)


class Checkpointer:
    """Restores, drops and saves the per-partition checkpoints of one stream run.

    Args:
        ops: the stateful operators by step id.
        checkpoints: an :class:`ocht.store.PartitionCheckpoints`.
        pipeline: the pipeline's name.
        group: the consumer group.
        run_id: recorded on every row.
        cluster_id: a callable giving the cluster the consumer reads.
    """

    def __init__(
        self,
        ops: dict[str, StreamOperator],
        checkpoints: Any,
        *,
        pipeline: str,
        group: str,
        run_id: str,
        cluster_id: Any,
        verify: Any = None,
    ) -> None:
        self.ops = ops
        self.cps = checkpoints
        self.pipeline = pipeline
        self.group = group
        self.run_id = run_id
        self._cluster_id = cluster_id
        self._verify = verify
        self.offsets: dict[PartitionKey, int] = {}
        self.restored = 0
        self.stale: list[tuple[PartitionKey, str]] = []
        self.log = get_logger("ocht.stream")

    @property
    def cluster(self) -> str:
        return str(self._cluster_id())

    # -- assignment --------------------------------------------------------------------
    def start(self) -> None:
        """Restore the state that belongs to no partition (a stateful step after another)."""
        saved = self.cps.load(self.pipeline, self.group).get(_GLOBAL)
        if saved is not None and saved.state:
            self._restore(UNPARTITIONED, saved.state)

    def assigned(self, keys: list[PartitionKey]) -> dict[PartitionKey, int]:
        """Restore these partitions; returns the offsets to start them at."""
        saved = self.cps.load(self.pipeline, self.group)
        cluster = self.cluster
        starts: dict[PartitionKey, int] = {}
        for key in keys:
            name = part_name(key)
            for op in self.ops.values():
                op.assign([name])
            cp = saved.get(key)
            if cp is None:
                continue
            if cp.cluster_id and cluster and cp.cluster_id != cluster:
                self.discard(key, f"saved from cluster {cp.cluster_id}, reading {cluster}")
                continue
            starts[key] = cp.offset
        beyond = self._verify(starts) if self._verify is not None and starts else set()
        for key in list(starts):
            if key in beyond:
                del starts[key]
                self.discard(key, f"offset {saved[key].offset} is beyond the end of the topic")
                continue
            cp = saved[key]
            if cp.state:
                self._restore(part_name(key), cp.state)
            self.offsets[key] = cp.offset
            self.restored += 1
        if starts:
            self.log.info("resumed from checkpoints", partitions=len(starts), group=self.group)
        return starts

    def revoked(self, keys: Iterable[PartitionKey]) -> None:
        """Drop these partitions' state (their checkpoints hold it)."""
        names = [part_name(k) for k in keys]
        for op in self.ops.values():
            op.revoke(names)
        for key in keys:
            self.offsets.pop(key, None)

    def discard(self, key: PartitionKey, reason: str) -> None:
        """A stale checkpoint: this partition starts fresh (see the module docstring)."""
        self.log.warning(
            "stale checkpoint: the partition starts fresh",
            topic=key[0],
            partition=key[1],
            reason=reason,
            code="stale-checkpoint",
        )
        self.stale.append((key, reason))
        name = part_name(key)
        for op in self.ops.values():
            op.drop_part(name)
        self.offsets.pop(key, None)

    def _restore(self, name: str, data: bytes) -> None:
        by_step: dict[str, dict[str, Any]] = {}
        for label, frame in unpack_state(data).items():
            sid, _, frame_name = label.partition(_SEP)
            by_step.setdefault(sid, {})[frame_name] = frame
        for sid, frames in by_step.items():
            if sid in self.ops:
                self.ops[sid].load_part(name, frames)

    # -- saving ------------------------------------------------------------------------
    def rows(self, offsets: dict[PartitionKey, int], dirty: set[str] | None) -> list[Any]:
        """The rows to save after a batch: partitions it read, and ``dirty`` ones
        (``None``: every partition with state)."""
        from ocht.store import PartitionCheckpoint

        self.offsets.update(offsets)
        names = {part_name(k) for k in offsets}
        with_state = set().union(*(op.parts() for op in self.ops.values())) if self.ops else set()
        names |= with_state if dirty is None else (dirty & with_state)
        cluster = self.cluster
        out = []
        for name in sorted(names):
            key = part_key(name)
            if key != _GLOBAL and key not in self.offsets:
                continue
            state = None
            if self.ops:
                state = pack_state(
                    {
                        f"{sid}{_SEP}{fname}": frame
                        for sid, op in self.ops.items()
                        for fname, frame in op.part_frames(name).items()
                    }
                )
            out.append(
                PartitionCheckpoint(key[0], key[1], self.offsets.get(key, 0), cluster, state)
            )
        return out

    def save(self, rows: list[Any], connection: Any = None) -> None:
        """Write ``rows`` in one transaction (``connection``'s when given)."""
        self.cps.save(self.pipeline, self.group, rows, run_id=self.run_id, connection=connection)
