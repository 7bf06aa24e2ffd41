from datetime import date, datetime, time
from decimal import Decimal

import polars as pl
import pytest

from ocht.errors import InvalidPipeline
from ocht.transform import cast_expr, parse_dtype


@pytest.mark.parametrize(
    ("text", "dtype"),
    [
        ("int8", pl.Int8()),
        ("INT16", pl.Int16()),
        ("int32", pl.Int32()),
        ("int64", pl.Int64()),
        ("uint8", pl.UInt8()),
        ("uint16", pl.UInt16()),
        ("uint32", pl.UInt32()),
        ("uint64", pl.UInt64()),
        ("i64", pl.Int64()),
        ("int", pl.Int32()),
        ("integer", pl.Int32()),
        ("bigint", pl.Int64()),
        ("float32", pl.Float32()),
        ("float64", pl.Float64()),
        ("float", pl.Float64()),
        ("double", pl.Float64()),
        ("real", pl.Float32()),
        ("string", pl.String()),
        ("str", pl.String()),
        ("utf8", pl.String()),
        ("text", pl.String()),
        ("bool", pl.Boolean()),
        ("boolean", pl.Boolean()),
        ("date", pl.Date()),
        ("time", pl.Time()),
        ("binary", pl.Binary()),
        ("categorical", pl.Categorical()),
        ("datetime", pl.Datetime("us")),
        ("timestamp", pl.Datetime("us")),
        ("datetime[ms]", pl.Datetime("ms")),
        ("datetime[us, UTC]", pl.Datetime("us", "UTC")),
        ("datetime[ns, Europe/Paris]", pl.Datetime("ns", "Europe/Paris")),
        ("duration", pl.Duration("us")),
        ("duration[ms]", pl.Duration("ms")),
        ("decimal(10,2)", pl.Decimal(10, 2)),
        ("decimal(12, 3)", pl.Decimal(12, 3)),
        ("numeric(5)", pl.Decimal(5, 0)),
        ("list[int64]", pl.List(pl.Int64)),
        ("  Float64 ", pl.Float64()),
    ],
)
def test_type_names(text: str, dtype: pl.DataType) -> None:
    assert parse_dtype(text) == dtype


def test_sql_names_agree_with_polars_sql() -> None:
    frame = pl.LazyFrame(schema={"v": pl.Int64})
    for name in ("int", "integer", "bigint", "float", "double", "real", "smallint"):
        via_sql = frame.select(pl.sql_expr(f"cast(v as {name})")).collect_schema()["v"]
        assert parse_dtype(name) == via_sql, name


def test_unknown_type_suggests_the_nearest_name() -> None:
    with pytest.raises(InvalidPipeline) as err:
        parse_dtype("inr64", step="c", path="steps[1].columns.a")
    assert err.value.code == "invalid-type"
    issue = err.value.issues[0]
    assert issue.path == "steps[1].columns.a"
    assert issue.hint == "did you mean 'int64'?"
    assert "step 'c'" in issue.message


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("datetime[xs]", "unit one of ns, us, ms"),
        ("datetime[us, Mars/Base]", "unknown time zone 'Mars/Base'"),
        ("decimal(a,b)", "whole numbers"),
        ("list", "expected list[type]"),
        ("list[nope]", "unknown type"),
        ("map[int]", "unknown type"),
    ],
)
def test_malformed_types(text: str, reason: str) -> None:
    with pytest.raises(InvalidPipeline, match="invalid type") as err:
        parse_dtype(text)
    assert err.value.code == "invalid-type"
    assert reason in err.value.message


def test_strings_parse_into_temporal_and_boolean_types() -> None:
    df = pl.DataFrame(
        {"d": ["2024-02-03"], "t": ["2024-02-03 04:05:06"], "h": ["04:05:06"], "b": [" YES "]}
    )
    out = df.select(
        cast_expr(pl.col("d"), pl.String(), pl.Date()),
        cast_expr(pl.col("t"), pl.String(), pl.Datetime("ms", "UTC")),
        cast_expr(pl.col("h"), pl.String(), pl.Time()),
        cast_expr(pl.col("b"), pl.String(), pl.Boolean()),
    )
    assert out["d"].item() == date(2024, 2, 3)
    assert out["h"].item() == time(4, 5, 6)
    assert out["b"].item() is True
    assert out["t"].dtype == pl.Datetime("ms", "UTC")
    assert out["t"].dt.replace_time_zone(None).item() == datetime(2024, 2, 3, 4, 5, 6)


def test_strict_boolean_cast_fails_on_other_words() -> None:
    df = pl.DataFrame({"b": ["true", "maybe"]})
    with pytest.raises(pl.exceptions.PolarsError):
        df.select(cast_expr(pl.col("b"), pl.String(), pl.Boolean(), strict=True))
    lenient = df.select(cast_expr(pl.col("b"), pl.String(), pl.Boolean(), strict=False))
    assert lenient["b"].to_list() == [True, None]


def test_decimal_cast() -> None:
    df = pl.DataFrame({"n": ["1.5", "2"]})
    out = df.select(cast_expr(pl.col("n"), pl.String(), parse_dtype("decimal(10,2)")))
    assert out["n"].to_list() == [Decimal("1.50"), Decimal("2.00")]


@pytest.mark.parametrize(
    "dtype",
    [
        pl.Int8(),
        pl.UInt64(),
        pl.Float32(),
        pl.String(),
        pl.Boolean(),
        pl.Date(),
        pl.Time(),
        pl.Binary(),
        pl.Datetime("us"),
        pl.Datetime("ms", "UTC"),
        pl.Duration("ns"),
        pl.Decimal(10, 2),
        pl.List(pl.Int64()),
    ],
)
def test_dtype_name_reads_back(dtype):
    from ocht.transform import dtype_name

    assert parse_dtype(dtype_name(dtype)) == dtype


def test_a_type_with_a_format() -> None:
    from ocht.errors import InvalidPipeline
    from ocht.transform import parse_dtype_format

    assert parse_dtype_format("datetime('%d/%m/%Y %H:%M')") == (
        pl.Datetime("us"),
        "%d/%m/%Y %H:%M",
    )
    assert parse_dtype_format('date("%d.%m.%Y")') == (pl.Date(), "%d.%m.%Y")
    assert parse_dtype_format("datetime('%Y %z', ms, UTC)") == (pl.Datetime("ms", "UTC"), "%Y %z")
    assert parse_dtype_format("int64") == (pl.Int64(), None)
    with pytest.raises(InvalidPipeline):
        parse_dtype_format("date('%d', us)")
