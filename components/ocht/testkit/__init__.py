"""What every brick's tests share: in-memory connectors, frame builders, pytest fixtures.

Enable the fixtures with ``pytest_plugins = ["ocht.testkit.plugin"]`` in a conftest.

Example:
    >>> from ocht.testkit import frame
    >>> frame([{"a": 1}]).height
    1
"""

from ocht.testkit.flaky import FLAKY, FlakySource, FlakySpec, flaky_attempts, reset_flaky
from ocht.testkit.frames import assert_same_rows, frame, orders
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
    "FlakySource",
    "FlakySpec",
    "MemorySink",
    "MemorySource",
    "MemorySpec",
    "Workspace",
    "assert_same_rows",
    "flaky_attempts",
    "frame",
    "installed_plugin",
    "orders",
    "put_frame",
    "recorded",
    "reset_flaky",
    "reset_memory",
    "was_committed",
]
