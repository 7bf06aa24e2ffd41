"""The Kafka source: a drained topic as a LazyFrame (batch), or micro-batches (stream).

Stream mode protocol (what :func:`ocht.executor.run_stream` calls):

- :meth:`KafkaSource.start_at` positions from a checkpoint (before the first poll);
- :meth:`KafkaSource.poll_batch` → :class:`KafkaBatch` (rows, dead letters, offsets);
- :meth:`KafkaSource.commit` the offsets once sinks and state hold the batch;
- :meth:`KafkaSource.lag`, :meth:`KafkaSource.close` (leaves the group).

Offsets are only ever committed explicitly; nothing is auto-committed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ocht.connector_kafka.avro import RegistryCodec
from ocht.connector_kafka.config import check_reachable, consumer_config
from ocht.connector_kafka.decode import (
    DEAD_LETTER_SCHEMA,
    dead_letter_frame,
    declared_schema,
    decode_values,
    metadata_frame,
    metadata_schema,
)
from ocht.connector_kafka.errors import KafkaFailure
from ocht.connector_kafka.positions import unreachable
from ocht.errors import InvalidPipeline, Issue
from ocht.observability import get_logger
from ocht.pipeline_model import KafkaConnector
from ocht.registry import Source

PartitionKey = tuple[str, int]
#: librdkafka's logical offset for "the first record still kept".
OFFSET_BEGINNING = -2


@dataclass
class KafkaBatch:
    """One micro-batch.

    Attributes:
        frame: the decoded records (with metadata columns when asked).
        offsets: ``{(topic, partition): next offset}`` to commit once the batch is written.
        dead_letters: records that could not be decoded (``DEAD_LETTER_SCHEMA``).
        records: how many Kafka records the batch holds (good and bad).
        at_end: every assigned partition was at its end when the batch was cut.
        parts: per row of ``frame``, its partition as ``"topic:partition"`` (only when
            the source was asked to track partitions).
        stale: partitions whose first record came before the offset they were started
            at: the position was reset (a recreated or truncated topic), so the
            checkpoint they were started from does not describe this topic.
    """

    frame: pl.DataFrame
    offsets: dict[PartitionKey, int] = field(default_factory=dict)
    dead_letters: pl.DataFrame | None = None
    records: int = 0
    at_end: bool = False
    parts: list[str] | None = None
    stale: set[PartitionKey] = field(default_factory=set)


class KafkaSource(Source):
    """Reads topics of a consumer group (see the module docstring for stream mode)."""

    spec: KafkaConnector

    def __init__(self, spec: KafkaConnector, *, name: str, context: Any) -> None:
        super().__init__(spec, name=name, context=context)
        self._consumer: Any = None
        self._schema: pl.Schema | None = (
            declared_schema(spec.schema_, path=f"inputs.{name}.schema")
            if spec.schema_ is not None
            else None
        )
        self._pending: list[Any] = []
        self._assigned: set[PartitionKey] = set()
        self._eof: set[PartitionKey] = set()
        self._start: dict[PartitionKey, int] = {}
        self._drained: pl.DataFrame | None = None
        self._drained_dead: pl.DataFrame | None = None
        self._joined = False
        #: called before partitions are taken away (set by the stream executor)
        self.before_revoke: Callable[[], None] | None = None
        #: called with newly assigned partitions; returns where to start them (checkpoints)
        self.on_assigned: Callable[[list[PartitionKey]], dict[PartitionKey, int]] | None = None
        #: called with partitions just taken away (their state is dropped)
        self.on_revoked: Callable[[list[PartitionKey]], None] | None = None
        #: give each row's partition in :attr:`KafkaBatch.parts` (stateful runs)
        self.track_partitions = False
        self._expect: dict[PartitionKey, int] = {}
        self._cluster: str | None = None
        self._codec: RegistryCodec | None = None
        self.log = get_logger("ocht.kafka")

    @property
    def group(self) -> str:
        """The consumer group (default ``ocht-<pipeline>``)."""
        return self.spec.group or f"ocht-{self.context.pipeline}"

    def describe(self) -> str:
        return f"kafka:{','.join(self.spec.topic_list())} (group {self.group})"

    # -- schema --------------------------------------------------------------------------
    @property
    def codec(self) -> RegistryCodec:
        """The Avro codec of ``format: avro`` (the registry is asked on first use)."""
        if self._codec is None:
            registry = self.spec.schema_registry
            assert registry is not None
            self._codec = RegistryCodec(
                registry.url, subject=self.spec.subject(), auth=registry.auth
            )
        return self._codec

    def _value_schema(self) -> pl.Schema | None:
        if self.spec.format == "avro":  # the subject's latest schema, resolved per record
            return self.codec.schema()
        if self.spec.format == "raw":
            return pl.Schema({"value": pl.Binary})
        if self.spec.format == "string":
            return pl.Schema({"value": pl.String})
        return self._schema

    def schema(self) -> pl.Schema:
        """Declared (or, for json without ``schema``, inferred from the first records)."""
        values = self._value_schema()
        if values is None:
            values = self._infer()
        schema = pl.Schema({**values, **metadata_schema(self.spec.metadata_columns)})
        missing = [c for c in self.spec.partitioned_by or () if c not in schema]
        if missing:
            msg = (
                f"input '{self.name}': partitioned_by names unknown column(s) {', '.join(missing)}"
            )
            raise InvalidPipeline(
                msg,
                issues=[Issue("unknown-column", msg, f"inputs.{self.name}.partitioned_by")],
                code="unknown-column",
            )
        return schema

    def _infer(self) -> pl.Schema:
        if self.context.mode == "batch":
            self._drained = self._drain()
            return pl.Schema(
                {
                    k: v
                    for k, v in self._drained.schema.items()
                    if not k.startswith("_") or k[1:] not in self.spec.metadata_columns
                }
            )
        # stream: read a first batch now (kept for the first poll) and infer from it
        deadline = time.monotonic() + max(30.0, self.spec.connect_timeout_s)
        consumer = self._open()
        while time.monotonic() < deadline:
            msgs = self._consume(consumer, self.spec.max_rows, 0.5)
            self._pending.extend(msgs)
            good = [m.value() for m in self._pending if m.value() is not None][:1000]
            if good:
                frame, _ = decode_values(good, "json", None)
                if frame.width:
                    self._schema = frame.schema
                    return frame.schema
            elif self._assigned and self._eof >= self._assigned:
                break
        msg = (
            f"input '{self.name}': no records to infer the columns from "
            f"({self.describe()} is empty)"
        )
        raise InvalidPipeline(
            msg,
            issues=[
                Issue(
                    "cannot-infer-schema",
                    msg,
                    f"inputs.{self.name}.schema",
                    hint="declare the columns with `schema:`",
                )
            ],
            code="cannot-infer-schema",
        )

    # -- consumer ------------------------------------------------------------------------
    def _open(self) -> Any:
        if self._consumer is not None:
            return self._consumer
        from confluent_kafka import Consumer

        check_reachable(self.spec, what=f"input '{self.name}'")
        consumer = Consumer(consumer_config(self.spec, self.group))
        consumer.subscribe(
            self.spec.topic_list(),
            on_assign=self._on_assign,
            on_revoke=self._on_revoke,
            on_lost=self._on_revoke,
        )
        self._consumer = consumer
        return consumer

    def _on_assign(self, consumer: Any, parts: list[Any]) -> None:
        from confluent_kafka import TopicPartition as KafkaTP

        self._joined = True
        if self.on_assigned is not None:
            starts = self.on_assigned([(p.topic, p.partition) for p in parts])
            self._start.update(starts)
            self._expect.update(starts)
        wanted = []
        for p in parts:
            tp = (p.topic, p.partition)
            self._assigned.add(tp)
            self._eof.discard(tp)
            wanted.append(
                KafkaTP(p.topic, p.partition, self._start[tp]) if tp in self._start else p
            )
        if self._start and any(w.offset >= 0 for w in wanted):
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
        if self.before_revoke is not None:
            # the executor confirms and commits the batch in flight while the partitions
            # are still ours, so the next owner does not read it again
            self.before_revoke()
        gone = [(p.topic, p.partition) for p in parts]
        for tp in gone:
            self._assigned.discard(tp)
            self._eof.discard(tp)
            self._expect.pop(tp, None)
            self._start.pop(tp, None)
        consumer.incremental_unassign(parts)
        if self.on_revoked is not None:
            self.on_revoked(gone)
        self.log.info("partitions revoked", count=len(parts))

    def _consume(self, consumer: Any, n: int, timeout: float) -> list[Any]:
        from confluent_kafka import KafkaError

        got = consumer.consume(n, timeout=timeout)
        out = [m for m in got if m.error() is None]
        if len(out) == len(got) and not self._eof:
            return out  # the common case: records only, no partition at its end
        for m in got:
            err = m.error()
            if err is None:
                self._eof.discard((m.topic(), m.partition()))
            elif err.code() == KafkaError._PARTITION_EOF:
                self._eof.add((m.topic(), m.partition()))
            elif err.fatal():
                raise KafkaFailure(
                    f"input '{self.name}': {err.str()}",
                    hint="see the broker logs; the run stopped before committing this batch",
                )
            else:
                self.log.warning("kafka consumer error", error=err.str())
        return out

    # -- stream protocol -----------------------------------------------------------------
    def start_at(self, offsets: dict[PartitionKey, int]) -> None:
        """Resume these partitions at these offsets (from a checkpoint) when assigned."""
        self._start = dict(offsets)
        self._expect.update(offsets)

    def cluster_id(self) -> str:
        """The id of the Kafka cluster the consumer talks to (``""`` if it gives none)."""
        if self._cluster is None:
            consumer = self._open()
            try:
                self._cluster = str(consumer.list_topics(timeout=10).cluster_id or "")
            except Exception:  # an id is a safety check; metadata may be refused
                self._cluster = ""
        return self._cluster

    def verify_offsets(
        self, offsets: dict[PartitionKey, int], *, timeout_s: float = 5.0
    ) -> set[PartitionKey]:
        """The partitions whose log does not reach ``offsets`` (see
        :func:`ocht.connector_kafka.positions.unreachable`)."""
        return unreachable(self.spec, self.group, offsets, timeout_s=timeout_s)

    def at_end(self) -> set[str]:
        """The assigned partitions at their end, as ``"topic:partition"``."""
        return {f"{t}:{p}" for t, p in self._eof & self._assigned}

    def poll_batch(self) -> KafkaBatch:
        """The next micro-batch (bounded by ``max_rows``, ``max_bytes``, ``max_wait_ms``).

        It may be empty (nothing arrived in time).
        """
        consumer = self._open()
        spec = self.spec
        msgs, self._pending = self._pending[: spec.max_rows], self._pending[spec.max_rows :]
        values = [m.value() for m in msgs]
        size = sum(map(len, filter(None, values)))
        deadline = time.monotonic() + spec.max_wait_ms / 1000
        while len(msgs) < spec.max_rows and size < spec.max_bytes:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            got = self._consume(consumer, spec.max_rows - len(msgs), remaining)
            vals = [m.value() for m in got]
            msgs.extend(got)
            values.extend(vals)
            size += sum(map(len, filter(None, vals)))
            if self._assigned and self._eof >= self._assigned:
                break  # every partition is at its end: do not wait for more
        return self._to_batch(msgs, values)

    def _to_batch(self, msgs: Sequence[Any], values: list[bytes | None]) -> KafkaBatch:
        # the last record of each partition gives its offset; scan from the end
        offsets: dict[PartitionKey, int] = {}
        parts = len(self._assigned) or None
        for m in reversed(msgs):
            key = (m.topic(), m.partition())
            if key not in offsets:
                offsets[key] = m.offset() + 1
                if parts is not None and len(offsets) >= parts and self._assigned <= offsets.keys():
                    break
        stale: set[PartitionKey] = set()
        if self._expect:  # the first record after a checkpoint must be at its offset
            for m in msgs:
                key = (m.topic(), m.partition())
                want = self._expect.pop(key, None)
                if want is not None and m.offset() < want:
                    stale.add(key)
                if not self._expect:
                    break
        if self.spec.format == "avro":
            frame, bad = self.codec.decode(values)
        else:
            frame, bad = decode_values(values, self.spec.format, self._value_schema())
        if self.spec.format == "json" and self._schema is None and frame.width:
            self._schema = frame.schema  # later batches keep the first batch's types
        dead = None
        if bad:
            dead = dead_letter_frame(msgs, bad, self.name)
            bad_idx = {i for i, _ in bad}
            kept = [m for i, m in enumerate(msgs) if i not in bad_idx]
        else:
            kept = list(msgs)
        if self.spec.metadata_columns:
            frame = pl.concat(
                [frame, metadata_frame(kept, self.spec.metadata_columns)], how="horizontal"
            )
        at_end = bool(self._assigned) and self._eof >= self._assigned
        row_parts = (
            [f"{m.topic()}:{m.partition()}" for m in kept] if self.track_partitions else None
        )
        return KafkaBatch(frame, offsets, dead, len(msgs), at_end, row_parts, stale)

    def commit(self, offsets: dict[PartitionKey, int]) -> None:
        """Commit ``offsets`` synchronously (partitions no longer ours are skipped)."""
        from confluent_kafka import KafkaException
        from confluent_kafka import TopicPartition as KafkaTP

        mine = [KafkaTP(t, p, o) for (t, p), o in offsets.items() if (t, p) in self._assigned]
        if not mine or self._consumer is None:
            return
        try:
            self._consumer.commit(offsets=mine, asynchronous=False)
        except KafkaException as exc:
            # a rebalance took the partitions: the next owner re-reads from the last commit
            self.log.warning(
                "offset commit failed; records will be re-delivered", error=str(exc.args[0])
            )

    def lag(self) -> int:
        """Records behind the end of every assigned partition (from cached watermarks)."""
        if self._consumer is None or not self._assigned:
            return 0
        from confluent_kafka import TopicPartition as KafkaTP

        total = 0
        parts = [KafkaTP(t, p) for t, p in self._assigned]
        for pos in self._consumer.position(parts):
            try:
                _low, high = self._consumer.get_watermark_offsets(pos, cached=True)
            except Exception:  # no fetch yet for this partition
                continue
            if high >= 0 and pos.offset >= 0:
                total += max(0, high - pos.offset)
        return total

    def assigned(self) -> set[PartitionKey]:
        """The partitions this consumer holds now."""
        return set(self._assigned)

    def close(self) -> None:
        """Leave the group (so partitions move to other workers at once).

        A consumer stopped during its first group join first waits (bounded by the
        session timeout) for the join to complete: some brokers (Tansu 0.6) keep a group
        stuck when a member leaves in the middle of joining. Records polled meanwhile are
        not committed, so nothing is lost.
        """
        if self._consumer is not None:
            consumer, self._consumer = self._consumer, None
            timeout_ms = float(self.spec.options.get("session.timeout.ms", 45_000))
            deadline = time.monotonic() + timeout_ms / 1000
            while not self._joined and time.monotonic() < deadline:
                try:
                    consumer.poll(0.1)
                except Exception:  # a closed or failed consumer: nothing to wait for
                    break
            try:
                consumer.close()
            except Exception:  # closing twice or after a fatal error
                self.log.debug("consumer close failed", exc_info=True)

    # -- batch mode ----------------------------------------------------------------------
    def scan(self) -> pl.LazyFrame:
        """Every record from the group's committed offsets (or the start) to the current end.

        Offsets are not committed in batch mode: a batch read is repeatable.
        """
        if self._drained is None:
            self._drained = self._drain()
        return self._drained.lazy()

    def _drain(self) -> pl.DataFrame:
        # The end is where each partition reports EOF (the fetch's high watermark), not
        # ListOffsets: some brokers (Tansu 0.6) answer that with a batch's base offset.
        from confluent_kafka import Consumer
        from confluent_kafka import TopicPartition as KafkaTP

        check_reachable(self.spec, what=f"input '{self.name}'")
        consumer = Consumer(consumer_config(self.spec, self.group))
        try:
            meta = consumer.list_topics(timeout=10)
            topics = self._matching(list(meta.topics))
            parts = [KafkaTP(t, p) for t in topics for p in meta.topics[t].partitions]
            committed = consumer.committed(parts, timeout=10) if parts else []
            consumer.assign(
                [
                    KafkaTP(c.topic, c.partition, c.offset if c.offset >= 0 else OFFSET_BEGINNING)
                    for c in committed
                ]
            )
            self._assigned = {(p.topic, p.partition) for p in parts}
            self._eof = set()
            msgs: list[Any] = []
            while self._eof < self._assigned:
                msgs.extend(self._consume(consumer, self.spec.max_rows, 1.0))
            batch = self._to_batch(msgs, [m.value() for m in msgs])
        finally:
            self._assigned = set()
            consumer.close()
        if batch.dead_letters is not None and batch.dead_letters.height:
            self.log.warning(
                "undecodable records skipped", input=self.name, count=batch.dead_letters.height
            )
        self._drained_dead = (
            batch.dead_letters
            if batch.dead_letters is not None
            else pl.DataFrame(schema=DEAD_LETTER_SCHEMA)
        )
        return batch.frame

    def dead_letters(self) -> pl.LazyFrame | None:
        """Batch mode: the records of the last :meth:`scan` that could not be decoded."""
        dead = self._drained_dead
        return dead.lazy() if dead is not None and dead.height else None

    def _matching(self, existing: list[str]) -> list[str]:
        import re

        if self.spec.pattern is not None:
            rx = re.compile(self.spec.topic_list()[0])
            return sorted(t for t in existing if rx.match(t))
        return [t for t in self.spec.topic_list() if t in existing]
