"""The connector types this brick registers (read by ``ocht.registry`` as ``CONNECTORS``)."""

from __future__ import annotations

from ocht.connector_http.sink import HttpSink
from ocht.connector_http.source import HttpSource
from ocht.pipeline_model import HttpConnector
from ocht.registry import ConnectorType

CONNECTORS: tuple[ConnectorType, ...] = (
    ConnectorType(
        "http",
        HttpConnector,
        HttpSource,
        HttpSink,
        summary="REST APIs: paginated, incremental JSON reads; batched JSON POSTs.",
    ),
)
