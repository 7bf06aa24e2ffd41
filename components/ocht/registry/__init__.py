"""Step kinds and connectors by name, with capabilities; plugins through entry points.

Example:
    >>> from ocht.registry import default_registry
    >>> "filter" in default_registry().step_names()
    True
"""

from ocht.registry.cancel import CancelToken
from ocht.registry.registry import (
    BUILTIN_CONNECTORS,
    CONNECTOR_GROUP,
    STEP_GROUP,
    ConnectorInfo,
    PluginError,
    Registry,
    default_registry,
)
from ocht.registry.seams import ConnectorType, Mode, RunContext, Sink, Source

__all__ = [
    "BUILTIN_CONNECTORS",
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
