"""Incremental loads across runs, fed back through the store as the executor will."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest

import ocht.connector_sql.incremental as incremental
from ocht.store import Store

T0 = dt.datetime(2024, 5, 1, 10, 0)


def _rows(*items: tuple[int, int]) -> pl.DataFrame:
    """(id, minutes after T0) pairs as rows."""
    return pl.DataFrame(
        {
            "id": [i for i, _ in items],
            "ts": [T0 + dt.timedelta(minutes=m) for _, m in items],
            "v": [f"v{i}" for i, _ in items],
        }
    )


def _run(sql, store: Store, table: str, **kw) -> pl.DataFrame:
    """One run: state from the store in, rows out, state back to the store."""
    ctx = sql.context(state=store.get_state("demo"), full_refresh=kw.pop("full_refresh", False))
    src = sql.source(
        ctx=ctx, name="src", table=table, cursor="ts", primary_key=["id"], chunk_size=2, **kw
    )
    got = src.scan().collect()
    new = src.state()
    if new is not None:
        json.dumps(new)  # what the store keeps must be JSON
        store.set_state("demo", {"src": new})
    return got


@pytest.fixture
def store(tmp_path) -> Store:
    s = Store(base_dir=tmp_path)
    yield s
    s.close()


def test_three_runs_with_rows_at_the_boundary(sql, store: Store) -> None:
    table = sql.table("events")
    sql.load(table, _rows((1, 0), (2, 1), (3, 2), (4, 2)))

    first = _run(sql, store, table)
    assert sorted(first["id"]) == [1, 2, 3, 4]
    state = store.get_state("demo")["src"]
    assert state["cursor"] == "ts" and state["value"].startswith("2024-05-01T10:02")
    assert sorted(state["boundary_keys"]) == [[3], [4]]

    sql.load(table, _rows((5, 2), (6, 3)))  # 5 shares the last value: must not be lost
    second = _run(sql, store, table)
    assert sorted(second["id"]) == [5, 6]

    sql.load(table, _rows((7, 3), (8, 3), (9, 1)))  # 9 is late, before the cursor
    third = _run(sql, store, table)
    assert sorted(third["id"]) == [7, 8]
    assert sorted(store.get_state("demo")["src"]["boundary_keys"]) == [[6], [7], [8]]

    assert _run(sql, store, table).height == 0  # nothing new: nothing read, state kept
    assert sorted(store.get_state("demo")["src"]["boundary_keys"]) == [[6], [7], [8]]

    seen = pl.concat([first, second, third])
    assert seen["id"].n_unique() == seen.height  # nothing doubled


def test_full_refresh_ignores_state(sql, store: Store) -> None:
    table = sql.table("events")
    sql.load(table, _rows((1, 0), (2, 1)))
    _run(sql, store, table)
    assert _run(sql, store, table).height == 0
    again = _run(sql, store, table, full_refresh=True)
    assert sorted(again["id"]) == [1, 2]


def test_lookback_rereads_a_window_for_late_rows(sql, store: Store) -> None:
    table = sql.table("events")
    sql.load(table, _rows((1, 0), (2, 10), (3, 20)))
    _run(sql, store, table, lookback="15m")
    sql.load(table, _rows((4, 12)))  # late: behind the cursor, inside the window
    got = _run(sql, store, table, lookback="15m")
    assert sorted(got["id"]) == [2, 4]  # 3 (at the boundary) is skipped by key


def test_integer_cursor_and_numeric_lookback(sql, store: Store) -> None:
    table = sql.table("seq")
    sql.load(table, pl.DataFrame({"id": [1, 2, 3], "ts": [10, 20, 30]}))
    assert _run(sql, store, table).height == 3
    sql.load(table, pl.DataFrame({"id": [4, 5], "ts": [25, 31]}))
    assert sorted(_run(sql, store, table, lookback=10)["id"]) == [2, 4, 5]


def test_a_limited_read_does_not_move_the_cursor(sql, store: Store) -> None:
    table = sql.table("events")
    sql.load(table, _rows((1, 0), (2, 1), (3, 2)))
    src = sql.source(ctx=sql.context(), table=table, cursor="ts", primary_key=["id"])
    assert src.scan().head(1).collect().height == 1
    assert src.state() is None


def test_state_for_another_cursor_is_ignored(sql, store: Store) -> None:
    table = sql.table("events")
    sql.load(table, _rows((1, 0), (2, 1)))
    store.set_state(
        "demo",
        {"src": {"cursor": "other", "value": 99, "primary_key": ["id"], "boundary_keys": []}},
    )
    assert _run(sql, store, table).height == 2


def test_past_the_boundary_cap_rows_are_read_again_not_lost(sql, store: Store, monkeypatch) -> None:
    monkeypatch.setattr(incremental, "BOUNDARY_CAP", 2)
    table = sql.table("events")
    sql.load(table, _rows((1, 0), (2, 5), (3, 5), (4, 5)))
    _run(sql, store, table)
    state = store.get_state("demo")["src"]
    assert state["boundary_overflow"] is True and state["boundary_keys"] == []
    sql.load(table, _rows((5, 5)))
    got = _run(sql, store, table)
    assert sorted(got["id"]) == [2, 3, 4, 5]  # at-least-once at the boundary value


def test_timestamptz_cursor(sql, store: Store) -> None:
    table = sql.table("tz")
    utc = dt.UTC
    frame = pl.DataFrame(
        {
            "id": [1, 2],
            "ts": [dt.datetime(2024, 1, 1, tzinfo=utc), dt.datetime(2024, 1, 2, tzinfo=utc)],
        }
    )
    sql.load(table, frame)
    assert _run(sql, store, table).height == 2
    assert store.get_state("demo")["src"]["value"] == "2024-01-02T00:00:00+00:00"
    sql.load(
        table,
        pl.DataFrame(
            {
                "id": [3, 4],
                "ts": [dt.datetime(2024, 1, 2, tzinfo=utc), dt.datetime(2024, 1, 3, tzinfo=utc)],
            }
        ),
    )
    assert sorted(_run(sql, store, table)["id"]) == [3, 4]
