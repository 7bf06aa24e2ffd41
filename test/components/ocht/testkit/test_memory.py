"""The memory connector is an instance: two of them share nothing."""

from __future__ import annotations

import polars as pl

from ocht.registry import Registry
from ocht.testkit import MemoryConnector, run_pipeline


def _copy(registry: Registry, key: str = "k") -> None:
    run_pipeline(
        {
            "name": "m",
            "inputs": {"i": {"type": "memory", "key": "in"}},
            "outputs": {"o": {"type": "memory", "key": key}},
        },
        registry=registry,
    )


def test_two_connectors_keep_their_own_frames_and_recordings() -> None:
    first, second = MemoryConnector(), MemoryConnector()
    first.put_frame("in", pl.DataFrame({"a": [1]}))
    second.put_frame("in", pl.DataFrame({"a": [2, 3]}))
    _copy(Registry(connectors=[first.connector]))
    assert first.recorded("k")["a"].to_list() == [1]
    assert not second.was_committed("k") and second.recorded("k").is_empty()
    _copy(Registry(connectors=[second.connector]))
    assert second("k")["a"].to_list() == [2, 3] and first("k")["a"].to_list() == [1]


def test_reset_forgets_everything() -> None:
    memory = MemoryConnector()
    memory.put_frame("in", pl.DataFrame({"a": [1]}))
    _copy(Registry(connectors=[memory.connector]))
    memory.reset()
    assert memory.frame("in") is None and not memory.was_committed("k")


def test_the_fixture_gives_a_fresh_connector_wired_into_the_registry(memory, registry) -> None:
    memory.put_frame("in", pl.DataFrame({"a": [7]}))
    _copy(registry)
    assert memory("k")["a"].to_list() == [7]
