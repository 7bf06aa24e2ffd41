"""One consumer of a group: its assignment, end-of-partition tracking, consume, commits.

The per-record work stays in C where it can: values, errors and positions are taken
from a consume result with ``map`` over the message type's methods (no Python frame
per record), and the cyclic garbage collector is paused while a batch's messages are
alive (:func:`paused_gc`) — they are freed by reference counting as soon as the batch
is cut, and collecting them meanwhile only walks the whole heap for nothing.

Offsets are committed asynchronously: the next batch is read while the broker stores
them. Before partitions are given away (a rebalance) and when the consumer closes,
offsets still unconfirmed are committed synchronously, so the next owner of a
partition starts where this one stopped.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

from ocht.connector_kafka.config import check_reachable, consumer_config
from ocht.connector_kafka.errors import KafkaFailure
from ocht.pipeline_model import KafkaConnector

PartitionKey = tuple[str, int]
#: librdkafka's logical offset for "the first record still kept".
OFFSET_BEGINNING = -2


class RebalanceHooks(Protocol):
    """What the owner of a reader is told about (the stream executor sets these)."""

    before_revoke: Callable[[], None] | None
    on_assigned: Callable[[list[PartitionKey]], dict[PartitionKey, int]] | None
    on_revoked: Callable[[list[PartitionKey]], None] | None


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection inside (unless it was already off).

    A consume of 10,000 records allocates 10,000 message objects that live until the
    batch is cut; every collection they trigger would walk them and the rest of the
    heap. Nothing inside makes reference cycles that must be freed at once.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class GroupReader:
    """A confluent-kafka consumer subscribed (or assigned) for one Kafka input."""

    def __init__(self, spec: KafkaConnector, group: str, *, name: str, hooks: Any, log: Any):
        from confluent_kafka import Message

        self.spec = spec
        self.group = group
        self.name = name
        self.hooks: RebalanceHooks = hooks
        self.log = log
        self.consumer: Any = None
        self.assigned: set[PartitionKey] = set()
        self.eof: set[PartitionKey] = set()
        #: where to start partitions when assigned (checkpoints)
        self.start: dict[PartitionKey, int] = {}
        #: the offset the first record of a partition must have (stale checkpoint check)
        self.expect: dict[PartitionKey, int] = {}
        self.joined = False
        self._unconfirmed: dict[PartitionKey, int] = {}
        self._sync = False
        self._value = Message.value
        self._error = Message.error

    # -- membership ----------------------------------------------------------------------
    def subscribe(self) -> Any:
        """The consumer, subscribed to the input's topics (created on first use)."""
        if self.consumer is not None:
            return self.consumer
        from confluent_kafka import Consumer

        check_reachable(self.spec, what=f"input '{self.name}'")
        consumer = Consumer(
            {**consumer_config(self.spec, self.group), "on_commit": self._on_commit}
        )
        consumer.subscribe(
            self.spec.topic_list(),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self.consumer = consumer
        return consumer

    def assign_committed(self, matching: Callable[[list[str]], list[str]]) -> None:
        """Batch mode: take every partition of the matching topics, from the group's
        committed offsets (or the start), without joining the group."""
        from confluent_kafka import Consumer
        from confluent_kafka import TopicPartition as KafkaTP

        check_reachable(self.spec, what=f"input '{self.name}'")
        consumer = Consumer(consumer_config(self.spec, self.group))
        self.consumer = consumer
        meta = consumer.list_topics(timeout=10)
        topics = matching(list(meta.topics))
        parts = [KafkaTP(t, p) for t in topics for p in meta.topics[t].partitions]
        committed = consumer.committed(parts, timeout=10) if parts else []
        consumer.assign(
            [
                KafkaTP(c.topic, c.partition, c.offset if c.offset >= 0 else OFFSET_BEGINNING)
                for c in committed
            ]
        )
        self.assigned = {(p.topic, p.partition) for p in parts}
        self.eof = set()

    def _on_assign(self, consumer: Any, parts: list[Any]) -> None:
        from confluent_kafka import TopicPartition as KafkaTP

        self.joined = True
        if self.hooks.on_assigned is not None:
            starts = self.hooks.on_assigned([(p.topic, p.partition) for p in parts])
            self.start.update(starts)
            self.expect.update(starts)
        wanted = []
        for p in parts:
            tp = (p.topic, p.partition)
            self.assigned.add(tp)
            self.eof.discard(tp)
            wanted.append(KafkaTP(p.topic, p.partition, self.start[tp]) if tp in self.start else p)
        if self.start and any(w.offset >= 0 for w in wanted):
            committed = {
                (c.topic, c.partition): c.offset for c in consumer.committed(parts, timeout=10)
            }
            wanted = [
                KafkaTP(
                    w.topic, w.partition, max(w.offset, committed.get((w.topic, w.partition), -1))
                )
                if w.offset >= 0
                else w
                for w in wanted
            ]
        consumer.incremental_assign(wanted)
        self.log.info(
            "partitions assigned",
            partitions=sorted(f"{t}:{p}" for t, p in ((w.topic, w.partition) for w in wanted)),
        )

    def _on_revoke(self, consumer: Any, parts: list[Any]) -> None:
        gone = [(p.topic, p.partition) for p in parts]
        self._sync = True  # what is committed now must be stored before the hand-over
        try:
            if self.hooks.before_revoke is not None:
                # the executor confirms and commits the batch in flight while the
                # partitions are still ours, so the next owner does not read it again
                self.hooks.before_revoke()
            self.confirm(gone)
        finally:
            self._sync = False
        for tp in gone:
            self.assigned.discard(tp)
            self.eof.discard(tp)
            self.expect.pop(tp, None)
            self.start.pop(tp, None)
        consumer.incremental_unassign(parts)
        if self.hooks.on_revoked is not None:
            self.hooks.on_revoked(gone)
        self.log.info("partitions revoked", count=len(parts))

    # -- reading -------------------------------------------------------------------------
    def consume(self, n: int, timeout: float) -> list[Any]:
        """Up to ``n`` records within ``timeout`` seconds (errors and EOF events noted)."""
        from confluent_kafka import KafkaError

        # librdkafka counts whole milliseconds: a shorter wait would not wait at all
        got: list[Any] = self.consumer.consume(n, timeout=max(timeout, 0.001))
        if not self.eof and not any(map(self._error, got)):
            return got  # the common case: records only, no partition at its end
        out = []
        for m in got:
            err = m.error()
            if err is None:
                self.eof.discard((m.topic(), m.partition()))
                out.append(m)
            elif err.code() == KafkaError._PARTITION_EOF:
                self.eof.add((m.topic(), m.partition()))
            elif err.fatal():
                raise KafkaFailure(
                    f"input '{self.name}': {err.str()}",
                    hint="see the broker logs; the run stopped before committing this batch",
                )
            else:
                self.log.warning("kafka consumer error", error=err.str())
        return out

    def values(self, msgs: Sequence[Any]) -> list[bytes | None]:
        """The record values of ``msgs``, in order."""
        return list(map(self._value, msgs))

    def all_at_end(self) -> bool:
        """Every assigned partition is at its end."""
        return bool(self.assigned) and self.eof >= self.assigned

    # -- committing ----------------------------------------------------------------------
    def commit(self, offsets: dict[PartitionKey, int]) -> None:
        """Commit ``offsets`` of partitions still ours (asynchronously, except during a
        rebalance; :meth:`confirm` waits for them)."""
        from confluent_kafka import TopicPartition as KafkaTP

        mine = {tp: o for tp, o in offsets.items() if tp in self.assigned}
        if not mine or self.consumer is None:
            return
        if not self._sync:
            self._unconfirmed.update(mine)
            self.consumer.commit(
                offsets=[KafkaTP(t, p, o) for (t, p), o in mine.items()], asynchronous=True
            )
            return
        self._commit_now(mine)

    def confirm(self, parts: Sequence[PartitionKey] | None = None) -> None:
        """Commit synchronously what was committed asynchronously and not yet confirmed
        (of ``parts``, or of every partition)."""
        keys = list(self._unconfirmed) if parts is None else list(parts)
        todo = {tp: self._unconfirmed[tp] for tp in keys if tp in self._unconfirmed}
        if todo and self.consumer is not None:
            self._commit_now(todo)

    def _commit_now(self, offsets: dict[PartitionKey, int]) -> None:
        from confluent_kafka import KafkaException
        from confluent_kafka import TopicPartition as KafkaTP

        try:
            self.consumer.commit(
                offsets=[KafkaTP(t, p, o) for (t, p), o in offsets.items()], asynchronous=False
            )
        except KafkaException as exc:
            # a rebalance took the partitions: the next owner re-reads from the last commit
            self.log.warning(
                "offset commit failed; records will be re-delivered", error=str(exc.args[0])
            )
        for tp, o in offsets.items():
            if self._unconfirmed.get(tp, -1) <= o:
                self._unconfirmed.pop(tp, None)

    def _on_commit(self, err: Any, parts: list[Any]) -> None:
        # called from consume() in this thread once the broker answered an async commit
        if err is not None:
            self.log.warning("offset commit failed; records will be re-delivered", error=err.str())
            return
        for p in parts:
            tp = (p.topic, p.partition)
            if p.error is None and self._unconfirmed.get(tp, -1) <= p.offset:
                self._unconfirmed.pop(tp, None)

    # -- reporting, closing --------------------------------------------------------------
    def lag(self) -> int:
        """Records behind the end of every assigned partition (from cached watermarks)."""
        if self.consumer is None or not self.assigned:
            return 0
        from confluent_kafka import TopicPartition as KafkaTP

        total = 0
        for pos in self.consumer.position([KafkaTP(t, p) for t, p in self.assigned]):
            try:
                _low, high = self.consumer.get_watermark_offsets(pos, cached=True)
            except Exception:  # no fetch yet for this partition
                continue
            if high >= 0 and pos.offset >= 0:
                total += max(0, high - pos.offset)
        return total

    def close(self, *, wait_join: bool = True) -> None:
        """Store unconfirmed offsets and leave the group.

        With ``wait_join``, a consumer stopped during its first group join first waits
        (bounded by the session timeout) for the join to complete: some brokers (Tansu
        0.6) keep a group stuck when a member leaves in the middle of joining. Records
        polled meanwhile are not committed, so nothing is lost.
        """
        if self.consumer is None:
            return
        try:
            self.confirm()
        except Exception:  # a failed consumer: the next owner re-reads from the last commit
            self.log.debug("final offset commit failed", exc_info=True)
        consumer, self.consumer = self.consumer, None
        if wait_join:
            timeout_ms = float(self.spec.options.get("session.timeout.ms", 45_000))
            deadline = time.monotonic() + timeout_ms / 1000
            while not self.joined and time.monotonic() < deadline:
                try:
                    consumer.poll(0.1)
                except Exception:  # a closed or failed consumer: nothing to wait for
                    break
        try:
            consumer.close()
        except Exception:  # closing twice or after a fatal error
            self.log.debug("consumer close failed", exc_info=True)
