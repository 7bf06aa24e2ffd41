"""The REPL helpers run a pipeline's steps on inline rows."""

from pathlib import Path

import ocht_repl

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_test_pipeline_runs_steps_on_inline_rows_with_the_inputs_types():
    rows = [
        {
            "order_id": 1,
            "customer_id": 7,
            "country": "DE",
            "amount": 40.0,
            "currency": "EUR",
            "ts": "2024-03-01T10:00:00",
            "status": "paid",
        },
        {
            "order_id": 2,
            "customer_id": 7,
            "country": "DE",
            "amount": 4.0,
            "currency": "EUR",
            "ts": "2024-03-01T10:00:00",
            "status": "paid",
        },
    ]
    df = ocht_repl.test_pipeline(EXAMPLES / "orders_clean.yaml", rows)
    assert df["order_id"].to_list() == [1]
    assert df["vat"].to_list() == [7.6]
    assert str(df["day"][0]) == "2024-03-01"


def test_test_pipeline_picks_a_route_branch():
    rows = [
        {
            "order_id": 1,
            "customer_id": 1,
            "country": "DE",
            "amount": 900.0,
            "currency": "EUR",
            "ts": "2024-03-01T10:00:00",
            "status": "paid",
        }
    ]
    assert ocht_repl.test_pipeline(EXAMPLES / "route_orders.yaml", rows, output="large").height == 1
    assert (
        ocht_repl.test_pipeline(EXAMPLES / "route_orders.yaml", rows, output="refunds").height == 0
    )


def test_reload_pipeline():
    loaded = ocht_repl.reload_pipeline(EXAMPLES / "route_orders.yaml")
    assert loaded.pipeline.step_ids() == ["split"]


def test_test_pipeline_behaves_like_a_real_run():
    import pytest

    from ocht.errors import OchtError

    pipeline = {
        "name": "repl_dead",
        "inputs": {
            "orders": {
                "type": "csv",
                "path": "orders.csv",
                "schema": {"id": "int64", "amount": "float64"},
                "on_bad_lines": "dead_letter",
            }
        },
        "outputs": {"out": {"type": "parquet", "path": "out.parquet"}},
    }
    rows = [{"id": 1, "amount": "2.5"}, {"id": 2, "amount": "not a number"}]
    # the bad value is a dead letter, as in a real run (not a null)
    assert ocht_repl.test_pipeline(pipeline, rows)["id"].to_list() == [1]
    dead = ocht_repl.test_pipeline(pipeline, rows, dead_letters=True)
    assert dead.height == 1 and "amount" in dead["reason"][0]
    with pytest.raises(OchtError) as err:
        ocht_repl.test_pipeline(pipeline, {"order": rows})
    assert err.value.code == "unknown-input"
