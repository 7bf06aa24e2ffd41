"""What every brick's tests share: in-memory connectors, frame builders, pytest fixtures.

Enable the fixtures with ``pytest_plugins = ["ocht.testkit.plugin"]`` in a conftest.

Example:
    >>> from ocht.testkit import frame
    >>> frame([{"a": 1}]).height
    1
"""

from ocht.testkit.broker import (
    UPSERT,
    Broker,
    BrokerStartError,
    create_topic,
    drain,
    produce,
    produce_frame,
    produce_spread,
    read_upserts,
    start_broker,
    tansu_binary,
    unique_topic,
)
from ocht.testkit.equivalence import BothWays, batch_rows, both_ways, kafka_input
from ocht.testkit.flaky import FLAKY, FlakySource, FlakySpec, flaky_attempts, reset_flaky
from ocht.testkit.frames import ORDERS_SCHEMA, assert_same_rows, frame, orders
from ocht.testkit.memory import MemoryConnector, MemorySink, MemorySource, MemorySpec
from ocht.testkit.plugins import installed_plugin
from ocht.testkit.running import run_pipeline, stream_pipeline
from ocht.testkit.workspace import Workspace

__all__ = [
    "FLAKY",
    "ORDERS_SCHEMA",
    "UPSERT",
    "BothWays",
    "Broker",
    "BrokerStartError",
    "FlakySource",
    "FlakySpec",
    "MemoryConnector",
    "MemorySink",
    "MemorySource",
    "MemorySpec",
    "Workspace",
    "assert_same_rows",
    "batch_rows",
    "both_ways",
    "create_topic",
    "drain",
    "flaky_attempts",
    "frame",
    "installed_plugin",
    "kafka_input",
    "orders",
    "produce",
    "produce_frame",
    "produce_spread",
    "read_upserts",
    "reset_flaky",
    "run_pipeline",
    "start_broker",
    "stream_pipeline",
    "tansu_binary",
    "unique_topic",
]
