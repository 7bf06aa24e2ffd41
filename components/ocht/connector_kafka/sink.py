"""The Kafka sink: an idempotent producer; a batch counts as written once every record of
it is acknowledged (optionally inside one Kafka transaction).

Acknowledgements are counted per partition by one delivery callback of the producer:
with idempotence, a partition's records are acknowledged in the order they were
produced, so a batch is confirmed once every partition it wrote to has as many
acknowledgements as records produced up to the end of that batch. To know those
partitions, unkeyed records of one micro-batch all go to one partition and the next
batch to the next (a sticky partitioner whose stickiness is the micro-batch). Keyed
records on a topic of several partitions are placed by librdkafka's partitioner and
confirmed one by one instead.
"""

from __future__ import annotations

import io
import time
import uuid
from collections import defaultdict, deque
from typing import Any, ClassVar

import polars as pl

from ocht.connector_kafka.avro import RegistryCodec
from ocht.connector_kafka.config import check_reachable, producer_config
from ocht.connector_kafka.errors import DeliveryFailed
from ocht.observability import get_logger
from ocht.pipeline_model import KafkaConnector
from ocht.registry import Sink

FLUSH_TIMEOUT_S = 60.0


class _Deliveries:
    """Acknowledgements still awaited for one ``write`` (records confirmed one by one)."""

    __slots__ = ("errors", "remaining")

    def __init__(self, n: int) -> None:
        self.remaining = n
        self.errors: list[str] = []

    def report(self, err: Any, _msg: Any) -> None:
        self.remaining -= 1
        if err is not None:
            self.errors.append(err.str())


class _Counts:
    """Records produced and acknowledged so far, per partition (the counting mode)."""

    __slots__ = ("acked", "errors", "produced")

    def __init__(self) -> None:
        self.produced: dict[int, int] = {}
        self.acked: defaultdict[int, int] = defaultdict(int)
        self.errors: list[str] = []

    def report(self, err: Any, msg: Any) -> None:
        # called once per record: kept to the least Python work
        if err is None:
            self.acked[msg.partition()] += 1
        else:
            self.errors.append(err.str())

    def reached(self, ticket: dict[int, int]) -> bool:
        acked = self.acked
        return all(acked.get(p, 0) >= n for p, n in ticket.items())


class KafkaSink(Sink):
    """Writes rows as records of one topic.

    ``open`` begins a transaction (when ``transactional``), ``write`` produces,
    ``commit`` waits for every acknowledgement (and commits the transaction); any
    delivery error raises :class:`DeliveryFailed` so the source offsets are not committed.

    Without a transaction the stream executor need not block on ``commit``: it takes a
    ticket with :meth:`mark` after a batch and asks :meth:`settled` later, reading the
    next batches while the records of this one are acknowledged.
    """

    atomic: ClassVar[bool] = False
    spec: KafkaConnector

    def __init__(self, spec: KafkaConnector, *, name: str, context: Any) -> None:
        super().__init__(spec, name=name, context=context)
        self._producer: Any = None
        self._avro_schema: tuple[int, Any] | None = None
        self._errors: list[str] = []
        self._deliveries: deque[_Deliveries] = deque()
        self._base = 0  # how many writes are settled (tickets below it are done)
        self._in_txn = False
        self._key_expr: pl.Expr | None = None
        self._counts = _Counts()
        #: the topic's partitions (None: unknown, so records are confirmed one by one)
        self._partitions: list[int] | None = None
        self._turn = 0
        self.log = get_logger("ocht.kafka")

    def describe(self) -> str:
        return f"kafka:{self.spec.topic_list()[0]}"

    def _open_producer(self) -> Any:
        if self._producer is None:
            from confluent_kafka import Producer

            if self.spec.topic is None:
                raise DeliveryFailed(f"output '{self.name}': a Kafka output needs `topic`")
            check_reachable(self.spec, what=f"output '{self.name}'")
            txn = (
                f"ocht-{self.context.pipeline}-{self.name}-{uuid.uuid4().hex[:8]}"
                if self.spec.transactional
                else None
            )
            conf = producer_config(self.spec, txn)
            self._producer = Producer({**conf, "on_delivery": self._counts.report})
            if txn is not None:
                self._producer.init_transactions(30)
            self._partitions = self._topic_partitions()
        return self._producer

    def _topic_partitions(self) -> list[int] | None:
        try:
            meta = self._producer.list_topics(self.spec.topic, timeout=10).topics[self.spec.topic]
        except Exception:  # no metadata: confirm record by record
            return None
        if meta.error is not None or not meta.partitions:
            return None
        return sorted(meta.partitions)

    def open(self) -> None:
        producer = self._open_producer()
        if self.spec.transactional and not self._in_txn:
            producer.begin_transaction()
            self._in_txn = True

    def _keys(self, batch: pl.DataFrame) -> list[Any] | None:
        key = self.spec.key
        if key is None:
            return None
        if self._key_expr is None:
            self._key_expr = pl.col(key) if key in batch.columns else pl.sql_expr(key)
        return batch.select(self._key_expr.cast(pl.String)).to_series().to_list()

    def write(self, batch: pl.DataFrame) -> None:
        producer = self._open_producer()
        if batch.height == 0:
            return
        values: list[Any]
        if self.spec.format == "json":
            buf = io.BytesIO()
            batch.write_ndjson(buf)  # one line per row; newlines inside values are escaped
            values = buf.getvalue().split(b"\n")
            del values[batch.height :]
        elif self.spec.format == "avro":
            values = self._avro(batch)
        else:
            values = batch.to_series(0).to_list()
        keys = self._keys(batch)
        parts = self._partitions
        if parts is None or (keys is not None and len(parts) > 1):
            # the partitioner places each record: confirm them one by one
            deliveries = _Deliveries(len(values))
            self._deliveries.append(deliveries)
            self._produce(producer, values, keys, -1, deliveries.report)
            return
        part = parts[self._turn % len(parts)] if keys is None else parts[0]
        self._turn += 1
        counts = self._counts
        counts.produced[part] = counts.produced.get(part, 0) + len(values)
        self._produce(producer, values, keys, part if len(parts) > 1 else -1, None)

    def _produce(
        self,
        producer: Any,
        values: list[Any],
        keys: list[Any] | None,
        partition: int,
        report: Any,
    ) -> None:
        """Produce ``values`` (a full local queue is waited out, then resumed)."""
        produce, topic = producer.produce, self.spec.topic
        extra: dict[str, Any] = {} if report is None else {"on_delivery": report}
        if partition >= 0:
            extra["partition"] = partition
        i, n = 0, len(values)
        while i < n:
            try:
                if keys is None and not extra:
                    for i in range(i, n):  # noqa: B020 -- resumes where BufferError left it
                        produce(topic, values[i])
                elif keys is None:
                    for i in range(i, n):  # noqa: B020
                        produce(topic, values[i], **extra)
                else:
                    for i in range(i, n):  # noqa: B020
                        produce(topic, values[i], keys[i], **extra)
                i = n
            except BufferError:  # the local queue is full: wait for acknowledgements
                producer.poll(0.05)
        producer.poll(0)

    def _avro(self, batch: pl.DataFrame) -> list[bytes]:
        """Confluent-framed Avro; the schema is registered (and checked) on first use."""
        if self._avro_schema is None:
            registry = self.spec.schema_registry
            assert registry is not None
            codec = RegistryCodec(registry.url, subject=self.spec.subject(), auth=registry.auth)
            self._avro_schema = codec.register(batch.schema, name=self.name)
        schema_id, parsed = self._avro_schema
        return RegistryCodec.encode(batch, schema_id, parsed)

    def mark(self) -> tuple[int, dict[int, int]] | None:
        """A ticket for everything written so far (``None`` when transactional: then only
        :meth:`commit` confirms)."""
        if self.spec.transactional:
            return None
        return (self._base + len(self._deliveries), dict(self._counts.produced))

    def settled(self, ticket: tuple[int, dict[int, int]], *, block: bool = False) -> bool:
        """Whether every record written before ``ticket`` was acknowledged.

        Raises:
            DeliveryFailed: one of them was not; the batch must not be committed.
        """
        if self._producer is None:
            return True
        one_by_one, counted = ticket
        deadline = time.monotonic() + FLUSH_TIMEOUT_S
        while True:
            self._producer.poll(0.002 if block else 0)
            while self._deliveries and self._deliveries[0].remaining <= 0:
                self._errors.extend(self._deliveries.popleft().errors)
                self._base += 1
            if self._counts.errors:
                self._errors.extend(self._counts.errors)
                self._counts.errors.clear()
            if self._errors:
                self._fail(0)
            if self._base >= one_by_one and self._counts.reached(counted):
                return True
            if not block:
                return False
            if time.monotonic() > deadline:
                self._fail(len(self._producer))

    def commit(self) -> None:
        if self._producer is None:
            return
        remaining = self._producer.flush(FLUSH_TIMEOUT_S)
        for d in self._deliveries:
            self._errors.extend(d.errors)
        self._errors.extend(self._counts.errors)
        self._counts.errors.clear()
        if remaining or self._errors:
            self._fail(remaining)
        self._base += len(self._deliveries)
        self._deliveries.clear()
        if self._in_txn:
            self._producer.commit_transaction(FLUSH_TIMEOUT_S)
            self._in_txn = False

    def _fail(self, remaining: int) -> None:
        errors, self._errors = self._errors, []
        self._base += len(self._deliveries)
        self._deliveries.clear()
        self.abort()
        raise DeliveryFailed(
            f"output '{self.name}': {remaining} records not acknowledged, "
            f"{len(errors)} delivery errors" + (f" (first: {errors[0]})" if errors else ""),
            hint="the batch was not committed and will be re-read",
            output=self.name,
        )

    def abort(self) -> None:
        if self._producer is not None and self._in_txn:
            try:
                self._producer.abort_transaction(FLUSH_TIMEOUT_S)
            finally:
                self._in_txn = False

    def close(self) -> None:
        """Wait for what is still queued, then drop the producer."""
        if self._producer is not None:
            self._producer.flush(FLUSH_TIMEOUT_S)
            self._producer = None
