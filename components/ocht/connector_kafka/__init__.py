"""Kafka topics in and out (confluent-kafka / librdkafka), in batch and stream mode.

Registered as connector type ``kafka``.

Example:
    >>> from ocht.connector_kafka import CONNECTORS
    >>> CONNECTORS[0].capabilities
    ('read', 'write', 'batch', 'stream')
"""

from ocht.connector_kafka.avro import IncompatibleSchema, RegistryCodec, SchemaRegistryError
from ocht.connector_kafka.batch import KafkaBatch
from ocht.connector_kafka.decode import DEAD_LETTER_SCHEMA, decode_values
from ocht.connector_kafka.errors import BrokerUnreachable, DeliveryFailed, KafkaFailure
from ocht.connector_kafka.sink import KafkaSink
from ocht.connector_kafka.source import KafkaSource
from ocht.pipeline_model import KafkaConnector
from ocht.registry import ConnectorType

KAFKA = ConnectorType(
    "kafka",
    KafkaConnector,
    KafkaSource,
    KafkaSink,
    batch=True,
    stream=True,
    summary="Kafka topics: micro-batches in, idempotent producer out.",
)

CONNECTORS = [KAFKA]

__all__ = [
    "CONNECTORS",
    "DEAD_LETTER_SCHEMA",
    "KAFKA",
    "BrokerUnreachable",
    "DeliveryFailed",
    "IncompatibleSchema",
    "KafkaBatch",
    "KafkaFailure",
    "KafkaSink",
    "KafkaSource",
    "RegistryCodec",
    "SchemaRegistryError",
    "decode_values",
]
