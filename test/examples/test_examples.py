"""Every example pipeline validates and runs on its bundled data."""

import shutil
from pathlib import Path

import polars as pl
import pytest

from ocht.config import load_pipeline
from ocht.executor import Runner, RunRequest
from ocht.testkit import run_pipeline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PIPELINES = sorted(p.name for p in EXAMPLES.glob("*.yaml"))


@pytest.fixture
def examples(tmp_path):
    dest = tmp_path / "examples"
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("out"))
    return dest


def test_there_are_at_least_four_examples():
    assert len(PIPELINES) >= 4


@pytest.mark.parametrize("name", PIPELINES)
def test_example_runs_and_writes_its_outputs(examples, name):
    result = run_pipeline(examples / name, home=examples / ".ocht")
    assert result.status == "succeeded"
    assert result.rows_read > 0
    for out in result.outputs:
        if out.target.startswith(("parquet:", "csv:", "ndjson:")):
            path = examples / out.target.split(":", 1)[1]
            assert path.exists(), out.target
            assert out.rows > 0


def test_route_example_partitions_every_order(examples):
    result = run_pipeline(examples / "route_orders.yaml", home=examples / ".ocht")
    assert sum(o.rows for o in result.outputs) == result.rows_read


def test_hourly_windows_match_hand_written_polars(examples):
    run_pipeline(examples / "hourly_revenue.yaml", home=examples / ".ocht")
    got = pl.read_parquet(examples / "out/hourly_revenue.parquet")
    want = (
        pl.read_csv(EXAMPLES / "data/orders.csv", try_parse_dates=True)
        .filter(pl.col("status") == "paid")
        .group_by("country", pl.col("ts").dt.truncate("1h").alias("window_start"))
        .agg(orders=pl.len())
    )
    joined = got.join(want, on=["country", "window_start"], how="full", coalesce=True)
    assert joined.height == want.height == got.height
    assert (joined["orders"] == joined["orders_right"]).all()


def test_stream_profile_compiles_for_stream_mode():
    loaded = load_pipeline(EXAMPLES / "hourly_revenue.yaml", profile="stream")
    plan = Runner().compile(RunRequest(loaded), mode="stream")
    assert [s.kind.name for s in plan.steps] == ["filter", "aggregate"]
