"""Every listed type survives a write and a read, on SQLite and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

UTC = dt.UTC


def _frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "i16": pl.Series([1, None, -3], dtype=pl.Int16),
            "i32": pl.Series([1, 2, None], dtype=pl.Int32),
            "i64": [2**40, None, -5],
            "dec": pl.Series([Decimal("123.45"), None, Decimal("-0.01")], dtype=pl.Decimal(10, 2)),
            "f64": [1.5, None, 1e-7],
            "s": ["a", "", None],
            "tricky": ['x,"y"\nz', "tab\there", "back\\slash \\N"],
            "b": [True, False, None],
            "d": [dt.date(2024, 1, 2), None, dt.date(1999, 12, 31)],
            "ts": [dt.datetime(2024, 1, 2, 3, 4, 5, 6), None, dt.datetime(2024, 1, 2)],
            "tz": pl.Series(
                [
                    dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC),
                    None,
                    dt.datetime(2024, 6, 1, tzinfo=UTC),
                ],
                dtype=pl.Datetime("us", "UTC"),
            ),
            "j": [{"a": 1, "b": "x"}, None, {"a": 2, "b": None}],
            "nothing": pl.Series([None, None, None], dtype=pl.Null),
            "tm": [dt.time(1, 2, 3, 4), None, dt.time(0, 0)],
            "dur": [dt.timedelta(days=1, microseconds=5), None, dt.timedelta(0)],
            "bin": [b"\x00\x01", None, b""],
        }
    )


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast", "driver"])
def test_round_trip(sql, fast_path: bool) -> None:
    if sql.dialect == "sqlite" and not fast_path:
        pytest.skip("SQLite has one path")
    table = sql.table("types")
    data = _frame()
    sql.load(table, data, fast_path=fast_path)
    back = sql.read(table, fast_path=fast_path)

    ints = pl.Int64 if sql.dialect == "sqlite" else None  # SQLite integers are 64-bit
    expected = {
        "i16": ints or pl.Int16,
        "i32": ints or pl.Int32,
        "i64": pl.Int64,
        "dec": pl.Decimal(10, 2),
        "f64": pl.Float64,
        "s": pl.String,
        "tricky": pl.String,
        "b": pl.Boolean,
        "d": pl.Date,
        "ts": pl.Datetime("us"),
        "tz": pl.Datetime("us", "UTC"),
        "j": pl.String,
        "nothing": pl.String,
        "tm": pl.Time,
        "dur": pl.Duration("us"),
        "bin": pl.Binary,
    }
    assert dict(back.schema) == expected
    for name in data.columns:
        if name in ("j", "nothing"):
            continue
        assert back[name].to_list() == data[name].to_list(), name
    assert back["nothing"].to_list() == [None, None, None]
    # JSON comes back as its text; parsing it gives the documents written
    import json

    assert [json.loads(v) if v else v for v in back["j"].to_list()] == [
        {"a": 1, "b": "x"},
        None,
        {"a": 2, "b": None},
    ]


def test_postgres_native_types_read_faithfully(postgres_url: str, sql_pg) -> None:
    table = sql_pg.table("native")
    sql_pg.execute(
        f"CREATE TABLE {table} (n NUMERIC(12, 3), free NUMERIC, r REAL, j JSONB, js JSON, "
        "u UUID, tz TIMESTAMPTZ, arr INT[], e TEXT)",
        f"INSERT INTO {table} VALUES (1.5, 2.123456789012, 0.5, '{{\"k\": [1, 2]}}', "
        "'{\"a\": 1}', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', "
        "'2024-01-01 12:00:00+02', '{1,2}', NULL)",
    )
    for fast in (True, False):
        back = sql_pg.read(table, fast_path=fast)
        assert back.schema["n"] == pl.Decimal(12, 3)
        assert back.schema["free"] == pl.Decimal(38, 9)
        assert back.schema["r"] == pl.Float32
        assert back.row(0) == (
            Decimal("1.500"),
            Decimal("2.123456789"),
            0.5,
            '{"k": [1, 2]}',
            '{"a": 1}',
            "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
            dt.datetime(2024, 1, 1, 10, 0, tzinfo=UTC),
            "{1,2}",
            None,
        ), fast
