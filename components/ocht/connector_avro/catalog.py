"""The connector types this brick registers (read by ``ocht.registry`` as ``CONNECTORS``)."""

from __future__ import annotations

from ocht.connector_avro.files import AvroSink, AvroSource
from ocht.pipeline_model import AvroConnector
from ocht.registry import ConnectorType

CONNECTORS: tuple[ConnectorType, ...] = (
    ConnectorType(
        "avro",
        AvroConnector,
        AvroSource,
        AvroSink,
        summary="Apache Avro container files; logical types mapped explicitly.",
    ),
)
