"""What the run summary says about an input: new files, skipped bad lines."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_summary_counts_new_and_known_files(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.csv").write_text("id\n1\n")
    (tmp_path / "p.yaml").write_text(
        "name: inc\n"
        "inputs: {i: {type: csv, path: in, incremental: files}}\n"
        "outputs: {o: {type: parquet, path: o.parquet}}\n"
    )
    assert "1 new files, 0 loaded before" in _run(tmp_path)
    (tmp_path / "in" / "b.csv").write_text("id\n2\n")
    assert "1 new files, 1 loaded before" in _run(tmp_path)


def test_the_summary_counts_skipped_bad_lines(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("id,amount\n1,5\n2,x\n3\n4,8\n")
    (tmp_path / "p.yaml").write_text(
        "name: skip\n"
        "inputs: {i: {type: csv, path: a.csv, on_bad_lines: skip,"
        " schema_overrides: {amount: int64}}}\n"
        "outputs: {o: {type: parquet, path: o.parquet}}\n"
    )
    out = _run(tmp_path)
    assert "2 bad lines skipped" in out
    assert "read 4 = written 2 + dead letters 0 + dropped by steps 0 + skipped bad lines 2" in out


def _run(folder: Path) -> str:
    """``ocht run p.yaml`` in ``folder``, as a user runs it; its standard output."""
    done = subprocess.run(
        [sys.executable, "-m", "ocht.cli.main", "run", "p.yaml"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "OCHT_HOME": str(folder / ".ocht"), "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout
