"""The Kafka sink: an idempotent producer; a batch counts as written once every record of
it is acknowledged (optionally inside one Kafka transaction)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

import polars as pl

from ocht.connector_kafka.config import check_reachable, producer_config
from ocht.connector_kafka.errors import DeliveryFailed
from ocht.observability import get_logger
from ocht.pipeline_model import KafkaConnector
from ocht.registry import Sink

FLUSH_TIMEOUT_S = 60.0


class KafkaSink(Sink):
    """Writes rows as records of one topic.

    ``open`` begins a transaction (when ``transactional``), ``write`` produces,
    ``commit`` waits for every acknowledgement (and commits the transaction); any
    delivery error raises :class:`DeliveryFailed` so the source offsets are not committed.
    """

    atomic: ClassVar[bool] = False
    spec: KafkaConnector

    def __init__(self, spec: KafkaConnector, *, name: str, context: Any) -> None:
        super().__init__(spec, name=name, context=context)
        self._producer: Any = None
        self._errors: list[str] = []
        self._in_txn = False
        self._key_expr: pl.Expr | None = None
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
            self._producer = Producer(producer_config(self.spec, txn))
            if txn is not None:
                self._producer.init_transactions(30)
        return self._producer

    def open(self) -> None:
        producer = self._open_producer()
        self._errors = []
        if self.spec.transactional and not self._in_txn:
            producer.begin_transaction()
            self._in_txn = True

    def _on_delivery(self, err: Any, _msg: Any) -> None:
        if err is not None:
            self._errors.append(err.str())

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
        if self.spec.format == "json":
            values: list[Any] = batch.write_ndjson().encode().split(b"\n")[: batch.height]
        else:
            values = batch.to_series(0).to_list()
        keys = self._keys(batch)
        topic = self.spec.topic
        produce, report = producer.produce, self._on_delivery
        for i, value in enumerate(values):
            key = keys[i] if keys is not None else None
            while True:
                try:
                    produce(topic, value, key, on_delivery=report)
                    break
                except BufferError:  # the local queue is full: wait for acknowledgements
                    producer.poll(0.05)
        producer.poll(0)

    def commit(self) -> None:
        if self._producer is None:
            return
        remaining = self._producer.flush(FLUSH_TIMEOUT_S)
        if remaining or self._errors:
            errors, self._errors = self._errors, []
            self.abort()
            raise DeliveryFailed(
                f"output '{self.name}': {remaining} records not acknowledged, "
                f"{len(errors)} delivery errors" + (f" (first: {errors[0]})" if errors else ""),
                hint="the batch was not committed and will be re-read",
                output=self.name,
            )
        if self._in_txn:
            self._producer.commit_transaction(FLUSH_TIMEOUT_S)
            self._in_txn = False

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
