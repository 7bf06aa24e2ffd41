"""Frame builders for tests."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import polars as pl


def frame(rows: list[dict[str, Any]], schema: dict[str, Any] | None = None) -> pl.DataFrame:
    """A DataFrame from rows (schema inferred from every row unless given)."""
    return pl.DataFrame(rows, schema=schema, infer_schema_length=None)


#: The columns of :func:`orders` as pipeline type names (a declared schema for a topic).
ORDERS_SCHEMA: dict[str, str] = {
    "order_id": "int64",
    "customer_id": "int64",
    "country": "string",
    "amount": "float64",
    "ts": "datetime",
    "status": "string",
}


def orders(n: int = 100, *, seed: int = 7, start: datetime | None = None) -> pl.DataFrame:
    """Synthetic orders: order_id, customer_id, country, amount, ts, status (deterministic)."""
    rng = random.Random(seed)
    t0 = start or datetime(2024, 1, 1)
    countries = ["DE", "FR", "NL", "IE", "ES"]
    statuses = ["paid", "paid", "paid", "refunded", "pending"]
    return pl.DataFrame(
        {
            "order_id": list(range(1, n + 1)),
            "customer_id": [rng.randint(1, max(2, n // 5)) for _ in range(n)],
            "country": [rng.choice(countries) for _ in range(n)],
            "amount": [round(rng.uniform(1, 500), 2) for _ in range(n)],
            "ts": [t0 + timedelta(minutes=17 * i) for i in range(n)],
            "status": [rng.choice(statuses) for _ in range(n)],
        }
    )


def assert_same_rows(left: pl.DataFrame, right: pl.DataFrame, *, sort: bool = True) -> None:
    """Assert two frames hold the same rows (order ignored unless ``sort=False``)."""
    from polars.testing import assert_frame_equal

    assert sorted(left.columns) == sorted(right.columns), (left.columns, right.columns)
    right = right.select(left.columns)
    if sort and left.columns:
        left = left.sort(left.columns, nulls_last=True)
        right = right.sort(right.columns, nulls_last=True)
    assert_frame_equal(left, right, check_dtypes=False)
