"""Every example pipeline validates and runs on its bundled data."""

import shutil
from pathlib import Path

import polars as pl
import pytest

from ocht.config import load_pipeline
from ocht.executor import Runner, RunRequest
from ocht.testkit import run_pipeline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
#: examples that read or write a server: each has its own test below, which starts one
SERVED = {"api_orders.yaml", "s3_orders.yaml"}
PIPELINES = sorted(
    p.name
    for p in EXAMPLES.glob("*.yaml")
    if p.name not in SERVED and not p.name.endswith(".ocht-test.yaml")
)


def test_every_example_has_scenario_tests():
    scenarios = {p.name.removesuffix(".ocht-test.yaml") for p in EXAMPLES.glob("*.ocht-test.yaml")}
    assert {p.removesuffix(".yaml") for p in PIPELINES} | {
        s.removesuffix(".yaml") for s in SERVED
    } <= scenarios


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


def test_api_example_follows_every_page(examples):
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    import fastavro

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args):
            return

    handler = functools.partial(Quiet, directory=str(examples / "data" / "api"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        api = f"http://127.0.0.1:{server.server_address[1]}"
        result = run_pipeline(
            examples / "api_orders.yaml", variables={"api": api}, home=examples / ".ocht"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.inputs["orders"] == 30  # three pages of ten
    with (examples / "out" / "api_orders.avro").open("rb") as f:
        paid = list(fastavro.reader(f))
    assert len(paid) == result.outputs[0].rows > 0
    assert {r["status"] for r in paid} == {"paid"}


def test_s3_example_writes_and_reads_back(examples, s3_server):
    s3_server.create_bucket("lake")
    endpoint = {"endpoint": s3_server.endpoint}
    wrote = run_pipeline(examples / "s3_orders.yaml", variables=endpoint, home=examples / ".ocht")
    assert "s3://lake/orders/paid.parquet" in wrote.outputs[0].target
    back = run_pipeline(
        examples / "s3_orders.yaml",
        variables=endpoint,
        profile="read_back",
        home=examples / ".ocht",
    )
    assert back.inputs["orders"] == wrote.outputs[0].rows > 0
