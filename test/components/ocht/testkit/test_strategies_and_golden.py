"""The shared hypothesis strategies draw valid inputs; golden files compare and rewrite."""

from __future__ import annotations

import tempfile
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocht.executor import accounting
from ocht.registry import Registry
from ocht.testkit import MemoryConnector, assert_golden, frames, pipelines, run_pipeline


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_drawn_pipeline_runs_and_its_accounting_balances(data: st.DataObject) -> None:
    rows = data.draw(frames(columns=("int", "float", "text", "day")))
    spec = data.draw(pipelines(rows.schema, rows=rows.to_dicts()))
    memory = MemoryConnector()
    with tempfile.TemporaryDirectory() as home:
        result = run_pipeline(spec, registry=Registry(connectors=[memory.connector]), home=home)
    assert result.status == "succeeded" and result.rows_read == rows.height
    assert accounting(result).balanced
    assert memory.recorded("o").height == result.rows_written


@given(frames(min_rows=3, max_rows=3, nulls=False))
def test_frames_have_the_kinds_asked_for(frame: pl.DataFrame) -> None:
    assert frame.columns == ["id", "int", "float", "text", "flag", "day", "at"]
    assert frame.height == 3 and frame.null_count().row(0) == (0,) * 7


def test_a_golden_file_is_written_on_request_then_compared(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "golden" / "out.ndjson"
    frame = pl.DataFrame({"id": [2, 1], "day": ["2024-03-01", None]}).with_columns(
        pl.col("day").str.to_date()
    )
    with pytest.raises(AssertionError, match="missing"):
        assert_golden(frame, path)
    monkeypatch.setenv("OCHT_UPDATE_GOLDEN", "1")
    assert_golden(frame, path)
    monkeypatch.delenv("OCHT_UPDATE_GOLDEN")
    assert_golden(frame, path)
    assert_golden(frame.reverse(), path, sort_by=["id"])
    with pytest.raises(AssertionError):
        assert_golden(frame.with_columns(pl.col("id") + 1), path)
