from collections import defaultdict
from datetime import date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import assert_same_rows, frame, orders

T0 = datetime(2024, 1, 1)


def test_aggregates_match_a_hand_computation(steps) -> None:
    data = orders(200)
    out = steps.run(
        {
            "kind": "aggregate",
            "by": "country",
            "aggs": {
                "total": "sum(amount)",
                "mean": "avg(amount)",
                "low": "min(amount)",
                "high": "max(amount)",
                "n": "count(*)",
                "customers": "count(distinct customer_id)",
                "refunds": "sum(case when status = 'refunded' then 1 else 0 end)",
            },
        },
        data,
    )
    groups: dict[str, list[dict]] = defaultdict(list)
    for row in data.iter_rows(named=True):
        groups[row["country"]].append(row)
    expected = frame(
        [
            {
                "country": c,
                "total": sum(r["amount"] for r in rs),
                "mean": sum(r["amount"] for r in rs) / len(rs),
                "low": min(r["amount"] for r in rs),
                "high": max(r["amount"] for r in rs),
                "n": len(rs),
                "customers": len({r["customer_id"] for r in rs}),
                "refunds": sum(r["status"] == "refunded" for r in rs),
            }
            for c, rs in groups.items()
        ]
    )
    assert out.columns == ["country", "total", "mean", "low", "high", "n", "customers", "refunds"]
    assert_same_rows(out, expected)


def test_aggregate_without_keys_gives_one_row(steps) -> None:
    out = steps.run(
        {"kind": "aggregate", "aggs": {"n": "count(*)", "s": "sum(amount)"}}, orders(10)
    )
    assert out.height == 1
    assert out["n"].item() == 10


def test_non_aggregate_expression_is_refused(steps) -> None:
    with pytest.raises(InvalidPipeline, match="not an aggregate") as err:
        steps.build({"kind": "aggregate", "by": "country", "aggs": {"x": "amount * 2"}}, orders(3))
    assert err.value.code == "invalid-expression"
    assert err.value.issues[0].path == "steps[3].aggs.x"


def test_aggregate_errors_name_the_field(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "aggregate", "by": ["contry"], "aggs": {"n": "count(*)"}}, orders(3))
    assert err.value.issues[0].path == "steps[3].by[0]"
    assert err.value.details["nearest"] == "country"
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "aggregate", "aggs": {"s": "sum(amout)"}}, orders(3))
    assert err.value.issues[0].path == "steps[3].aggs.s"
    with pytest.raises(InvalidPipeline) as err2:
        steps.build({"kind": "aggregate", "aggs": {"s": "sum(amount"}}, orders(3))
    assert err2.value.code == "invalid-expression"
    with pytest.raises(InvalidPipeline, match="named twice") as err2:
        steps.build(
            {"kind": "aggregate", "by": "country", "aggs": {"country": "count(*)"}}, orders(3)
        )
    assert err2.value.issues[0].path == "steps[3].aggs.country"


def _window(**options) -> dict:
    return {
        "kind": "aggregate",
        "by": ["k"],
        "aggs": {"total": "sum(v)", "n": "count(*)"},
        "window": {"column": "ts", **options},
    }


def test_tumbling_window(steps) -> None:
    data = frame(
        [
            {"k": "a", "ts": T0 + timedelta(minutes=1), "v": 1},
            {"k": "a", "ts": T0 + timedelta(minutes=14), "v": 2},
            {"k": "a", "ts": T0 + timedelta(minutes=15), "v": 4},
            {"k": "b", "ts": T0 + timedelta(minutes=44), "v": 8},
            {"k": "b", "ts": None, "v": 100},
        ]
    )
    out = steps.run(_window(every="15m"), data)
    assert out.columns == ["k", "window_start", "window_end", "total", "n"]
    m = timedelta(minutes=1)
    assert_same_rows(
        out,
        frame(
            [
                {"k": "a", "window_start": T0, "window_end": T0 + 15 * m, "total": 3, "n": 2},
                {
                    "k": "a",
                    "window_start": T0 + 15 * m,
                    "window_end": T0 + 30 * m,
                    "total": 4,
                    "n": 1,
                },
                {
                    "k": "b",
                    "window_start": T0 + 30 * m,
                    "window_end": T0 + 45 * m,
                    "total": 8,
                    "n": 1,
                },
            ]
        ),
    )


def test_hopping_window_counts_a_row_in_every_window_it_falls_in(steps) -> None:
    data = frame([{"k": "a", "ts": T0 + timedelta(minutes=20), "v": 1}])
    out = steps.run(_window(every="10m", period="30m", start_column="from", end_column="to"), data)
    assert sorted(out["from"].to_list()) == [
        T0 - timedelta(minutes=0),
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=20),
    ]
    assert (out["to"] - out["from"]).unique().to_list() == [timedelta(minutes=30)]


def test_window_on_dates(steps) -> None:
    data = frame([{"k": "a", "ts": date(2024, 1, d), "v": d} for d in (1, 2, 8, 31)])
    out = steps.run(_window(every="1w"), data)
    # weeks start on Monday; 2024-01-01 was one
    assert sorted(out["total"].to_list()) == [3, 8, 31]
    assert out["window_start"].dtype == pl.Date
    assert date(2024, 1, 29) in out["window_start"].to_list()


def test_calendar_hopping_windows_equal_group_by_dynamic(steps) -> None:
    data = frame(
        [{"k": "a", "ts": datetime(2024, 1, 1) + timedelta(days=9 * i), "v": i} for i in range(40)]
    )
    out = steps.run(_window(every="1mo", period="3mo"), data)
    expected = _dynamic(data, "1mo", "3mo", None)
    assert_same_rows(_from_first_window(out, data, "1mo", None), expected)
    assert out["window_start"].dt.day().unique().to_list() == [1]


def test_windows_in_a_time_zone_follow_local_days(steps) -> None:
    zone = "Europe/Paris"
    data = frame(
        [
            {"k": "a", "ts": datetime(2024, 3, 30, 23, 30), "v": 1},
            {"k": "a", "ts": datetime(2024, 3, 31, 23, 30), "v": 2},
        ]
    ).with_columns(pl.col("ts").dt.replace_time_zone(zone))
    out = steps.run(_window(every="1d"), data).sort("window_start")
    assert out["window_start"].dt.hour().to_list() == [0, 0]
    # clocks moved forward on 2024-03-31: that day is 23 hours long
    assert (out["window_end"] - out["window_start"]).to_list() == [
        timedelta(hours=24),
        timedelta(hours=23),
    ]


def _dynamic(data: pl.DataFrame, every: str, period: str, offset: str | None) -> pl.DataFrame:
    return (
        data.sort("k", "ts")
        .group_by_dynamic(
            "ts",
            every=every,
            period=period,
            offset=offset,
            group_by="k",
            include_boundaries=True,
            closed="left",
            label="left",
        )
        .agg(total=pl.col("v").sum(), n=pl.len())
        .rename({"_lower_boundary": "window_start", "_upper_boundary": "window_end"})
        .drop("ts")
    )


def _from_first_window(
    out: pl.DataFrame, data: pl.DataFrame, every: str, offset: str | None
) -> pl.DataFrame:
    # group_by_dynamic starts each group at its first row's own window; windows that
    # started earlier and also hold that row are left out there
    first = pl.col("ts").min()
    if offset:
        first = first.dt.offset_by(f"-{offset}").dt.truncate(every).dt.offset_by(offset)
    else:
        first = first.dt.truncate(every)
    firsts = data.group_by("k").agg(first=first)
    return out.join(firsts, on="k").filter(pl.col("window_start") >= pl.col("first")).drop("first")


@pytest.mark.parametrize(
    ("every", "period", "offset"),
    [
        ("15m", "15m", None),
        ("10m", "30m", None),
        ("10m", "25m", None),
        ("1h", "3h", None),
        ("30m", "10m", None),
        ("1d", "2d", "6h"),
        ("20m", "1h", "5m"),
        ("1m", "1d", None),
        ("1w", "2w", None),
        ("1d", "1mo", None),
    ],
)
def test_windows_equal_group_by_dynamic(steps, every, period, offset) -> None:
    data = orders(300).select(k="country", ts="ts", v="customer_id")
    out = steps.run(_window(every=every, period=period, offset=offset), data)
    expected = _dynamic(data, every, period, offset)
    assert_same_rows(_from_first_window(out, data, every, offset), expected)


@settings(max_examples=40, deadline=None)
@given(
    minutes=st.lists(st.integers(0, 24 * 60), min_size=1, max_size=40),
    keys=st.lists(st.sampled_from("ab"), min_size=40, max_size=40),
    every=st.sampled_from([5, 15, 60]),
    hops=st.integers(1, 4),
    offset=st.sampled_from([None, "3m", "7m"]),
)
def test_hopping_windows_equal_group_by_dynamic_property(
    minutes, keys, every, hops, offset
) -> None:
    from ocht.pipeline_model import Aggregate
    from ocht.transform import BuildContext, build_step

    data = frame(
        [{"k": keys[i], "ts": T0 + timedelta(minutes=m), "v": i} for i, m in enumerate(minutes)]
    )
    spec = Aggregate.model_validate(
        _window(every=f"{every}m", period=f"{every * hops}m", offset=offset)
    )
    step = build_step(spec, BuildContext("w", "steps[0]", (data.schema,)))
    out = step.apply([data.lazy()]).collect()
    expected = _dynamic(data, f"{every}m", f"{every * hops}m", offset)
    assert_same_rows(_from_first_window(out, data, f"{every}m", offset), expected)
    # and nothing is counted outside its window
    assert out["n"].sum() == len(minutes) * hops


def test_window_column_must_be_a_time(steps) -> None:
    data = frame([{"k": "a", "ts": "2024-01-01", "v": 1}])
    with pytest.raises(InvalidPipeline, match="not a date or datetime") as err:
        steps.build(_window(every="1h"), data)
    assert err.value.code == "invalid-type"
    assert err.value.issues[0].path == "steps[3].window.column"


def test_window_errors(steps) -> None:
    data = orders(3).select(k="country", ts="ts", v="amount")
    with pytest.raises(UnknownColumn) as err:
        steps.build({**_window(every="1h"), "window": {"column": "tss", "every": "1h"}}, data)
    assert err.value.issues[0].path == "steps[3].window.column"
    for field, value in (
        ("every", "15 minutes"),
        ("every", "0m"),
        ("period", "1x"),
        ("offset", "soon"),
        ("allowed_lateness", "late"),
    ):
        opts = {"every": "1h", field: value}
        with pytest.raises(InvalidPipeline, match="duration") as err2:
            steps.build(_window(**opts), data)
        assert err2.value.code == "invalid-value"
        assert err2.value.issues[0].path == f"steps[3].window.{field}"
    dates = frame([{"k": "a", "ts": date(2024, 1, 1), "v": 1}])
    with pytest.raises(InvalidPipeline, match="whole days") as err2:
        steps.build(_window(every="1h"), dates)
    assert err2.value.issues[0].path == "steps[3].window.every"
    with pytest.raises(InvalidPipeline, match="named twice"):
        steps.build({**_window(every="1h"), "aggs": {"window_end": "count(*)"}}, data)
