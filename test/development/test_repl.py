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
