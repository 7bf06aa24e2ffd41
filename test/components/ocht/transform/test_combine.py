import polars as pl
import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import assert_same_rows, frame

ORDERS = frame(
    [
        {"id": 1, "cust": 10, "amount": 5},
        {"id": 2, "cust": 20, "amount": 7},
        {"id": 3, "cust": 30, "amount": 9},
    ]
)
CUSTOMERS = frame(
    [
        {"cust": 10, "name": "Ann", "amount": 0},
        {"cust": 20, "name": "Bo", "amount": 1},
        {"cust": 40, "name": "Cy", "amount": 2},
    ]
)


def _join(**options) -> dict:
    return {"kind": "join", "with": "customers", **options}


def test_inner_and_left_join_with_suffix(steps) -> None:
    inner = steps.run(_join(on="cust"), ORDERS, CUSTOMERS)
    assert inner.columns == ["id", "cust", "amount", "name", "amount_right"]
    assert sorted(inner["id"].to_list()) == [1, 2]
    left = steps.run(_join(on=["cust"], how="left", suffix="_c"), ORDERS, CUSTOMERS)
    assert left.sort("id")["name"].to_list() == ["Ann", "Bo", None]
    assert "amount_c" in left.columns


def test_full_join_on_keeps_one_key_column(steps) -> None:
    out = steps.run(_join(on="cust", how="full"), ORDERS, CUSTOMERS)
    assert sorted(out["cust"].to_list()) == [10, 20, 30, 40]
    assert "cust_right" not in out.columns


def test_semi_anti_right_cross(steps) -> None:
    assert steps.run(_join(on="cust", how="semi"), ORDERS, CUSTOMERS)["id"].sort().to_list() == [
        1,
        2,
    ]
    assert steps.run(_join(on="cust", how="anti"), ORDERS, CUSTOMERS)["id"].to_list() == [3]
    right = steps.run(_join(on="cust", how="right"), ORDERS, CUSTOMERS)
    assert sorted(right["name"].to_list()) == ["Ann", "Bo", "Cy"]
    assert steps.run(_join(how="cross"), ORDERS, CUSTOMERS).height == 9


def test_left_on_right_on(steps) -> None:
    people = CUSTOMERS.rename({"cust": "customer_id"})
    out = steps.run(_join(left_on="cust", right_on="customer_id", how="left"), ORDERS, people)
    assert_same_rows(
        out.select("id", "name"),
        frame([{"id": 1, "name": "Ann"}, {"id": 2, "name": "Bo"}, {"id": 3, "name": None}]),
    )


def test_key_missing_on_the_right_side(steps) -> None:
    people = CUSTOMERS.rename({"cust": "customer_id"})
    with pytest.raises(UnknownColumn) as err:
        steps.build(_join(on="cust"), ORDERS, people)
    assert err.value.issues[0].path == "steps[3].on[0]"
    assert "in 'customers'" in err.value.message
    assert err.value.details["nearest"] == "customer_id"
    with pytest.raises(UnknownColumn) as err:
        steps.build(_join(left_on="cust", right_on="cust_id"), ORDERS, people)
    assert err.value.issues[0].path == "steps[3].right_on[0]"
    with pytest.raises(UnknownColumn) as err:
        steps.build(_join(left_on="cst", right_on="customer_id"), ORDERS, people)
    assert err.value.issues[0].path == "steps[3].left_on[0]"
    assert "in 'customers'" not in err.value.message


def test_key_types_must_match(steps) -> None:
    text_keys = CUSTOMERS.with_columns(pl.col("cust").cast(pl.String))
    with pytest.raises(InvalidPipeline, match="join key 'cust' is Int64") as err:
        steps.build(_join(on="cust"), ORDERS, text_keys)
    assert err.value.code == "schema-mismatch"
    narrow = CUSTOMERS.with_columns(pl.col("cust").cast(pl.Int32))
    assert steps.run(_join(on="cust"), ORDERS, narrow).height == 2


@pytest.mark.parametrize(
    ("options", "code", "path"),
    [
        ({"on": "cust", "left_on": "cust", "right_on": "cust"}, "invalid-value", "steps[3].on"),
        ({"left_on": "cust"}, "missing-field", "steps[3].right_on"),
        ({"left_on": ["cust", "id"], "right_on": "cust"}, "invalid-value", "steps[3].right_on"),
        ({"how": "cross", "on": "cust"}, "invalid-value", "steps[3].on"),
    ],
)
def test_join_option_errors(steps, options, code, path) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build(_join(**options), ORDERS, CUSTOMERS)
    assert err.value.code == code
    assert err.value.issues[0].path == path


def test_stream_mode_refuses_joins_that_keep_unmatched_right_rows(steps) -> None:
    for how in ("right", "full"):
        with pytest.raises(InvalidPipeline) as err:
            steps.build(_join(on="cust", how=how), ORDERS, CUSTOMERS, mode="stream")
        assert err.value.code == "batch-only-step"
        assert err.value.issues[0].path == "steps[3].how"
    steps.build(_join(on="cust", how="left"), ORDERS, CUSTOMERS, mode="stream")


def test_union_by_name_fills_missing_columns_and_widens_types(steps) -> None:
    more = frame([{"amount": 1.5, "id": 9, "note": "x"}])
    out = steps.run({"kind": "union", "with": "more"}, ORDERS, more)
    assert out.columns == ["id", "cust", "amount", "note"]
    assert out["amount"].dtype == pl.Float64
    assert out.height == 4
    assert out.filter(pl.col("id") == 9)["cust"].item() is None


def test_union_distinct(steps) -> None:
    out = steps.run(
        {"kind": "union", "with": ["a", "b"], "distinct": True}, ORDERS, ORDERS, ORDERS.head(1)
    )
    assert out.equals(ORDERS)


def test_strict_union(steps) -> None:
    out = steps.run({"kind": "union", "with": "o", "how": "strict"}, ORDERS, ORDERS)
    assert out.height == 6


@pytest.mark.parametrize(
    ("other", "detail"),
    [
        (ORDERS.drop("amount"), "lacks amount"),
        (ORDERS.with_columns(extra=1), "has extra extra"),
        (ORDERS.select("cust", "id", "amount"), "another order"),
        (ORDERS.with_columns(pl.col("amount").cast(pl.Float64)), "has 'amount' as Float64"),
    ],
)
def test_strict_union_mismatch(steps, other, detail) -> None:
    with pytest.raises(InvalidPipeline, match=detail) as err:
        steps.build(
            {"kind": "union", "with": ["same", "other"], "how": "strict"}, ORDERS, ORDERS, other
        )
    assert err.value.code == "schema-mismatch"
    assert err.value.issues[0].path == "steps[3].with[1]"
    assert "'other'" in err.value.message


def test_union_distinct_is_refused_on_a_stream(steps) -> None:
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "union", "with": "o", "distinct": True}, ORDERS, ORDERS, mode="stream")
    assert err.value.code == "batch-only-step"
    assert err.value.issues[0].path == "steps[3].distinct"
