"""Errors of the Kafka connector.

OchtError
└── ConnectorError
    ├── SourceUnreachable
    │   └── BrokerUnreachable      source-unreachable     the brokers did not answer
    ├── OutputWriteError
    │   └── DeliveryFailed         kafka-delivery-failed  a record was not acknowledged
    └── KafkaFailure               kafka-error            any other client error
"""

from __future__ import annotations

from ocht.errors import ConnectorError, OutputWriteError, SourceUnreachable


class BrokerUnreachable(SourceUnreachable):
    """No broker answered within the connect timeout (after retries)."""


class DeliveryFailed(OutputWriteError):
    """The producer could not confirm every record of a batch; the batch is not written."""

    code = "kafka-delivery-failed"


class KafkaFailure(ConnectorError):
    """The Kafka client reported an error that is not a delivery or connection failure."""

    code = "kafka-error"
