"""The brick's public names, its registration, its spec's validation, redaction."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocht.connector_sql import (
    CONNECTORS,
    SqlOutput,
    SqlSink,
    SqlSource,
    SqlStreamSink,
    redact_url,
)
from ocht.errors import InvalidPipeline
from ocht.pipeline_model import SqlConnector, validate
from ocht.registry import Registry, RunContext


def test_registered_as_sql_read_write_batch_and_stream() -> None:
    assert [c.name for c in CONNECTORS] == ["sql"]
    conn = Registry(plugins=False).connector("sql")
    assert conn.source is SqlSource and conn.sink is SqlOutput
    assert conn.capabilities == ("read", "write", "batch", "stream")


def test_the_sink_is_per_micro_batch_in_stream_mode(tmp_path: Path) -> None:
    spec = SqlConnector(type="sql", url=f"sqlite:///{tmp_path}/x.db", table="t")
    batch = SqlOutput(spec, name="o", context=RunContext("r", "p", mode="batch"))
    stream = SqlOutput(spec, name="o", context=RunContext("r", "p", mode="stream"))
    assert isinstance(batch, SqlSink) and not isinstance(batch, SqlStreamSink)
    assert isinstance(stream, SqlStreamSink)


def _pipeline(inp: dict, out: dict | None = None) -> dict:
    return {
        "name": "p",
        "inputs": {"src": {"type": "sql", "url": "sqlite:///x.db", **inp}},
        "outputs": {"dst": {"type": "sql", "url": "sqlite:///y.db", "table": "t", **(out or {})}},
    }


def test_spec_defaults_and_aliases() -> None:
    p = validate(
        _pipeline(
            {
                "table": "orders",
                "schema": "sales",
                "cursor": "ts",
                "primary_key": "id",
                "lookback": "1h30m",
            }
        )
    )
    src = p.inputs["src"]
    assert src.schema_ == "sales"
    assert src.primary_key == ["id"]
    assert src.chunk_size == 50_000
    dst = p.outputs["dst"]
    assert (dst.mode, dst.on_schema_drift, dst.create) == ("append", "evolve", True)


@pytest.mark.parametrize(
    ("inp", "out", "needle"),
    [
        ({"table": "a", "query": "select 1"}, None, "not both"),
        ({}, None, "give a `table`"),
        ({"table": "a"}, {"mode": "upsert"}, "needs `primary_key`"),
        ({"table": "a", "lookback": "2h"}, None, "needs a `cursor`"),
        ({"table": "a", "cursor": "ts", "lookback": "two hours"}, None, "not a duration"),
        ({"table": "a", "chunk_size": 0}, None, "chunk_size"),
        ({"table": "a", "tabel": "x"}, None, "did you mean 'table'"),
    ],
)
def test_spec_refuses_what_cannot_work(inp: dict, out: dict | None, needle: str) -> None:
    with pytest.raises(InvalidPipeline) as info:
        validate(_pipeline(inp, out))
    assert needle in str(info.value)


def test_redact_url_hides_password_and_secret_params() -> None:
    assert redact_url("postgresql://u:hunter2@h:5432/db") == "postgresql://u:***@h:5432/db"
    assert "hunter2" not in redact_url("postgresql://u@h/db?password=hunter2")
    assert redact_url("sqlite:///data/x.db") == "sqlite:///data/x.db"
    assert "hunter2" not in redact_url("not a url://u:hunter2@h")
