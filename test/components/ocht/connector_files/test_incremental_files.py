"""`incremental: files` on local inputs: only files no earlier run loaded, state in the store."""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl
import pytest

from ocht.errors import OchtError
from ocht.store import Store
from ocht.testkit import run_pipeline


@pytest.mark.parametrize("fmt", ["csv", "parquet", "ndjson"])
def test_only_new_or_changed_files_are_read(tmp_path: Path, fmt: str) -> None:
    folder = tmp_path / "daily"
    folder.mkdir()

    def put(name: str, amounts: list[int]) -> None:
        frame = pl.DataFrame({"amount": amounts})
        getattr(frame, f"write_{fmt}")(folder / f"{name}.{fmt}")

    out = tmp_path / "out.parquet"
    spec = {
        "name": "inc_files",
        "inputs": {"orders": {"type": fmt, "path": str(folder), "incremental": "files"}},
        "outputs": {"out": {"type": "parquet", "path": str(out)}},
    }
    with Store(base_dir=tmp_path) as store:
        put("d1", [1, 2])
        first = run_pipeline(spec, store=store, home=tmp_path / ".ocht")
        assert pl.read_parquet(out)["amount"].to_list() == [1, 2]
        assert first.files == {"orders": (1, 0)}

        put("d2", [3])
        second = run_pipeline(spec, store=store, home=tmp_path / ".ocht")
        assert pl.read_parquet(out)["amount"].to_list() == [3]
        assert second.files == {"orders": (1, 1)}

        third = run_pipeline(spec, store=store, home=tmp_path / ".ocht")
        assert pl.read_parquet(out).height == 0 and third.inputs["orders"] == 0
        assert third.files == {"orders": (0, 2)}

        put("d1", [10, 20, 30])  # rewritten in place: read again
        stat = (folder / f"d1.{fmt}").stat()
        os.utime(folder / f"d1.{fmt}", ns=(stat.st_atime_ns, stat.st_mtime_ns + 10_000_000))
        fourth = run_pipeline(spec, store=store, home=tmp_path / ".ocht")
        assert pl.read_parquet(out)["amount"].to_list() == [10, 20, 30]
        assert fourth.files == {"orders": (1, 1)}

        everything = run_pipeline(spec, store=store, home=tmp_path / ".ocht", full_refresh=True)
        assert sorted(pl.read_parquet(out)["amount"]) == [3, 10, 20, 30]
        assert everything.files == {"orders": (2, 0)}


def test_a_failed_run_does_not_mark_its_files_loaded(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.csv").write_text("amount\n1\nx\n")
    spec = {
        "name": "inc_fail",
        "inputs": {
            "orders": {
                "type": "csv",
                "path": str(folder),
                "incremental": "files",
                "schema": {"amount": "int64"},
            }
        },
        "outputs": {"out": {"type": "parquet", "path": str(tmp_path / "o.parquet")}},
    }
    with Store(base_dir=tmp_path) as store:
        with pytest.raises(OchtError):  # the bad value fails the run
            run_pipeline(spec, store=store, home=tmp_path / ".ocht")
        (folder / "a.csv").write_text("amount\n1\n2\n")
        again = run_pipeline(spec, store=store, home=tmp_path / ".ocht")
        assert again.inputs["orders"] == 2
