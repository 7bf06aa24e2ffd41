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
    # in the run's folder (same file system: the rename is atomic), not in out/
    assert entries(workspace) == []
    assert "run/tmp/outputs/out-data.parquet/data.parquet" in workspace.files("run/**/*")
    sink.commit()
    assert not workspace.path("run/tmp").exists()
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


def test_temporary_files_are_invisible_to_globs_of_the_output_folder(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("out/part-0.csv", "a\n1\n")
    workspace.write_parquet("pq/part-0.parquet", frame([{"a": 1}]))
    csv_sink = CsvSink(csv_spec("out/part-1.csv"), name="c", context=ctx)
    pq_sink = parquet_sink(ctx, "pq/part-1.parquet")
    for sink, data in ((csv_sink, frame([{"a": i} for i in range(5)])), (pq_sink, orders(7))):
        sink.open()
        pl.collect_all([sink.plan(data.lazy())], engine="streaming")
    # half-written outputs exist, but plain Polars globs of the output folders see none
    assert pl.scan_csv(str(workspace.path("out/**/*.csv"))).collect().height == 1
    assert pl.scan_parquet(str(workspace.path("pq/"))).collect().height == 1
    csv_sink.abort()
    pq_sink.abort()
    assert entries(workspace) == ["part-0.csv"]
    assert not workspace.path("run/tmp").exists()


def test_without_a_run_folder_on_the_same_disk_a_sibling_folder_is_used(
    workspace: Workspace,
) -> None:
    # a run folder that cannot be created (a file is in the way): the next place is used
    workspace.write_text("blocker", "x")
    ctx = RunContext("r2", "p", base_dir=workspace.root, run_dir=workspace.path("blocker/run"))
    sink = parquet_sink(ctx, "out/sub/data.parquet")
    sink.open()
    pl.collect_all([sink.plan(orders(3).lazy())], engine="streaming")
    assert workspace.files("out/**/*") == []
    assert ".ocht-tmp/r2/out-data.parquet/data.parquet" in workspace.files(".ocht-tmp/**/*")
    sink.commit()
    assert workspace.files("out/**/*") == ["out/sub/data.parquet"]
    assert not workspace.path("out/.ocht-tmp").exists()
    assert not workspace.path(".ocht-tmp").exists()


def test_a_killed_runs_temporary_output_is_swept_at_the_next_open(
    workspace: Workspace, ctx: RunContext
) -> None:
    import subprocess

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    pid = int(dead.stdout)  # a process that has exited
    import socket

    left = workspace.path("old-run/tmp/outputs")
    (left / "out-data.parquet").mkdir(parents=True)
    (left / "out-data.parquet" / "data.parquet").write_bytes(b"half")
    (left / ".owner").write_text(f"{socket.gethostname()}\n{pid}\n")
    live = workspace.path("live-run/tmp/outputs")
    live.mkdir(parents=True)
    (live / ".owner").write_text(f"{socket.gethostname()}\n{os.getpid()}\n")
    ctx2 = RunContext("r3", "p", base_dir=workspace.root, run_dir=workspace.path("r3"))
    sink = parquet_sink(ctx2)
    sink.open()
    assert not left.exists()
    assert live.exists()  # a live process's folder is left alone
    sink.abort()


def test_sweep_temporary_removes_dead_owners_only(workspace: Workspace) -> None:
    import socket

    from ocht.connector_files import sweep_temporary

    root = workspace.path(".ocht-tmp")
    for run, pid in (("dead", 2**22 + 12345), ("alive", os.getpid())):
        (root / run / "x").mkdir(parents=True)
        (root / run / ".owner").write_text(f"{socket.gethostname()}\n{pid}\n")
    (root / "foreign").mkdir()
    (root / "foreign" / ".owner").write_text("another-host\n1\n")
    assert sweep_temporary(root) == [root / "dead"]
    assert sorted(p.name for p in root.iterdir()) == ["alive", "foreign"]
