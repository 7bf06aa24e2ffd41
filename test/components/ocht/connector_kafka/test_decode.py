"""Decoding record values: the vectorised path and isolating bad records."""

from __future__ import annotations

import polars as pl
import pytest

from ocht.connector_kafka import decode_values
from ocht.errors import InvalidPipeline
from ocht.transform import parse_dtype

SCHEMA = pl.Schema({"id": pl.Int64, "name": pl.String})


def test_good_batch_is_read_in_one_go() -> None:
    frame, bad = decode_values([b'{"id": 1, "name": "a"}', b'{"id": 2}'], "json", SCHEMA)
    assert bad == []
    assert frame.to_dicts() == [{"id": 1, "name": "a"}, {"id": 2, "name": None}]


def test_bad_records_are_isolated_and_the_rest_kept_in_order() -> None:
    values: list[bytes | None] = [b'{"id": %d}' % i for i in range(100)]
    values[3] = b"not json"
    values[50] = b'{"id": "x"}'
    values[77] = None
    values[90] = b"[1, 2]"
    frame, bad = decode_values(values, "json", SCHEMA)
    assert [i for i, _ in bad] == [3, 50, 77, 90]
    reasons = dict(bad)
    assert "not a JSON object" in reasons[3]
    assert "wrong type" in reasons[50]
    assert reasons[77] == "empty record value"
    assert frame["id"].to_list() == [i for i in range(100) if i not in (3, 50, 77, 90)]


def test_inferred_schema_skips_non_objects() -> None:
    frame, bad = decode_values([b'{"a": 1}', b"5", b'{"a": 2}'], "json", None)
    assert [i for i, _ in bad] == [1]
    assert frame["a"].to_list() == [1, 2]


def test_pretty_printed_values_are_one_record() -> None:
    frame, bad = decode_values([b'{\n "id": 7\n}', b'{"id": 8}'], "json", SCHEMA)
    assert bad == []
    assert frame["id"].to_list() == [7, 8]


@pytest.mark.parametrize(("fmt", "dtype"), [("string", pl.String), ("raw", pl.Binary)])
def test_string_and_raw_formats(fmt: str, dtype: pl.DataType) -> None:
    frame, bad = decode_values([b"hello", None], fmt, None)
    assert bad == []
    assert frame.schema["value"] == dtype
    assert frame.height == 2


def test_type_names() -> None:
    assert parse_dtype("int64") == pl.Int64
    assert parse_dtype("datetime[ms, UTC]") == pl.Datetime("ms", "UTC")
    assert parse_dtype("decimal(10,2)") == pl.Decimal(10, 2)
    with pytest.raises(InvalidPipeline) as err:
        parse_dtype("intt")
    assert err.value.code == "invalid-type"


def test_inferred_json_gets_the_types_a_csv_file_gets() -> None:
    import io

    import polars as pl

    from ocht.connector_kafka import decode_values

    rows = [
        b'{"ts": "2024-01-01T10:00:00.123", "d": "2024-01-02", "z": "2024-01-01T10:00:00Z",'
        b' "s": "2024-13", "n": 1}',
        b'{"ts": "2024-01-01 11:30:00", "d": null, "z": "2024-01-01T11:00:00+02:00",'
        b' "s": "x", "n": 2}',
    ]
    frame, bad = decode_values(rows, "json", None)
    assert bad == []
    csv = pl.read_csv(
        io.StringIO(
            "ts,d,z,s,n\n2024-01-01T10:00:00.123,2024-01-02,2024-01-01T10:00:00Z,2024-13,1\n"
            "2024-01-01 11:30:00,,2024-01-01T11:00:00+02:00,x,2\n"
        ),
        try_parse_dates=True,
    )
    assert frame.schema == csv.schema
    assert frame["z"][1] == csv["z"][1]  # offsets normalised to UTC, as the file reader does


def test_a_declared_decimal_reads_the_strings_the_sink_writes_and_plain_numbers() -> None:
    schema = pl.Schema({"p": parse_dtype("decimal(10,2)"), "a": pl.Int64()})
    values = [b'{"p":"1.25","a":1}', b'{"p":"x","a":2}', b'{"p":2.5,"a":3}']
    frame, bad = decode_values(values, "json", schema)
    assert frame.schema == schema
    assert frame["a"].to_list() == [1, 3] and [str(v) for v in frame["p"]] == ["1.25", "2.50"]
    assert [i for i, _ in bad] == [1] and "'p'" in bad[0][1]
