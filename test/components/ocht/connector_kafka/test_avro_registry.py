"""Confluent-framed Avro with a schema registry on loopback: decode, evolve, encode, refuse."""

from __future__ import annotations

import io
import json
import struct

import fastavro
import polars as pl
import pytest

from ocht.connector_kafka import IncompatibleSchema, RegistryCodec, SchemaRegistryError
from ocht.testkit import SchemaRegistry

V1 = {
    "type": "record",
    "name": "reading",
    "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "value", "type": "int"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
    ],
}
# a compatible evolution: int widened to long, a new field with a default
V2 = {
    "type": "record",
    "name": "reading",
    "fields": [
        {"name": "sensor", "type": "string"},
        {"name": "value", "type": "long"},
        {"name": "at", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "unit", "type": "string", "default": "C"},
    ],
}


@pytest.fixture
def registry():
    with SchemaRegistry() as reg:
        yield reg


def _framed(schema_id: int, schema: dict, record: dict) -> bytes:
    buf = io.BytesIO()
    buf.write(b"\x00" + struct.pack(">I", schema_id))
    fastavro.schemaless_writer(buf, fastavro.parse_schema(schema), record)
    return buf.getvalue()


def test_records_of_older_schemas_decode_into_the_latest(registry: SchemaRegistry) -> None:
    id1, _ = registry.register("readings-value", json.dumps(V1))
    id2, _ = registry.register("readings-value", json.dumps(V2))
    codec = RegistryCodec(registry.url, subject="readings-value")
    at = 1_709_294_400_000
    payloads = [
        _framed(id1, V1, {"sensor": "a", "value": 1, "at": at}),
        _framed(id2, V2, {"sensor": "b", "value": 2**40, "at": at, "unit": "F"}),
        b"not avro at all",
        _framed(99, V1, {"sensor": "c", "value": 3, "at": at}),
        _framed(id1, V1, {"sensor": "d", "value": 4, "at": at})[:-3],
    ]
    frame, bad = codec.decode(payloads)
    assert frame.schema == pl.Schema(
        {"sensor": pl.String, "value": pl.Int64, "at": pl.Datetime("ms", "UTC"), "unit": pl.String}
    )
    assert frame.select("sensor", "value", "unit").rows() == [("a", 1, "C"), ("b", 2**40, "F")]
    assert [i for i, _ in bad] == [2, 3, 4]
    assert "magic byte" in bad[0][1] and "99" in bad[1][1]


def test_encode_registers_and_round_trips(registry: SchemaRegistry) -> None:
    codec = RegistryCodec(registry.url, subject="out-value")
    frame = pl.DataFrame({"id": [1, 2], "name": ["x", None]})
    schema_id, parsed = codec.register(frame.schema, name="out")
    messages = codec.encode(frame, schema_id, parsed)
    decoded, bad = codec.decode(messages)
    assert bad == [] and decoded.equals(frame)
    assert codec.register(frame.schema, name="out")[0] == schema_id  # same schema, same id


def test_an_incompatible_output_schema_is_refused(registry: SchemaRegistry) -> None:
    codec = RegistryCodec(registry.url, subject="strict-value")
    codec.register(pl.Schema({"id": pl.Int64}), name="strict")
    with pytest.raises(IncompatibleSchema) as err:
        codec.register(pl.Schema({"id": pl.String, "other": pl.Int64}), name="strict")
    assert err.value.code == "incompatible-schema"


def test_an_unreachable_registry_has_a_stable_code() -> None:
    codec = RegistryCodec("http://127.0.0.1:9", subject="x-value")
    with pytest.raises(SchemaRegistryError) as err:
        codec.schema()
    assert err.value.code == "schema-registry-error"


# -- through a real broker: `format: avro` in and out -----------------------------------
@pytest.mark.kafka
def test_avro_topic_in_and_out_through_the_broker(
    kafka_broker: str, registry: SchemaRegistry, tmp_path
) -> None:
    from ocht.testkit import run_pipeline
    from ocht.testkit.broker import FAST_CONSUMER, create_topic, produce, unique_topic

    topic_in = create_topic(kafka_broker, unique_topic("avro-in"), partitions=2)
    topic_out = create_topic(kafka_broker, unique_topic("avro-out"))
    id1, _ = registry.register(f"{topic_in}-value", json.dumps(V1))
    id2, _ = registry.register(f"{topic_in}-value", json.dumps(V2))
    at = 1_709_294_400_000
    messages = [_framed(id1, V1, {"sensor": f"s{i}", "value": i, "at": at}) for i in range(50)]
    messages += [_framed(id2, V2, {"sensor": "new", "value": 99, "at": at, "unit": "F"})]
    messages += [b"\x00\x00\x00\x00\x63garbage"]  # an unknown schema id: a dead letter
    produce(kafka_broker, topic_in, messages)
    options = {k: v for k, v in FAST_CONSUMER.items() if k != "fetch.queue.backoff.ms"}
    reg = {"url": registry.url}
    result = run_pipeline(
        {
            "name": "avro_copy",
            "inputs": {
                "readings": {
                    "type": "kafka",
                    "brokers": kafka_broker,
                    "topic": topic_in,
                    "group": unique_topic("g"),
                    "format": "avro",
                    "schema_registry": reg,
                    "options": options,
                }
            },
            "steps": [{"kind": "filter", "where": "value >= 10"}],
            "outputs": {
                "out": {
                    "type": "kafka",
                    "brokers": kafka_broker,
                    "topic": topic_out,
                    "format": "avro",
                    "schema_registry": reg,
                }
            },
            "dead_letter": {"type": "ndjson", "path": str(tmp_path / "dead.ndjson")},
        },
        home=tmp_path / ".ocht",
    )
    assert result.inputs["readings"] == 51 and result.dead_letters == 1
    assert result.outputs[0].rows == 41
    # the output subject got a schema, and its records decode with it
    reader = RegistryCodec(registry.url, subject=f"{topic_out}-value")
    from ocht.testkit.broker import drain_values  # raw values, decoded by hand below

    frame, bad = reader.decode(drain_values(kafka_broker, topic_out))
    assert bad == [] and frame.height == 41
    assert set(frame["unit"].to_list()) == {"C", "F"}  # V1 records got V2's default
