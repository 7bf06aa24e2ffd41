"""The Kafka source: a drained topic as a LazyFrame (batch), or micro-batches (stream).

Stream mode protocol (what :func:`ocht.executor.run_stream` calls):

- :meth:`KafkaSource.start_at` positions from a checkpoint (before the first poll);
- :meth:`KafkaSource.poll_batch` → :class:`KafkaBatch` (rows, dead letters, offsets);
- :meth:`KafkaSource.commit` the offsets once sinks and state hold the batch;
- :meth:`KafkaSource.lag`, :meth:`KafkaSource.close` (leaves the group).

Offsets are only ever committed explicitly; nothing is auto-committed. The consumer
itself (assignment, commits) is :mod:`ocht.connector_kafka.reader`; cutting a batch is
:mod:`ocht.connector_kafka.batch`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import polars as pl

from ocht.connector_kafka.avro import RegistryCodec
from ocht.connector_kafka.batch import (
    KafkaBatch,
    PartitionKey,
    cut_batch,
    next_offsets,
    stale_partitions,
)
from ocht.connector_kafka.decode import (
    DEAD_LETTER_SCHEMA,
    declared_schema,
    decode_values,
    metadata_schema,
)
from ocht.connector_kafka.positions import unreachable
from ocht.connector_kafka.reader import GroupReader, paused_gc
from ocht.errors import InvalidPipeline, Issue
from ocht.observability import get_logger
from ocht.pipeline_model import KafkaConnector
from ocht.registry import Source


class KafkaSource(Source):
    """Reads topics of a consumer group (see the module docstring for stream mode)."""

    spec: KafkaConnector

    def __init__(self, spec: KafkaConnector, *, name: str, context: Any) -> None:
        super().__init__(spec, name=name, context=context)
        self._schema: pl.Schema | None = (
            declared_schema(spec.schema_, path=f"inputs.{name}.schema")
            if spec.schema_ is not None
            else None
        )
        self._reader: GroupReader | None = None
        self._pending: list[Any] = []
        self._start: dict[PartitionKey, int] = {}
        self._drained: pl.DataFrame | None = None
        self._drained_dead: pl.DataFrame | None = None
        #: called before partitions are taken away (set by the stream executor)
        self.before_revoke: Callable[[], None] | None = None
        #: called with newly assigned partitions; returns where to start them (checkpoints)
        self.on_assigned: Callable[[list[PartitionKey]], dict[PartitionKey, int]] | None = None
        #: called with partitions just taken away (their state is dropped)
        self.on_revoked: Callable[[list[PartitionKey]], None] | None = None
        #: give each row's partition in :attr:`KafkaBatch.parts` (stateful runs)
        self.track_partitions = False
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
        reader = self._open()
        while time.monotonic() < deadline:
            self._pending.extend(reader.consume(self.spec.max_rows, 0.5))
            good = [v for v in reader.values(self._pending) if v is not None][:1000]
            if good:
                frame, _ = decode_values(good, "json", None)
                if frame.width:
                    self._schema = frame.schema
                    return frame.schema
            elif reader.all_at_end():
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

    # -- stream protocol -----------------------------------------------------------------
    def _open(self) -> GroupReader:
        if self._reader is None:
            self._reader = GroupReader(
                self.spec, self.group, name=self.name, hooks=self, log=self.log
            )
            self._reader.start.update(self._start)
            self._reader.expect.update(self._start)
        self._reader.subscribe()
        return self._reader

    def start_at(self, offsets: dict[PartitionKey, int]) -> None:
        """Resume these partitions at these offsets (from a checkpoint) when assigned."""
        self._start = dict(offsets)
        if self._reader is not None:
            self._reader.start = dict(offsets)
            self._reader.expect.update(offsets)

    def cluster_id(self) -> str:
        """The id of the Kafka cluster the consumer talks to (``""`` if it gives none)."""
        if self._cluster is None:
            consumer = self._open().consumer
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
        r = self._reader
        return {f"{t}:{p}" for t, p in r.eof & r.assigned} if r is not None else set()

    def poll_batch(self) -> KafkaBatch:
        """The next micro-batch (bounded by ``max_rows``, ``max_bytes``, ``max_wait_ms``).

        It may be empty (nothing arrived in time).
        """
        reader = self._open()
        spec = self.spec
        with paused_gc():  # the batch's message objects die together below
            msgs, self._pending = self._pending[: spec.max_rows], self._pending[spec.max_rows :]
            values = reader.values(msgs)
            size = sum(map(len, filter(None, values)))
            deadline = time.monotonic() + spec.max_wait_ms / 1000
            while len(msgs) < spec.max_rows and size < spec.max_bytes:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                got = reader.consume(spec.max_rows - len(msgs), remaining)
                vals = reader.values(got)
                msgs.extend(got)
                values.extend(vals)
                size += sum(map(len, filter(None, vals)))
                if reader.all_at_end():
                    break  # every partition is at its end: do not wait for more
            return self._to_batch(reader, msgs, values)

    def _to_batch(
        self, reader: GroupReader, msgs: list[Any], values: list[bytes | None]
    ) -> KafkaBatch:
        # the first record after a checkpoint must be at its offset
        stale = stale_partitions(msgs, reader.expect) if reader.expect else set()
        return cut_batch(
            msgs,
            values,
            decode=self._decode,
            source=self.name,
            metadata=self.spec.metadata_columns,
            offsets=next_offsets(msgs, reader.assigned),
            at_end=reader.all_at_end(),
            track_partitions=self.track_partitions,
            stale=stale,
        )

    def _decode(self, values: list[bytes | None]) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
        if self.spec.format == "avro":
            return self.codec.decode(values)
        frame, bad = decode_values(values, self.spec.format, self._value_schema())
        if self.spec.format == "json" and self._schema is None and frame.width:
            self._schema = frame.schema  # later batches keep the first batch's types
        return frame, bad

    def commit(self, offsets: dict[PartitionKey, int]) -> None:
        """Commit ``offsets`` (partitions no longer ours are skipped).

        The commit is asynchronous; it is made synchronous before partitions are given
        away and when the source closes, so a new owner starts after them.
        """
        if self._reader is not None:
            self._reader.commit(offsets)

    def lag(self) -> int:
        """Records behind the end of every assigned partition (from cached watermarks)."""
        return self._reader.lag() if self._reader is not None else 0

    def assigned(self) -> set[PartitionKey]:
        """The partitions this consumer holds now."""
        return set(self._reader.assigned) if self._reader is not None else set()

    def close(self) -> None:
        """Store the last offsets and leave the group (so partitions move to other
        workers at once; see :meth:`GroupReader.close`)."""
        if self._reader is not None:
            reader, self._reader = self._reader, None
            reader.close()

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
        reader = GroupReader(self.spec, self.group, name=self.name, hooks=self, log=self.log)
        try:
            reader.assign_committed(self._matching)
            msgs: list[Any] = []
            while reader.eof < reader.assigned:
                msgs.extend(reader.consume(self.spec.max_rows, 1.0))
            batch = self._to_batch(reader, msgs, reader.values(msgs))
        finally:
            reader.assigned = set()
            reader.close(wait_join=False)
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
