"""File outputs are atomic: nothing is visible before commit, an abort leaves no trace."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ocht.connector_files import CsvSink, NdjsonSink, ParquetSink
from ocht.errors import OutputWriteError
from ocht.pipeline_model import CsvConnector, NdjsonConnector, ParquetConnector
from ocht.registry import RunContext
from ocht.testkit import Workspace, frame, orders


def parquet_sink(ctx: RunContext, path: str = "out/data.parquet") -> ParquetSink:
    return ParquetSink(ParquetConnector(type="parquet", path=path), name="out", context=ctx)


def entries(workspace: Workspace, folder: str = "out") -> list[str]:
    """Everything in ``folder``, hidden entries included."""
    return sorted(p.name for p in workspace.path(folder).iterdir())


def csv_spec(path: str = "out/data.csv", **options: object) -> CsvConnector:
    return CsvConnector.model_validate({"type": "csv", "path": path, **options})


def test_nothing_is_visible_before_commit(workspace: Workspace, ctx: RunContext) -> None:
    sink = parquet_sink(ctx)
    sink.open()
    pl.collect_all([sink.plan(orders(20).lazy())], engine="streaming")
    assert not workspace.path("out/data.parquet").exists()
    # hidden, in the same folder (same file system: the rename is atomic)
    assert workspace.files("out/**/*") == ["out/.data.parquet.r1.tmp/data.parquet"]
    sink.commit()
    assert entries(workspace) == ["data.parquet"]
    assert_frame_equal(pl.read_parquet(workspace.path("out/data.parquet")), orders(20))


def test_abort_after_writing_leaves_no_file(workspace: Workspace, ctx: RunContext) -> None:
    sink = parquet_sink(ctx)
    sink.open()
    pl.collect_all([sink.plan(orders(20).lazy())], engine="streaming")
    sink.abort()
    assert entries(workspace) == []


def test_existing_output_survives_a_failed_run(workspace: Workspace, ctx: RunContext) -> None:
    old = frame([{"v": "old"}])
    workspace.write_parquet("out/data.parquet", old)
    failing = pl.LazyFrame({"v": ["1", "x"]}).select(pl.col("v").cast(pl.Int64))
    # repeated: Polars may return the error while the sibling writer is still finishing
    for _ in range(20):
        good, bad = parquet_sink(ctx), parquet_sink(ctx, "out/other.parquet")
        good.open()
        bad.open()
        with pytest.raises(pl.exceptions.PolarsError):
            pl.collect_all(
                [good.plan(frame([{"v": "new"}]).lazy()), bad.plan(failing)], engine="streaming"
            )
        good.abort()
        bad.abort()
        time.sleep(0.02)  # let a late writer show itself
        assert entries(workspace) == ["data.parquet"]
    assert_frame_equal(pl.read_parquet(workspace.path("out/data.parquet")), old)


def test_commit_replaces_an_existing_output(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_parquet("out/data.parquet", frame([{"v": "old"}]))
    sink = parquet_sink(ctx)
    sink.open()
    pl.collect_all([sink.plan(frame([{"v": "new"}]).lazy())], engine="streaming")
    sink.commit()
    assert pl.read_parquet(workspace.path("out/data.parquet"))["v"].to_list() == ["new"]


def test_outputs_run_together_in_one_collect_all(workspace: Workspace, ctx: RunContext) -> None:
    data = orders(100).lazy()
    sinks = [
        ParquetSink(ParquetConnector(type="parquet", path="o/a.parquet"), name="a", context=ctx),
        CsvSink(csv_spec("o/b.csv"), name="b", context=ctx),
        NdjsonSink(NdjsonConnector(type="ndjson", path="o/c.ndjson"), name="c", context=ctx),
    ]
    for sink in sinks:
        sink.open()
    pl.collect_all([s.plan(data.filter(pl.col("amount") > 100)) for s in sinks], engine="streaming")
    for sink in sinks:
        sink.commit()
    expected = orders(100).filter(pl.col("amount") > 100).height
    assert pl.read_parquet(workspace.path("o/a.parquet")).height == expected
    assert pl.read_csv(workspace.path("o/b.csv")).height == expected
    assert pl.read_ndjson(workspace.path("o/c.ndjson")).height == expected


def test_parent_that_is_a_file_fails_at_open(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("out", "I am a file")
    with pytest.raises(OutputWriteError) as info:
        parquet_sink(ctx, "out/data.parquet").open()
    assert info.value.code == "output-write-failed"
    assert "is a file" in info.value.message


def test_output_path_that_is_a_directory(workspace: Workspace, ctx: RunContext) -> None:
    workspace.path("out/data.parquet").mkdir(parents=True)
    with pytest.raises(OutputWriteError, match="is a directory"):
        parquet_sink(ctx).open()


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores file permissions"
)
def test_folder_without_write_permission(workspace: Workspace, ctx: RunContext) -> None:
    locked = workspace.path("locked")
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(OutputWriteError) as info:
            parquet_sink(ctx, "locked/data.parquet").open()
        assert "Permission denied" in info.value.message
    finally:
        locked.chmod(0o755)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self").is_dir(),
    reason="needs Linux's read-only /proc",
)
def test_read_only_filesystem(ctx: RunContext) -> None:
    with pytest.raises(OutputWriteError) as info:
        parquet_sink(ctx, "/proc/self/ocht/data.parquet").open()
    assert info.value.to_dict()["path"] == "/proc/self/ocht/data.parquet"


def test_commit_without_data_is_an_error(workspace: Workspace, ctx: RunContext) -> None:
    sink = parquet_sink(ctx)
    sink.open()
    with pytest.raises(OutputWriteError, match="nothing was written"):
        sink.commit()
    assert entries(workspace) == []


def test_csv_output_options(ctx: RunContext, write_out: Callable[..., Path]) -> None:
    data = frame([{"a": 1, "b": "x;y"}, {"a": None, "b": "z"}])
    path = write_out(CsvSink, csv_spec(delimiter=";", header=False, null_values=["NA"]), data)
    assert path.read_text() == '1;"x;y"\nNA;z\n'


def test_csv_output_in_another_encoding(ctx: RunContext, write_out: Callable[..., Path]) -> None:
    path = write_out(CsvSink, csv_spec(encoding="cp1252"), frame([{"name": "€uro José"}]))
    assert path.read_bytes() == "name\n€uro José\n".encode("cp1252")
    assert [p.name for p in path.parent.iterdir()] == ["data.csv"]


def test_csv_output_refuses_nested_columns_before_running(ctx: RunContext) -> None:
    sink = CsvSink(csv_spec(), name="out", context=ctx)
    sink.open()
    nested = pl.LazyFrame({"s": [{"x": 1}], "l": [[1]], "ok": [1]})
    with pytest.raises(OutputWriteError) as info:
        sink.plan(nested)
    assert "s, l" in info.value.message
    assert "ndjson" in (info.value.hint or "")
    sink.abort()
