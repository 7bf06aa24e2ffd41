"""Fixtures for the file connector tests: a run context over the test workspace, and a
helper that writes a frame through a sink the way the executor does."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ocht.registry import RunContext, Sink
from ocht.testkit import Workspace


@pytest.fixture
def ctx(workspace: Workspace) -> RunContext:
    return RunContext(
        run_id="r1", pipeline="p", base_dir=workspace.root, run_dir=workspace.root / "run"
    )


@pytest.fixture
def write_out(ctx: RunContext) -> Callable[..., Path]:
    """Write ``frame`` through ``sink_cls(spec)``: open, plan, collect_all, commit."""

    def write(sink_cls: type[Sink], spec: Any, frame: pl.DataFrame | pl.LazyFrame) -> Path:
        sink = sink_cls(spec, name="out", context=ctx)
        sink.open()
        node = sink.plan(frame.lazy())
        assert node is not None
        pl.collect_all([node], engine="streaming")
        sink.commit()
        return ctx.resolve(spec.path)

    return write
