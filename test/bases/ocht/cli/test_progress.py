"""The progress line's total: exact for Parquet, estimated for text, unknown for SQL."""

import polars as pl

from ocht.cli.progress import describe, estimate_input_rows
from ocht.pipeline_model import validate


def _inputs(specs):
    data = {"name": "p", "inputs": specs, "outputs": {"o": {"type": "console"}}}
    return dict(validate(data).inputs)


def test_parquet_rows_are_exact_and_text_rows_estimated(tmp_path):
    df = pl.DataFrame({"id": range(5_000), "city": ["Lisbon", "Oslo"] * 2_500})
    df.write_parquet(tmp_path / "a.parquet")
    (tmp_path / "parts").mkdir()
    for i in range(3):
        df.write_csv(tmp_path / "parts" / f"p{i}.csv")
    df.write_ndjson(tmp_path / "a.ndjson")

    assert (
        estimate_input_rows(_inputs({"i": {"type": "parquet", "path": "a.parquet"}}), tmp_path)
        == 5_000
    )
    csv = estimate_input_rows(_inputs({"i": {"type": "csv", "path": "parts/*.csv"}}), tmp_path)
    assert csv is not None and abs(csv - 15_000) < 15_000 * 0.05
    folder = estimate_input_rows(_inputs({"i": {"type": "csv", "path": "parts"}}), tmp_path)
    assert folder == csv
    nd = estimate_input_rows(_inputs({"i": {"type": "ndjson", "path": "a.ndjson"}}), tmp_path)
    assert nd is not None and abs(nd - 5_000) < 5_000 * 0.05


def test_unknown_sizes_give_no_total(tmp_path):
    sql = {"type": "sql", "url": "sqlite:///x.db", "table": "t"}
    assert estimate_input_rows(_inputs({"i": sql}), tmp_path) is None
    missing = {"type": "csv", "path": "nope.csv"}
    assert estimate_input_rows(_inputs({"i": missing}), tmp_path) is None
    (tmp_path / "bad.parquet").write_bytes(b"not parquet")
    bad = {"type": "parquet", "path": "bad.parquet"}
    assert estimate_input_rows(_inputs({"i": bad}), tmp_path) is None


def test_the_line_shows_percentage_and_time_left_only_with_a_total():
    assert describe(2_500, 2.0, 10_000) == (
        "read 2,500 of ~10,000 rows (25%, 1,250 rows/s, about 6s left)"
    )
    assert describe(2_500, 2.0, None) == "read 2,500 rows (1,250 rows/s)"
    assert describe(20_000, 2.0, 10_000) == "read 20,000 rows (10,000 rows/s)"
    assert "about 17m left" in describe(1_000, 1.0, 1_000_000)
