"""Lineage graphs named per the OpenLineage spec, and events through real transports."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import polars as pl
import pytest

from ocht.lineage import LineageEmitter, LineageGraph, dataset_name, graph, render, run_uuid
from ocht.pipeline_model import validate

HOST = socket.gethostname()


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ({"type": "csv", "path": "data/a.csv"}, (f"file://{HOST}", "/proj/data/a.csv")),
        ({"type": "parquet", "path": "s3://lake/raw/x.parquet"}, ("s3://lake", "raw/x.parquet")),
        (
            {
                "type": "sql",
                "url": "postgresql+psycopg://etl:SECRET@db.local/shop",
                "table": "orders",
            },
            ("postgres://db.local:5432", "shop.public.orders"),
        ),
        (
            {"type": "kafka", "brokers": "k1:9092,k2:9092", "topic": "events"},
            ("kafka://k1:9092", "events"),
        ),
        (
            {"type": "http", "url": "https://api.example.com/v1/orders?x=1"},
            ("https://api.example.com:443", "/v1/orders"),
        ),
    ],
)
def test_dataset_names_follow_the_naming_spec(spec: dict, expected: tuple[str, str]) -> None:
    pipeline = validate({"name": "p", "inputs": {"i": spec}, "outputs": {"o": {"type": "console"}}})
    namespace, name = dataset_name(pipeline.inputs["i"], Path("/proj"))
    assert (namespace, name) == expected
    assert "SECRET" not in namespace + name


def _graph(tmp_path: Path) -> LineageGraph:
    pipeline = validate(
        {
            "name": "orders",
            "inputs": {"orders": {"type": "csv", "path": "orders.csv"}},
            "steps": [{"id": "paid", "kind": "filter", "where": "amount > 1"}],
            "outputs": {"clean": {"type": "parquet", "path": "s3://lake/clean.parquet"}},
        }
    )
    schema = pl.Schema({"id": pl.Int64, "amount": pl.Float64})
    return graph(
        pipeline,
        base_dir=tmp_path,
        schemas={"orders": schema, "paid": schema},
        output_frames={"clean": "paid"},
    )


def test_graph_round_trips_and_renders(tmp_path: Path) -> None:
    data = _graph(tmp_path)
    assert LineageGraph.from_dict(json.loads(json.dumps(data.to_dict()))) == data
    text = render(data)
    assert "input  orders" in text and "step   paid" in text and "s3://lake/clean.parquet" in text
    assert set(data.column_lineage["clean"]) == {"id", "amount"}


def test_events_go_to_a_file_as_openlineage_json(tmp_path: Path) -> None:
    target = tmp_path / "lineage.ndjson"
    emitter = LineageEmitter.from_settings({"OCHT_LINEAGE_FILE": str(target)})
    assert emitter is not None
    data = _graph(tmp_path)
    assert emitter.emit(data, run_id="r1", event_type="START")
    assert emitter.emit(
        data, run_id="r1", event_type="FAIL", error={"code": "x", "message": "boom"}
    )
    events = [json.loads(line) for line in target.read_text().splitlines()]
    assert [e["eventType"] for e in events] == ["START", "FAIL"]
    first = events[0]
    assert first["run"]["runId"] == run_uuid("r1") and first["job"]["name"] == "orders"
    assert first["inputs"][0]["name"] == str((tmp_path / "orders.csv").resolve())
    fields = first["outputs"][0]["facets"]["schema"]["fields"]
    assert [f["name"] for f in fields] == ["id", "amount"]
    lineage = first["outputs"][0]["facets"]["columnLineage"]["fields"]["amount"]["inputFields"][0]
    assert lineage["field"] == "amount"
    assert "boom" in events[1]["run"]["facets"]["errorMessage"]["message"]


def test_a_consumer_that_is_away_never_fails_the_run(tmp_path: Path) -> None:
    emitter = LineageEmitter.from_settings({"OCHT_LINEAGE_URL": "http://127.0.0.1:9"})
    assert emitter is not None
    emitter.transport.config.retry = {"total": 0}
    assert emitter.emit(_graph(tmp_path), run_id="r2", event_type="START") is False


def test_no_settings_no_emitter() -> None:
    assert LineageEmitter.from_settings({}) is None


@pytest.mark.kafka
def test_a_stream_run_sends_start_running_and_complete(kafka_broker: str, tmp_path: Path) -> None:
    from ocht.lineage import LineageHooks
    from ocht.testkit import stream_pipeline
    from ocht.testkit.broker import FAST_GROUP, create_topic, produce, unique_topic

    topic = create_topic(kafka_broker, unique_topic("lin"))
    produce(kafka_broker, topic, [{"id": i} for i in range(30)])
    target = tmp_path / "lineage.ndjson"
    hooks = LineageHooks.from_settings(
        {"OCHT_LINEAGE_FILE": str(target), "OCHT_LINEAGE_RUNNING_EVERY": "0"}
    )
    spec = {
        "name": "lin_stream",
        "inputs": {
            "e": {
                "type": "kafka",
                "brokers": kafka_broker,
                "topic": topic,
                "group": unique_topic("g"),
                "schema": {"id": "int64"},
                "max_rows": 10,
                "options": FAST_GROUP,
            }
        },
        "outputs": {"o": {"type": "kafka", "brokers": kafka_broker, "topic": unique_topic("o")}},
    }
    result = stream_pipeline(spec, hooks=hooks, home=tmp_path / ".ocht", idle_stop_s=0.5)
    assert result.rows_read == 30
    kinds = [json.loads(line)["eventType"] for line in target.read_text().splitlines()]
    assert kinds[0] == "START" and kinds[-1] == "COMPLETE"
    assert kinds.count("RUNNING") == result.batches >= 3
    names = [json.loads(line)["inputs"][0]["name"] for line in target.read_text().splitlines()]
    assert set(names) == {topic}
