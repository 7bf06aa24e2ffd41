"""The ``kafka`` connector spec: topics read as micro-batches, or written record by record.

As an input: ``topic`` (or ``topics``, or a regex ``pattern``), a consumer ``group``, a
record ``format`` and either a declared ``schema`` or inference from the first batch.
As an output: ``topic``, a ``key`` (a column or SQL expression), a ``format`` and an
optional Kafka transaction per batch. ``options`` pass straight through to librdkafka
(``${env:...}`` secrets are resolved before validation and never logged).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from ocht.pipeline_model.connectors import ConnectorBase
from ocht.pipeline_model.steps import Spec

MetadataColumn = Literal["key", "headers", "timestamp", "partition", "offset", "topic"]


class SchemaRegistry(Spec):
    """A Confluent-compatible schema registry."""

    url: str = Field(min_length=1, description="The registry (`http://registry:8081`).")
    subject: str | None = Field(default=None, description="The subject (default: `<topic>-value`).")
    auth: str | None = Field(
        default=None, description="`user:password` for basic auth (use `${env:NAME}`)."
    )


class KafkaConnector(ConnectorBase):
    """Kafka topics (any Kafka-protocol broker) through librdkafka.

    Example:
        >>> KafkaConnector(type="kafka", brokers="localhost:9092", topic="orders",
        ...                group="ocht").max_rows
        10000
    """

    type: Literal["kafka"]
    brokers: str = Field(min_length=1, description="Bootstrap servers, `host:port[,host:port]`.")
    topic: str | None = Field(default=None, min_length=1, description="The topic read or written.")
    topics: list[str] | None = Field(
        default=None, min_length=1, description="Inputs: several topics read as one input."
    )
    pattern: str | None = Field(
        default=None,
        min_length=1,
        description="Inputs: a regular expression; every matching topic is read.",
    )
    group: str | None = Field(
        default=None,
        min_length=1,
        description="Inputs: the consumer group (default: `ocht-<pipeline>`). Workers with the "
        "same group share the partitions.",
    )
    format: Literal["json", "string", "raw", "avro"] = Field(
        default="json",
        description="`json`: one object per record; `string`: the value as text in column "
        "`value`; `raw`: the value as bytes in column `value`; `avro`: Confluent-framed Avro "
        "with a `schema_registry`.",
    )
    schema_registry: SchemaRegistry | None = Field(
        default=None,
        description="`format: avro`: the Confluent-compatible registry holding the schemas.",
    )
    schema_: dict[str, str] | None = Field(
        default=None,
        alias="schema",
        description="Inputs (json): every column's type; without it, types are inferred from "
        "the first batch. A record whose value does not fit goes to the dead letters.",
    )
    partitioned_by: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Inputs: the columns the producer keys records by (records with the same "
        "values are in the same partition). Stateful steps grouped by these columns (or more) "
        "then scale out across the workers of the group; see docs/streaming.md.",
    )
    metadata_columns: list[MetadataColumn] = Field(
        default_factory=list,
        description="Inputs: add `_key`, `_headers`, `_timestamp`, `_partition`, `_offset`, "
        "`_topic` columns.",
    )
    start: Literal["earliest", "latest"] = Field(
        default="earliest", description="Inputs: where a new group starts reading."
    )
    max_rows: int = Field(default=10_000, ge=1, description="Inputs: rows per micro-batch.")
    max_bytes: int = Field(
        default=16 * 1024 * 1024, ge=1024, description="Inputs: value bytes per micro-batch."
    )
    max_wait_ms: int = Field(
        default=100, ge=1, description="Inputs: the longest a micro-batch waits to fill."
    )
    key: str | None = Field(
        default=None,
        min_length=1,
        description="Outputs: the message key, a column or SQL expression (default: none).",
    )
    transactional: bool = Field(
        default=False,
        description="Outputs: write each batch in one Kafka transaction (on top of the "
        "idempotent producer).",
    )
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="librdkafka settings passed through (security.protocol, sasl.*, ...).",
    )
    connect_timeout_s: float = Field(
        default=10.0, gt=0, description="How long to try reaching the brokers before failing."
    )

    @field_validator("topics", mode="before")
    @classmethod
    def _one_topic(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _consistent(self) -> KafkaConnector:
        given = [n for n in ("topic", "topics", "pattern") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of `topic`, `topics` or `pattern`")
        if self.schema_ is not None and self.format != "json":
            raise ValueError("`schema` applies to `format: json` only")
        if (self.format == "avro") != (self.schema_registry is not None):
            raise ValueError("`format: avro` and `schema_registry` go together")
        return self

    def subject(self) -> str:
        """The registry subject of the values (``<topic>-value`` unless given)."""
        assert self.schema_registry is not None
        return self.schema_registry.subject or f"{self.topic_list()[0].lstrip('^')}-value"

    def topic_list(self) -> list[str]:
        """The topics to subscribe to (a pattern as librdkafka's ``^regex``)."""
        if self.topic is not None:
            return [self.topic]
        if self.topics is not None:
            return list(self.topics)
        assert self.pattern is not None
        return [self.pattern if self.pattern.startswith("^") else f"^{self.pattern}"]
