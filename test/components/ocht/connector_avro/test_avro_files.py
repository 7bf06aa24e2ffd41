"""Avro container files in and out: logical types, round trips, bad files."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from pathlib import Path
from typing import Any

import fastavro
import polars as pl
import pytest

from ocht.errors import OchtError
from ocht.testkit import run_pipeline

SCHEMA = {
    "type": "record",
    "name": "order",
    "fields": [
        {"name": "id", "type": "long"},
        {"name": "qty", "type": "int"},
        {"name": "ok", "type": "boolean"},
        {"name": "ratio", "type": "double"},
        {
            "name": "amount",
            "type": {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2},
        },
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "at_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "at_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "local", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
        {"name": "uid", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "note", "type": ["null", "string"]},
        {"name": "tags", "type": {"type": "array", "items": "string"}},
        {
            "name": "where",
            "type": {
                "type": "record",
                "name": "place",
                "fields": [{"name": "city", "type": "string"}],
            },
        },
    ],
}


def _records(n: int) -> list[dict[str, Any]]:
    return [
        {
            "id": i,
            "qty": i % 7,
            "ok": i % 2 == 0,
            "ratio": i / 4,
            "amount": decimal.Decimal("10.25") + i,
            "day": dt.date(2024, 2, 28) + dt.timedelta(days=i % 3),  # across the leap day
            "at_ms": dt.datetime(2024, 3, 1, 12, 0, 0, 123000, tzinfo=dt.UTC),
            "at_us": dt.datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
            "local": dt.datetime(2024, 3, 1, 8, 30, 0, 1),
            "uid": uuid.UUID(int=i),
            "note": None if i % 3 else f"n{i}",
            "tags": [f"t{i}"] * (i % 3),
            "where": {"city": "Oslo" if i % 2 else "Lima"},
        }
        for i in range(n)
    ]


def _write(path: Path, records: list[dict[str, Any]], schema: dict[str, Any] = SCHEMA) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as f:
        fastavro.writer(f, schema, records)
    return path


def _copy(tmp_path: Path, src: str, dst: str, **inp: Any) -> Any:
    return run_pipeline(
        {
            "name": "avro_copy",
            "inputs": {"i": {"type": "avro", "path": src, **inp}},
            "outputs": {"o": {"type": "avro", "path": dst}},
        },
        home=tmp_path / ".ocht",
    )


def test_logical_types_map_to_polars_types(tmp_path: Path) -> None:
    _write(tmp_path / "in.avro", _records(4))
    out = tmp_path / "out.parquet"
    run_pipeline(
        {
            "name": "types",
            "inputs": {"i": {"type": "avro", "path": str(tmp_path / "in.avro")}},
            "outputs": {"o": {"type": "parquet", "path": str(out)}},
        },
        home=tmp_path / ".ocht",
    )
    got = pl.read_parquet(out)
    assert got.schema == pl.Schema(
        {
            "id": pl.Int64,
            "qty": pl.Int32,
            "ok": pl.Boolean,
            "ratio": pl.Float64,
            "amount": pl.Decimal(10, 2),
            "day": pl.Date,
            "at_ms": pl.Datetime("ms", "UTC"),
            "at_us": pl.Datetime("us", "UTC"),
            "local": pl.Datetime("us"),
            "uid": pl.String,
            "note": pl.String,
            "tags": pl.List(pl.String),
            "where": pl.Struct({"city": pl.String}),
        }
    )
    assert got["day"].to_list()[1] == dt.date(2024, 2, 29)
    assert got["uid"][1] == "00000000-0000-0000-0000-000000000001"
    assert got["amount"][2] == decimal.Decimal("12.25")


def test_round_trip_keeps_every_value(tmp_path: Path) -> None:
    records = _records(3000)
    _write(tmp_path / "in" / "a.avro", records[:1500])
    _write(tmp_path / "in" / "b.avro", records[1500:])
    # batch_size well below the row count: the reader streams several batches per file
    result = _copy(tmp_path, str(tmp_path / "in"), str(tmp_path / "out.avro"), batch_size=256)
    assert result.status == "succeeded"
    with (tmp_path / "out.avro").open("rb") as f:
        back = list(fastavro.reader(f))
    assert len(back) == 3000
    for original, copied in zip(records, back, strict=True):
        expected = {**original, "uid": str(original["uid"])}
        assert copied == expected


def test_an_empty_result_is_a_valid_file(tmp_path: Path) -> None:
    _write(tmp_path / "in.avro", _records(3))
    run_pipeline(
        {
            "name": "none",
            "inputs": {"i": {"type": "avro", "path": str(tmp_path / "in.avro")}},
            "steps": [{"kind": "filter", "where": "id < 0"}],
            "outputs": {"o": {"type": "avro", "path": str(tmp_path / "out.avro")}},
        },
        home=tmp_path / ".ocht",
    )
    with (tmp_path / "out.avro").open("rb") as f:
        reader = fastavro.reader(f)
        assert list(reader) == []
        assert [fl["name"] for fl in reader.writer_schema["fields"]][:2] == ["id", "qty"]


@pytest.mark.parametrize("damage", ["not-avro", "truncated"])
def test_bad_files_fail_with_a_stable_code_and_write_nothing(tmp_path: Path, damage: str) -> None:
    path = _write(tmp_path / "in.avro", _records(2000))
    data = path.read_bytes()
    path.write_bytes(b"id,qty\n1,2\n" if damage == "not-avro" else data[: len(data) // 2])
    with pytest.raises(OchtError) as err:
        _copy(tmp_path, str(path), str(tmp_path / "out.avro"))
    assert err.value.code == "malformed-record"
    assert "in.avro" in err.value.message
    assert not (tmp_path / "out.avro").exists()


def test_files_with_different_schemas_are_refused(tmp_path: Path) -> None:
    _write(tmp_path / "in" / "a.avro", _records(2))
    other = {"type": "record", "name": "x", "fields": [{"name": "id", "type": "string"}]}
    _write(tmp_path / "in" / "b.avro", [{"id": "1"}], other)
    with pytest.raises(OchtError) as err:
        _copy(tmp_path, str(tmp_path / "in"), str(tmp_path / "out.avro"))
    assert "b.avro" in err.value.message


def test_a_union_of_several_types_is_named(tmp_path: Path) -> None:
    schema = {
        "type": "record",
        "name": "u",
        "fields": [{"name": "v", "type": ["null", "string", "long"]}],
    }
    _write(tmp_path / "in.avro", [{"v": "a"}, {"v": 1}], schema)
    with pytest.raises(OchtError) as err:
        _copy(tmp_path, str(tmp_path / "in.avro"), str(tmp_path / "out.avro"))
    assert err.value.code in ("unsupported-avro-type", "invalid-pipeline")
    assert "v" in err.value.message or any("v" in i.message for i in err.value.issues)
