"""Golden files: a frame compared with rows kept in a file, rewritten on request.

The file is NDJSON (one row per line, readable in a diff), as ``ocht test`` keeps its
``golden`` outputs. Set ``OCHT_UPDATE_GOLDEN=1`` (or pass ``update=True``) to write the
actual rows instead of comparing, then review the diff and commit it.

Example:
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "out.ndjson"
    >>> assert_golden(pl.DataFrame({"a": [1, 2]}), path, update=True)
    >>> assert_golden(pl.DataFrame({"a": [1, 2]}), path)
"""

from __future__ import annotations

import os
from pathlib import Path

import polars as pl

#: the environment variable that turns comparing into rewriting
UPDATE_ENV = "OCHT_UPDATE_GOLDEN"


def read_golden(path: str | Path, schema: pl.Schema | None = None) -> pl.DataFrame:
    """The rows of a golden file (typed by ``schema`` when given)."""
    path = Path(path)
    if not path.stat().st_size:
        return pl.DataFrame(schema=schema)
    return pl.read_ndjson(path, schema=schema)


def write_golden(frame: pl.DataFrame, path: str | Path) -> None:
    """Write ``frame`` as the golden file ``path`` (folders made as needed)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_ndjson(path)


def assert_golden(
    frame: pl.DataFrame,
    path: str | Path,
    *,
    update: bool | None = None,
    sort_by: list[str] | None = None,
) -> None:
    """Assert that ``frame`` holds the rows of the golden file ``path``.

    Args:
        frame: the actual rows.
        path: the golden file (NDJSON).
        update: write ``frame`` there instead (default: ``OCHT_UPDATE_GOLDEN`` is set).
        sort_by: compare as sorted by these columns (rows in any order).

    Raises:
        AssertionError: the file is missing, or its rows differ (with Polars' diff).
    """
    from polars.testing import assert_frame_equal

    path = Path(path)
    if update is None:
        update = os.environ.get(UPDATE_ENV, "") not in ("", "0")
    if update:
        write_golden(frame, path)
        return
    if not path.exists():
        raise AssertionError(f"golden file {path} is missing (write it with {UPDATE_ENV}=1)")
    want = read_golden(path, frame.schema)
    got = frame
    if sort_by:
        got, want = got.sort(sort_by), want.sort(sort_by)
    assert_frame_equal(got, want, check_dtypes=False)
