"""Stream operators against the batch step, without a broker: any split of the same rows
into micro-batches gives the batch result (hypothesis)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocht.errors import InvalidPipeline
from ocht.pipeline_model import Aggregate, Dedupe
from ocht.testkit import assert_same_rows
from ocht.transform import BuildContext, build_step, stream_operator

T0 = datetime(2024, 1, 1)
SCHEMA = pl.Schema({"k": pl.String, "v": pl.Int64, "ts": pl.Datetime("us")})


@st.composite
def rows_and_cuts(draw: Any) -> tuple[pl.DataFrame, list[int]]:
    n = draw(st.integers(1, 120))
    minutes = sorted(draw(st.lists(st.integers(0, 600), min_size=n, max_size=n)))
    frame = pl.DataFrame(
        {
            "k": draw(st.lists(st.sampled_from(["a", "b", "c", None]), min_size=n, max_size=n)),
            "v": draw(st.lists(st.one_of(st.none(), st.integers(-50, 50)), min_size=n, max_size=n)),
            "ts": [T0 + timedelta(minutes=m) for m in minutes],
        },
        schema=SCHEMA,
    )
    cuts = sorted(set(draw(st.lists(st.integers(1, n), max_size=6))))
    return frame, cuts


def split(frame: pl.DataFrame, cuts: list[int]) -> list[pl.DataFrame]:
    bounds = [0, *cuts, frame.height]
    return [frame.slice(a, b - a) for a, b in itertools.pairwise(bounds)]


def batch_result(spec: Any) -> Any:
    return build_step(spec, BuildContext("s", "steps[0]", (SCHEMA,)))


def run_stream_op(spec: Any, parts: list[pl.DataFrame], *, restore: bool) -> pl.DataFrame:
    op = stream_operator(spec, SCHEMA, step_id="s", path="steps[0]")
    assert op is not None
    out = []
    for i, part in enumerate(parts):
        if restore and i:  # a restart between every batch: state through bytes only
            fresh = stream_operator(spec, SCHEMA, step_id="s", path="steps[0]")
            assert fresh is not None
            fresh.restore(op.snapshot())
            op = fresh
        out.append(op.process(part, now=float(i)).rows)
    last = op.flush()
    if last is not None:
        out.append(last)
    return pl.concat([o for o in out if o.width], how="vertical_relaxed")


AGGS = {
    "total": "sum(v)",
    "n": "count(*)",
    "nv": "count(v)",
    "lo": "min(v)",
    "hi": "max(v)",
    "mean": "avg(v)",
}


@settings(max_examples=60, deadline=None)
@given(
    rows_and_cuts(), st.sampled_from([("1h", None), ("1h", "3h"), ("30m", "90m")]), st.booleans()
)
def test_windowed_aggregate_equals_batch(data: Any, window: Any, restore: bool) -> None:
    frame, cuts = data
    every, period = window
    spec = Aggregate(
        kind="aggregate",
        by=["k"],
        aggs=AGGS,
        window={"column": "ts", "every": every, "period": period},
    )
    expected = batch_result(spec).apply([frame.lazy()]).collect()
    got = run_stream_op(spec, split(frame, cuts), restore=restore)
    assert_same_rows(expected, got)


@settings(max_examples=60, deadline=None)
@given(rows_and_cuts(), st.booleans())
def test_running_aggregate_upserts_end_at_the_batch_result(data: Any, restore: bool) -> None:
    frame, cuts = data
    spec = Aggregate(kind="aggregate", by=["k"], aggs=AGGS)
    expected = batch_result(spec).apply([frame.lazy()]).collect()
    got = run_stream_op(spec, split(frame, cuts), restore=restore)
    assert_same_rows(expected, got.unique(["k"], keep="last", maintain_order=True))


@settings(max_examples=60, deadline=None)
@given(rows_and_cuts(), st.booleans())
def test_dedupe_equals_batch(data: Any, restore: bool) -> None:
    frame, cuts = data
    spec = Dedupe(kind="dedupe", keys=["k"])
    expected = batch_result(spec).apply([frame.lazy()]).collect()
    got = run_stream_op(spec, split(frame, cuts), restore=restore)
    assert_same_rows(expected, got, sort=False)


def test_late_records_are_returned_and_windows_emit_on_the_watermark() -> None:
    spec = Aggregate(
        kind="aggregate",
        aggs={"n": "count(*)"},
        window={"column": "ts", "every": "1h", "allowed_lateness": "10m"},
    )
    op = stream_operator(spec, SCHEMA, step_id="s", path="steps[0]")
    assert op is not None
    first = op.process(pl.DataFrame({"k": ["a"], "v": [1], "ts": [T0]}, schema=SCHEMA), now=0)
    assert first.rows.height == 0  # the 00:00 window is open
    mid = op.process(
        pl.DataFrame({"k": ["a"], "v": [1], "ts": [T0 + timedelta(minutes=65)]}, schema=SCHEMA),
        now=1,
    )
    assert mid.rows.height == 0  # watermark 00:55: still open (lateness)
    late_ok = op.process(
        pl.DataFrame({"k": ["a"], "v": [1], "ts": [T0 + timedelta(minutes=5)]}, schema=SCHEMA),
        now=2,
    )
    assert late_ok.late is None or late_ok.late.height == 0
    closing = op.process(
        pl.DataFrame({"k": ["a"], "v": [1], "ts": [T0 + timedelta(minutes=75)]}, schema=SCHEMA),
        now=3,
    )
    assert closing.rows["n"].to_list() == [2]  # watermark 01:05 passed 01:00
    too_late = op.process(pl.DataFrame({"k": ["a"], "v": [1], "ts": [T0]}, schema=SCHEMA), now=4)
    assert too_late.late is not None and too_late.late.height == 1


def test_idle_timeout_closes_windows() -> None:
    spec = Aggregate(
        kind="aggregate",
        aggs={"n": "count(*)"},
        window={"column": "ts", "every": "1h", "idle_timeout": "30s"},
    )
    op = stream_operator(spec, SCHEMA, step_id="s", path="steps[0]")
    assert op is not None
    op.process(pl.DataFrame({"k": ["a"], "v": [1], "ts": [T0]}, schema=SCHEMA), now=100.0)
    assert not op.idle_due(now=110.0) and op.on_idle(now=110.0) is None
    assert op.idle_due(now=131.0)
    out = op.on_idle(now=131.0)
    assert out is not None and out["n"].to_list() == [1]


def test_dedupe_forgets_keys_after_ttl() -> None:
    op = stream_operator(
        Dedupe(kind="dedupe", keys=["k"], ttl="1m"), SCHEMA, step_id="s", path="steps[0]"
    )
    assert op is not None
    row = pl.DataFrame({"k": ["a"], "v": [1], "ts": [T0]}, schema=SCHEMA)
    assert op.process(row, now=0).rows.height == 1
    assert op.process(row, now=30).rows.height == 0
    assert op.process(row, now=61).rows.height == 1


@pytest.mark.parametrize(
    ("aggs", "keep"), [({"m": "median(v)"}, "first"), ({"d": "count(distinct v)"}, "first")]
)
def test_unmergeable_aggregates_are_refused(aggs: dict[str, str], keep: str) -> None:
    with pytest.raises(InvalidPipeline) as err:
        stream_operator(
            Aggregate(kind="aggregate", aggs=aggs), SCHEMA, step_id="s", path="steps[0]"
        )
    assert err.value.code == "not-streamable"
    assert err.value.issues[0].path.startswith("steps[0].aggs.")


def test_dedupe_keep_last_is_refused() -> None:
    with pytest.raises(InvalidPipeline) as err:
        stream_operator(
            Dedupe(kind="dedupe", keys=["k"], keep="last"), SCHEMA, step_id="s", path="steps[0]"
        )
    assert err.value.code == "not-streamable"
    assert "keep: first" in (err.value.hint or "")


# -- partitions: event time per partition, state per partition ---------------------------
@st.composite
def partitioned(draw: Any) -> tuple[pl.DataFrame, list[list[pl.DataFrame]], list[int]]:
    """Time-ordered rows spread over partitions (random, by key, or skewed), each
    partition cut into micro-batches, and an interleaving of those batches."""
    frame, _ = draw(rows_and_cuts())
    n_parts = draw(st.sampled_from([1, 3, 8]))
    how = draw(st.sampled_from(["random", "keyed", "skewed"]))
    if how == "keyed":
        part_of = [hash(k) % n_parts for k in frame["k"].to_list()]
    elif how == "skewed":
        part_of = [0 if draw(st.booleans()) or n_parts == 1 else 1 for _ in range(frame.height)]
    else:
        part_of = draw(
            st.lists(st.integers(0, n_parts - 1), min_size=frame.height, max_size=frame.height)
        )
    tagged = frame.with_columns(pl.Series("__p", part_of))
    parts = []
    for p in range(n_parts):
        rows = tagged.filter(pl.col("__p") == p).drop("__p")
        size = draw(st.integers(1, 40))
        parts.append([rows.slice(i, size) for i in range(0, rows.height, size)] or [rows])
    # any interleaving that keeps each partition's own order (a backlog read unevenly)
    order = draw(st.permutations([p for p, chunks in enumerate(parts) for _ in chunks]))
    return frame, parts, list(order)


def run_partitioned(
    spec: Any, parts: list[list[pl.DataFrame]], order: list[int], restart_every: int
) -> tuple[pl.DataFrame, int]:
    op = stream_operator(spec, SCHEMA, step_id="s", path="steps[0]")
    assert op is not None
    names = [f"t:{p}" for p in range(len(parts))]
    op.assign(names)
    op.positions(set())  # a backlog: no partition is at its end
    out, late, cursor = [], 0, [0] * len(parts)
    for i, p in enumerate(order):
        if restart_every and i and i % restart_every == 0:
            # a restart: each partition's state through its own checkpoint bytes
            saved = {n: op.snapshot(n) for n in names}
            op = stream_operator(spec, SCHEMA, step_id="s", path="steps[0]")
            assert op is not None
            op.assign(names)
            op.positions(set())
            for data in saved.values():
                op.restore(data)
        chunk = parts[p][cursor[p]]
        cursor[p] += 1
        result = op.process(chunk, now=float(i), part=names[p])
        out.append(result.rows)
        late += 0 if result.late is None else result.late.height
    last = op.flush()
    if last is not None:
        out.append(last)
    return pl.concat([o for o in out if o.width], how="vertical_relaxed"), late


@settings(max_examples=25, deadline=None)
@given(
    partitioned(),
    st.sampled_from([("1h", None), ("30m", "90m")]),
    st.sampled_from([0, 3]),
)
def test_windows_over_partitions_equal_batch_in_any_interleaving(
    data: Any, window: Any, restart_every: int
) -> None:
    frame, parts, order = data
    every, period = window
    spec = Aggregate(
        kind="aggregate",
        by=["k"],
        aggs=AGGS,
        window={"column": "ts", "every": every, "period": period},
    )
    expected = batch_result(spec).apply([frame.lazy()]).collect()
    got, late = run_partitioned(spec, parts, order, restart_every)
    assert late == 0  # each partition is in time order: nothing is late in its own order
    assert_same_rows(expected, got)


@settings(max_examples=20, deadline=None)
@given(partitioned(), st.sampled_from([0, 2]))
def test_running_aggregate_and_dedupe_over_partitions_equal_batch(
    data: Any, restart_every: int
) -> None:
    frame, parts, order = data
    running = Aggregate(kind="aggregate", by=["k"], aggs=AGGS)
    expected = batch_result(running).apply([frame.lazy()]).collect()
    got, _ = run_partitioned(running, parts, order, restart_every)
    assert_same_rows(expected, got.unique(["k"], keep="last", maintain_order=True))
    dedupe = Dedupe(kind="dedupe")  # every column: duplicates are identical rows
    expected = batch_result(dedupe).apply([frame.lazy()]).collect()
    got, _ = run_partitioned(dedupe, parts, order, restart_every)
    assert_same_rows(expected, got)


def test_a_partition_behind_holds_the_watermark_until_it_is_idle() -> None:
    spec = Aggregate(
        kind="aggregate",
        aggs={"n": "count(*)"},
        window={"column": "ts", "every": "1h", "idle_timeout": "30s"},
    )
    op = stream_operator(spec, SCHEMA, step_id="s", path="steps[0]")
    assert op is not None
    op.assign(["t:0", "t:1"])
    op.positions(set())

    def rows(minutes: int) -> pl.DataFrame:
        return pl.DataFrame(
            {"k": ["a"], "v": [1], "ts": [T0 + timedelta(minutes=minutes)]}, schema=SCHEMA
        )

    assert op.process(rows(0), now=0, part="t:0").rows.height == 0
    # partition 0 runs hours ahead; partition 1 has not sent anything and is not at its end
    assert op.process(rows(300), now=1, part="t:0").rows.height == 0
    # partition 1's old record is not late: it is in order in its own partition
    out = op.process(rows(10), now=2, part="t:1")
    assert (out.late is None or out.late.height == 0) and out.rows.height == 0
    # the watermark is the slower partition's time: 01:30 closes the 00:00 window
    out = op.process(rows(90), now=3, part="t:1")
    assert out.rows["n"].to_list() == [2]
    # partition 1 caught up and silent past idle_timeout: it stops holding the watermark
    op.process(rows(400), now=4, part="t:0")
    op.positions({"t:1"})
    assert not op.idle_due(now=20)
    assert op.idle_due(now=40)
    emitted = op.on_idle(now=40)
    assert emitted is not None
    assert sorted(emitted["window_start"].dt.hour().to_list()) == [1, 5]  # 06:00 stays open
    # a revoked partition's state is gone; its checkpoint bytes bring it back
    saved = op.snapshot("t:0")
    op.revoke(["t:0"])
    assert "t:0" not in op.parts()
    op.restore(saved)
    assert "t:0" in op.parts()
