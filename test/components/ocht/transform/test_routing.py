import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import frame
from ocht.transform import MAIN

ROWS = frame([{"id": i, "v": v} for i, v in enumerate([1, 5, 50, None, 500])])
ROUTES = {"big": "v > 100", "medium": "v > 3", "small": "v <= 3"}


def _ids(steps, options: dict, branch: str, data: pl.DataFrame = ROWS) -> list[int]:
    return steps.run({"kind": "route", **options}, data, branch=branch)["id"].to_list()


def test_first_mode_sends_a_row_to_its_first_match_only(steps) -> None:
    opts = {"routes": ROUTES}
    assert _ids(steps, opts, "big") == [4]
    assert _ids(steps, opts, "medium") == [1, 2]
    assert _ids(steps, opts, "small") == [0]
    # null v matches nothing: null is false
    assert _ids(steps, opts, "default") == [3]


def test_all_mode_sends_a_row_to_every_match(steps) -> None:
    opts = {"routes": ROUTES, "mode": "all", "default": "rest"}
    assert _ids(steps, opts, "big") == [4]
    assert _ids(steps, opts, "medium") == [1, 2, 4]
    assert _ids(steps, opts, "rest") == [3]


def test_outputs_are_the_branches(steps) -> None:
    step = steps.build({"kind": "route", "routes": ROUTES, "default": None}, ROWS)
    assert list(step.outputs) == ["big", "medium", "small"]
    assert MAIN not in step.outputs
    named = steps.build({"kind": "route", "routes": ROUTES, "default": "other"}, ROWS)
    assert list(named.outputs) == ["big", "medium", "small", "other"]


def test_null_default_drops_unmatched_rows(steps) -> None:
    step = steps.build({"kind": "route", "routes": {"big": "v > 10"}, "default": None}, ROWS)
    frames = [ROWS.lazy()]
    assert sum(f(frames).collect().height for f in step.outputs.values()) == 2


def test_route_with_a_function_that_needs_types(steps) -> None:
    data = frame([{"id": 1, "ts": "2024-01-01 10:00"}, {"id": 2, "ts": "2024-01-02 10:00"}])
    data = data.with_columns(pl.col("ts").str.to_datetime())
    opts = {"routes": {"new_year": "date_trunc('day', ts) = '2024-01-01'"}}
    out = steps.run({"kind": "route", **opts}, data, branch="new_year")
    assert out.columns == ["id", "ts"]
    assert out["id"].to_list() == [1]
    assert _ids(steps, opts, "default", data) == [2]


def test_route_errors(steps) -> None:
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "route", "routes": {"a": "vv > 1"}}, ROWS)
    assert err.value.issues[0].path == "steps[3].routes.a"
    with pytest.raises(InvalidPipeline, match="true or false") as err2:
        steps.build({"kind": "route", "routes": {"a": "v + 1"}}, ROWS)
    assert err2.value.code == "invalid-expression"
    with pytest.raises(InvalidPipeline, match="also a routed branch") as err2:
        steps.build({"kind": "route", "routes": {"default": "v > 1"}}, ROWS)
    assert err2.value.issues[0].path == "steps[3].default"


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.one_of(st.none(), st.integers(-50, 50)), max_size=30),
    thresholds=st.lists(st.integers(-60, 60), min_size=1, max_size=4),
)
def test_first_mode_partitions_rows(values, thresholds) -> None:
    from ocht.pipeline_model import Route
    from ocht.transform import BuildContext, build_step

    data = pl.DataFrame(
        {"id": range(len(values)), "v": values}, schema={"id": pl.Int64, "v": pl.Int64}
    )
    routes = {f"b{i}": f"v > {t}" for i, t in enumerate(thresholds)}
    step = build_step(
        Route(kind="route", routes=routes), BuildContext("r", "steps[0]", (data.schema,))
    )
    parts = [fn([data.lazy()]).collect()["id"].to_list() for fn in step.outputs.values()]
    every = sorted(i for part in parts for i in part)
    assert every == list(range(len(values)))
