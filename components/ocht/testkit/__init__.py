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
from ocht.testkit.flaky import FLAKY, FlakySource, FlakySpec, flaky_attempts, reset_flaky
from ocht.testkit.frames import ORDERS_SCHEMA, assert_same_rows, frame, orders
from ocht.testkit.memory import (
    MEMORY,
    MemorySink,
    MemorySource,
    MemorySpec,
    put_frame,
    recorded,
    reset_memory,
    was_committed,
)
from ocht.testkit.plugins import installed_plugin
from ocht.testkit.workspace import Workspace

__all__ = [
    "FLAKY",
    "MEMORY",
    "ORDERS_SCHEMA",
    "UPSERT",
    "Broker",
    "BrokerStartError",
    "FlakySource",
    "FlakySpec",
    "MemorySink",
    "MemorySource",
    "MemorySpec",
    "Workspace",
    "assert_same_rows",
    "create_topic",
    "drain",
    "flaky_attempts",
    "frame",
    "installed_plugin",
    "orders",
    "produce",
    "produce_frame",
    "produce_spread",
    "put_frame",
    "read_upserts",
    "recorded",
    "reset_flaky",
    "reset_memory",
    "start_broker",
    "tansu_binary",
    "unique_topic",
    "was_committed",
]
