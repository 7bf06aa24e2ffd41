"""Step kinds and connectors by name, with capabilities; plugins through entry points.

Example:
    >>> from ocht.registry import default_registry
    >>> "filter" in default_registry().step_names()
    True
"""

from ocht.registry.cancel import CancelToken
from ocht.registry.registry import (
    CONNECTOR_BRICKS,
    CONNECTOR_GROUP,
    STEP_GROUP,
    ConnectorInfo,
    PluginError,
    Registry,
    default_registry,
)
from ocht.registry.seams import ConnectorType, RunContext, Sink, Source
from ocht.transform import Mode  # re-exported: the one run-mode type

__all__ = [
    "CONNECTOR_BRICKS",
    "CONNECTOR_GROUP",
    "STEP_GROUP",
    "CancelToken",
    "ConnectorInfo",
    "ConnectorType",
    "Mode",
    "PluginError",
    "Registry",
    "RunContext",
    "Sink",
    "Source",
    "default_registry",
]
