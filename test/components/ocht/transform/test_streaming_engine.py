"""The steps' queries run in Polars' streaming engine, with the in-memory engine's rows.

Polars runs an operation it cannot stream through an "in-memory-map" node (it collects
its whole input first); the verbose log names every node that ran.
"""

from datetime import datetime, timedelta

import polars as pl
import pytest

from ocht.testkit import assert_same_rows, frame, orders

ORDERS = orders(120)
EVENTS = frame(
    [
        {
            "k": "ab"[i % 2],
            "ts": datetime(2024, 1, 1) + timedelta(minutes=7 * i),
            "v": i,
            "tags": [i, i + 1],
            "who": {"n": i},
        }
        for i in range(40)
    ]
)
CUSTOMERS = frame([{"customer_id": i, "tier": "gold" if i % 3 else "basic"} for i in range(1, 20)])

CASES = {
    "filter": ({"kind": "filter", "where": "amount > 100 and status = 'paid'"}, [ORDERS]),
    "filter-typed": ({"kind": "filter", "where": "date_trunc('day', ts) = '2024-01-01'"}, [ORDERS]),
    "derive": (
        {"kind": "derive", "columns": {"eur": "amount * 0.9", "day": "date_trunc('day', ts)"}},
        [ORDERS],
    ),
    "select": ({"kind": "select", "columns": {"id": "order_id", "c": "lower(country)"}}, [ORDERS]),
    "cast": ({"kind": "cast", "columns": {"amount": "decimal(10,2)", "ts": "date"}}, [ORDERS]),
    "fill_null": ({"kind": "fill_null", "value": 0}, [ORDERS]),
    "dedupe-first": ({"kind": "dedupe", "keys": "customer_id"}, [ORDERS]),
    "dedupe-last": ({"kind": "dedupe", "keys": "customer_id", "keep": "last"}, [ORDERS]),
    "dedupe-order": (
        {"kind": "dedupe", "keys": "customer_id", "order_by": "amount", "keep": "last"},
        [ORDERS],
    ),
    "aggregate": (
        {"kind": "aggregate", "by": "country", "aggs": {"s": "sum(amount)", "n": "count(*)"}},
        [ORDERS],
    ),
    "tumbling": (
        {
            "kind": "aggregate",
            "by": "k",
            "aggs": {"s": "sum(v)"},
            "window": {"column": "ts", "every": "1h"},
        },
        [EVENTS],
    ),
    "hopping": (
        {
            "kind": "aggregate",
            "by": "k",
            "aggs": {"s": "sum(v)"},
            "window": {"column": "ts", "every": "30m", "period": "2h"},
        },
        [EVENTS],
    ),
    "join": (
        {"kind": "join", "with": "c", "on": "customer_id", "how": "left"},
        [ORDERS, CUSTOMERS],
    ),
    "anti-join": (
        {"kind": "join", "with": "c", "on": "customer_id", "how": "anti"},
        [ORDERS, CUSTOMERS],
    ),
    "union": ({"kind": "union", "with": "c"}, [ORDERS, CUSTOMERS]),
    "explode": ({"kind": "explode", "columns": "tags"}, [EVENTS]),
    "unnest": ({"kind": "unnest", "columns": "who", "separator": "_"}, [EVENTS]),
    "route": ({"kind": "route", "routes": {"big": "amount > 250"}}, [ORDERS]),
    "sql": ({"kind": "sql", "query": "SELECT order_id, amount * 2 AS a FROM self"}, [ORDERS]),
}
# ordered by whole input: these stream too, but are batch-only for their meaning
BATCH_ONLY = {
    "sort": ({"kind": "sort", "by": "amount"}, [ORDERS]),
    "limit": ({"kind": "limit", "n": 5, "offset": 2}, [ORDERS]),
}


def _comparable(df: pl.DataFrame) -> pl.DataFrame:
    nested = [c for c, t in df.schema.items() if t.is_nested()]
    return df.drop(nested) if nested else df


@pytest.mark.parametrize("case", list(CASES) + list(BATCH_ONLY))
def test_streaming_engine_gives_the_same_rows(steps, case) -> None:
    options, frames = {**CASES, **BATCH_ONLY}[case]
    step = steps.build(options, *frames)
    lazy = [f.lazy() for f in frames]
    for branch, fn in step.outputs.items():
        in_memory = fn(lazy).collect(engine="in-memory")
        streamed = fn(lazy).collect(engine="streaming")
        assert in_memory.height > 0, branch
        if case in BATCH_ONLY:
            assert streamed.equals(in_memory)
        else:
            assert_same_rows(_comparable(streamed), _comparable(in_memory))


@pytest.mark.parametrize("case", list(CASES))
def test_no_step_falls_back_to_the_in_memory_engine(steps, case, capfd) -> None:
    options, frames = CASES[case]
    step = steps.build(options, *frames)
    capfd.readouterr()
    with pl.Config(verbose=True):
        for fn in step.outputs.values():
            fn([f.lazy() for f in frames]).collect(engine="streaming")
    log = capfd.readouterr().err
    assert "polars-stream: running" in log, "the verbose log changed: fix this test"
    assert "in-memory-map" not in log
