"""Regenerate the example data (deterministic): ``uv run python examples/data/generate.py``."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

HERE = Path(__file__).parent


def main() -> None:
    rng = random.Random(42)
    countries = ["DE", "FR", "NL", "IE", "ES", "IT"]
    statuses = ["paid"] * 6 + ["refunded", "pending", "cancelled"]
    t0 = datetime(2024, 3, 1)
    n = 2_000
    customers = pl.DataFrame(
        {
            "customer_id": list(range(1, 201)),
            "name": [f"Customer {i:03d}" for i in range(1, 201)],
            "segment": [rng.choice(["consumer", "business", "enterprise"]) for _ in range(200)],
            "signup_date": [(t0 - timedelta(days=rng.randint(10, 900))).date() for _ in range(200)],
        }
    )
    orders = pl.DataFrame(
        {
            "order_id": list(range(1, n + 1)),
            "customer_id": [rng.randint(1, 200) for _ in range(n)],
            "country": [rng.choice(countries) for _ in range(n)],
            "amount": [round(rng.lognormvariate(3.5, 1.0), 2) for _ in range(n)],
            "currency": ["EUR"] * n,
            "ts": [t0 + timedelta(seconds=rng.randint(0, 3 * 24 * 3600)) for _ in range(n)],
            "status": [rng.choice(statuses) for _ in range(n)],
        }
    ).sort("ts")
    orders.write_csv(HERE / "orders.csv")
    customers.write_csv(HERE / "customers.csv")
    with (HERE / "events.ndjson").open("w", encoding="utf-8") as fh:
        for i in range(300):
            fh.write(
                json.dumps(
                    {
                        "event_id": f"e{i:04d}",
                        "ts": (t0 + timedelta(minutes=7 * i)).isoformat(),
                        "user": {"id": rng.randint(1, 50), "plan": rng.choice(["free", "pro"])},
                        "items": [
                            {"sku": f"sku-{rng.randint(1, 20)}", "qty": rng.randint(1, 3)}
                            for _ in range(rng.randint(0, 3))
                        ],
                    }
                )
                + "\n"
            )


if __name__ == "__main__":
    main()
