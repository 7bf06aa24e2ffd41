"""File outputs of a stream run: their staging journals ride in the offsets' transaction.

A file output in stream mode (:class:`StagedSink`, e.g. ``ocht.connector_files.PartFiles``)
stages every micro-batch and publishes part files. What it has staged (its *journal*) is
saved as one extra row of the stream's checkpoints, ``ocht:files:<output>:<run id>``
(partition ``-2``), in the same transaction as the per-partition offsets and state — in
the run store, or in the SQL output's database when that carries the checkpoints. Parts
are renamed into place only after that transaction commits. Hence, per batch::

    sink.stage()                   # the batch's chunk joins the open part; maybe a part is built
    save(offsets + state + journals)   # one transaction: the commit point
    source.commit(offsets)
    sink.publish()                 # ready parts renamed into the folder

A crash before the save replays the batch and publishes nothing of it; a crash after it
leaves a journal naming what is committed, which the next run publishes
(:meth:`StreamFiles.recover`) before it reads anything.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ocht.executor.plan import Plan, PlannedOutput
from ocht.executor.stream_types import Pending

#: checkpoint rows of file outputs: ``ocht:files:<output>:<run id>`` (no Kafka topic has ':')
JOURNAL_PREFIX = "ocht:files:"
JOURNAL_PARTITION = -2


@runtime_checkable
class StagedSink(Protocol):
    """A sink that stages batches and publishes them after the offsets commit."""

    def recover(self, journals: dict[str, bytes], *, scope: str) -> list[str]:
        """Publish what earlier runs committed, sweep the rest; the runs settled."""

    def stage(self) -> None:
        """The oldest written batch is about to be committed."""

    def journal(self) -> bytes:
        """What is staged, to save with the offsets."""

    def publish(self) -> None:
        """The offsets are committed: make the ready parts visible."""

    def roll(self, *, force: bool = False) -> bool:
        """Close the open part when due (or ``force``); ``True`` when one became ready."""


class StreamFiles:
    """The stream run's file outputs (none: every method does nothing)."""

    def __init__(self, plan: Plan) -> None:
        self.run_id = plan.context.run_id
        self.outputs: list[PlannedOutput] = [
            o for o in plan.outputs if isinstance(o.sink, StagedSink)
        ]

    def __bool__(self) -> bool:
        return bool(self.outputs)

    def _key(self, out: PlannedOutput, run: str) -> str:
        return f"{JOURNAL_PREFIX}{out.name}:{run}"

    def recover(self, cp: Any) -> None:
        """Before the first poll: finish earlier runs' committed parts, forget their rows."""
        if not self.outputs:
            return
        saved = cp.cps.load(cp.pipeline, cp.group)
        for out in self.outputs:
            prefix = self._key(out, "")
            journals = {
                topic[len(prefix) :]: row.state or b""
                for (topic, _), row in saved.items()
                if topic.startswith(prefix)
            }
            sink: Any = out.sink
            settled = sink.recover(journals, scope=f"{cp.pipeline}\x1f{cp.group}")
            if settled:
                keys = [(self._key(out, run), JOURNAL_PARTITION) for run in settled]
                cp.cps.clear(cp.pipeline, cp.group, keys)

    def stage(self, pending: Pending) -> list[Any]:
        """Stage ``pending``'s rows in its file outputs; the journal rows to save with it."""
        if not self.outputs:
            return []
        for out in pending.written:
            if isinstance(out.sink, StagedSink):
                out.sink.stage()
        return self.rows()

    def rows(self) -> list[Any]:
        """Every file output's journal as a checkpoint row."""
        from ocht.store import PartitionCheckpoint

        return [
            PartitionCheckpoint(
                self._key(o, self.run_id), JOURNAL_PARTITION, 0, "", self._sink(o).journal()
            )
            for o in self.outputs
        ]

    def publish(self) -> None:
        """After the commit: rename the parts that became ready."""
        for out in self.outputs:
            self._sink(out).publish()

    def roll(self, cp: Any, *, force: bool = False) -> None:
        """Close due parts (every open part with ``force``: a clean stop), save the
        journals, publish."""
        if not self.outputs or cp is None:
            return
        rolled = [self._sink(o).roll(force=force) for o in self.outputs]
        if any(rolled):
            cp.save(self.rows())
            self.publish()

    @staticmethod
    def _sink(out: PlannedOutput) -> StagedSink:
        sink = out.sink
        assert isinstance(sink, StagedSink)
        return sink
