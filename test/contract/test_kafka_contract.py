"""The Kafka connector passes the connector contract, through a real Tansu topic.

A Kafka output produces records as rows arrive and cannot take them back, so the cases
about a failed or cancelled write do not apply (the guarantee is effectively-once at the
sink, by record key: docs/streaming.md); every other case runs, in JSON and in Avro with a
schema registry, plus bounded memory on a topic larger than a micro-batch.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any, ClassVar

import pytest

from ocht.connector_kafka import SchemaRegistryError
from ocht.executor import BatchReport
from ocht.testkit import (
    ConnectorContract,
    SchemaRegistry,
    create_topic,
    kafka_input,
    stream_pipeline,
    unique_topic,
)

pytestmark = pytest.mark.kafka

ALL = ("id", "qty", "amount", "price", "name", "ok", "day", "at")
SCHEMA = {
    "id": "int64",
    "qty": "int32",
    "amount": "float64",
    "price": "decimal(10,2)",
    "name": "string",
    "ok": "boolean",
    "day": "date",
    "at": "datetime",
}
NO_TAKE_BACK = (
    "a Kafka output produces records as rows arrive and cannot take them back; "
    "the guarantee is effectively-once at the sink, by record key"
)


class TestKafkaJson(ConnectorContract):
    exact_types: ClassVar[tuple[str, ...]] = ALL  # with a declared schema
    batch_rows = 300
    not_applicable: ClassVar[dict[str, str]] = {
        "test_failed_run_leaves_the_output_unchanged": NO_TAKE_BACK,
        "test_a_cancelled_write_leaves_nothing_visible": NO_TAKE_BACK,
    }

    @pytest.fixture(autouse=True)
    def _broker(self, kafka_broker: str) -> None:
        self.broker = kafka_broker
        self.topics: dict[str, str] = {}

    def topic(self, target: str) -> str:
        if target not in self.topics:
            self.topics[target] = create_topic(self.broker, unique_topic(f"contract-{target}"))
        return self.topics[target]

    def output_spec(self, target: str) -> dict[str, Any]:
        return {"type": "kafka", "brokers": self.broker, "topic": self.topic(target)}

    def input_spec(self, target: str) -> dict[str, Any]:
        # a fresh consumer group each time: a batch read starts from the beginning
        return kafka_input(self.broker, self.topic(target), schema=SCHEMA, max_rows=300)

    def test_a_stream_reads_a_topic_larger_than_a_batch_in_bounded_batches(self) -> None:
        data = self.frame(self.batch_rows * 3 + 7)
        self.write("t", data)
        db = self.root / "streamed.db"
        reports: list[BatchReport] = []
        spec = {
            "name": "contract_stream",
            "inputs": {"rows": self.input_spec("t")},
            "outputs": {"out": {"type": "sql", "url": f"sqlite:///{db}", "table": "s"}},
        }
        result = stream_pipeline(
            spec, home=self.root / ".ocht", on_batch=reports.append, idle_stop_s=1.0
        )
        assert result.rows_read == data.height
        with sqlite3.connect(db) as conn:
            count, ids = conn.execute("SELECT count(*), sum(id) FROM s").fetchone()
        assert (count, ids) == (data.height, data["id"].sum())
        # memory is bounded by the micro-batch: no batch holds more than max_rows records
        assert len(reports) >= 4 and max(r.records for r in reports) <= self.batch_rows
        assert sum(r.records for r in reports) == data.height


class TestKafkaAvro(TestKafkaJson):
    # Avro keeps every type; timestamps come back as Avro's local-timestamp (same values)
    exact_types: ClassVar[tuple[str, ...]] = ("id", "qty", "amount", "price", "name", "ok", "day")

    @pytest.fixture(autouse=True)
    def _registry(self, _broker: None) -> Iterator[None]:
        with SchemaRegistry() as registry:
            self.registry = registry
            yield

    def _avro(self, target: str) -> dict[str, Any]:
        topic = self.topic(target)
        return {
            "format": "avro",
            "schema_registry": {"url": self.registry.url, "subject": f"{topic}-value"},
        }

    def output_spec(self, target: str) -> dict[str, Any]:
        return {**super().output_spec(target), **self._avro(target)}

    def input_spec(self, target: str) -> dict[str, Any]:
        spec = {**super().input_spec(target), **self._avro(target)}
        spec.pop("schema")  # Avro records carry their schema (the registry's)
        return spec

    def test_an_empty_input_gives_an_empty_output(self) -> None:
        # no record written, no schema registered: reading the empty topic says so, rather
        # than inventing columns
        result = self.write("t", self.frame(3).head(0))
        assert result.status == "succeeded" and result.rows_written == 0
        with pytest.raises(SchemaRegistryError, match="not found"):
            self.read_back("t")
