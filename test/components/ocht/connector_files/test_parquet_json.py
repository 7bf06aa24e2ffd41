"""Parquet, NDJSON and JSON inputs and outputs: types, nesting, globs and folders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

from ocht.connector_files import (
    JsonSource,
    NdjsonSink,
    NdjsonSource,
    ParquetSink,
    ParquetSource,
)
from ocht.pipeline_model import JsonConnector, NdjsonConnector, ParquetConnector
from ocht.registry import RunContext
from ocht.testkit import Workspace, orders

NESTED = pl.DataFrame(
    {
        "id": [1, 2, None],
        "price": [1.5, None, 3.25],
        "name": ["a", None, "c"],
        "ok": [True, False, None],
        "day": [date(2024, 1, 31), None, date(2023, 12, 1)],
        "at": [datetime(2024, 1, 31, 10, 5, 1), datetime(2024, 2, 1), None],
        "customer": [{"name": "Ann", "tags": ["vip"]}, {"name": "Bo", "tags": []}, None],
        "items": [[1, 2], [], None],
    }
)


def parquet(path: str, **options: object) -> ParquetConnector:
    return ParquetConnector.model_validate({"type": "parquet", "path": path, **options})


def ndjson(path: str, **options: object) -> NdjsonConnector:
    return NdjsonConnector.model_validate({"type": "ndjson", "path": path, **options})


def test_parquet_round_trip_keeps_every_type(
    ctx: RunContext, write_out: Callable[..., Path]
) -> None:
    write_out(ParquetSink, parquet("out/n.parquet"), NESTED)
    src = ParquetSource(parquet("out/n.parquet"), name="in", context=ctx)
    assert src.schema() == NESTED.schema
    assert src.schema()["customer"] == pl.Struct({"name": pl.String(), "tags": pl.List(pl.String)})
    assert_frame_equal(src.scan().collect(), NESTED)


def test_parquet_compression_option(ctx: RunContext, write_out: Callable[..., Path]) -> None:
    import pyarrow.parquet as pq

    path = write_out(ParquetSink, parquet("out/o.parquet", compression="snappy"), orders(50))
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "SNAPPY"


def test_parquet_glob_and_directory(workspace: Workspace, ctx: RunContext) -> None:
    data = orders(30)
    workspace.write_parquet("parts/p2.parquet", data.slice(10, 20))
    workspace.write_parquet("parts/p1.parquet", data.slice(0, 10))
    workspace.write_text("parts/_SUCCESS", "")
    by_dir = ParquetSource(parquet("parts"), name="in", context=ctx).scan().collect()
    by_glob = ParquetSource(parquet("parts/p*.parquet"), name="in", context=ctx).scan()
    assert_frame_equal(by_dir, data)
    assert_frame_equal(by_glob.collect(), data)


def test_ndjson_round_trip_with_nested_values(
    ctx: RunContext, write_out: Callable[..., Path]
) -> None:
    path = write_out(NdjsonSink, ndjson("out/n.ndjson"), NESTED)
    assert path.read_text().count("\n") == 3
    # JSON has no date type: a declared schema brings dates back; the rest is inferred
    declared = ndjson(
        "out/n.ndjson",
        schema={
            "id": "int64",
            "price": "float",
            "name": "str",
            "ok": "bool",
            "day": "date",
            "at": "datetime",
            "items": "list[int64]",
        },
    )
    got = NdjsonSource(declared, name="in", context=ctx).scan().collect()
    assert_frame_equal(got, NESTED.drop("customer"))
    inferred = NdjsonSource(ndjson("out/n.ndjson"), name="in", context=ctx).scan().collect()
    assert inferred.schema["customer"] == pl.Struct(
        {"name": pl.String(), "tags": pl.List(pl.String)}
    )
    assert inferred["customer"].to_list() == NESTED["customer"].to_list()
    assert inferred.schema["items"] == pl.List(pl.Int64)


def test_ndjson_directory_takes_ndjson_and_jsonl(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("ev/a.ndjson", '{"n": 1}\n')
    workspace.write_text("ev/b.jsonl", '{"n": 2}\n{"n": 3}\n')
    workspace.write_text("ev/c.json", '[{"n": 99}]')
    got = NdjsonSource(ndjson("ev"), name="in", context=ctx).scan().collect()
    assert got["n"].to_list() == [1, 2, 3]


def test_json_array_document_with_nesting(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text(
        "doc.json",
        """[
      {"id": 1, "user": {"name": "Ann", "langs": ["ga", "en"]}, "score": 1.5},
      {"id": 2, "user": {"name": "Bo", "langs": []}, "score": null}
    ]""",
    )
    src = JsonSource(JsonConnector(type="json", path="doc.json"), name="in", context=ctx)
    expected = pl.Schema(
        {
            "id": pl.Int64(),
            "user": pl.Struct({"name": pl.String(), "langs": pl.List(pl.String)}),
            "score": pl.Float64(),
        }
    )
    assert src.schema() == expected
    got = src.scan().collect()
    assert got.schema == expected
    assert got["user"].struct.field("name").to_list() == ["Ann", "Bo"]


def test_json_is_parsed_only_when_collected(workspace: Workspace, ctx: RunContext) -> None:
    path = workspace.write_text("doc.json", '[{"a": 1}]')
    src = JsonSource(JsonConnector(type="json", path="doc.json"), name="in", context=ctx)
    lf = src.scan()
    path.write_text('[{"a": 1}, {"a": 2}]')
    assert lf.collect()["a"].to_list() == [1, 2]


def test_json_glob_of_documents_with_a_declared_schema(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("d/1.json", '[{"a": 1, "d": "2024-01-02"}]')
    workspace.write_text("d/2.json", '[{"a": 2, "d": "2024-01-03"}]')
    spec = JsonConnector.model_validate(
        {"type": "json", "path": "d/*.json", "schema": {"a": "int", "d": "date"}}
    )
    got = JsonSource(spec, name="in", context=ctx).scan().collect()
    assert got.to_dicts() == [{"a": 1, "d": date(2024, 1, 2)}, {"a": 2, "d": date(2024, 1, 3)}]
