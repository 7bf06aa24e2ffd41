"""Regenerate the model-step examples' data and model (deterministic):
``uv run python examples/data/generate_ml.py``.

Writes ``data/churn_customers.csv``, ``models/churn.onnx`` (a logistic regression trained
on synthetic churn, converted with skl2onnx), ``data/sensors.csv`` and
``tickets/tickets.ndjson``.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).parent
FEATURES = ["tenure_months", "monthly_spend", "support_calls", "late_payments"]


def churn() -> None:
    from skl2onnx import to_onnx
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    n = 600
    frame = pl.DataFrame(
        {
            "customer_id": np.arange(1, n + 1),
            "tenure_months": rng.integers(1, 72, n),
            "monthly_spend": np.round(rng.gamma(4, 12, n), 2),
            "support_calls": rng.poisson(1.5, n),
            "late_payments": rng.poisson(0.6, n),
        }
    )
    x = frame.select(FEATURES).to_numpy().astype(np.float32)
    logit = -0.06 * x[:, 0] + 0.01 * x[:, 1] + 0.7 * x[:, 2] + 0.9 * x[:, 3] - 1.0
    churned = rng.random(n) < 1 / (1 + np.exp(-logit))
    clf = LogisticRegression(max_iter=2000).fit(x, churned.astype(np.int64))
    model = to_onnx(clf, x[:1], options={"zipmap": False})
    (HERE.parent / "models").mkdir(exist_ok=True)
    (HERE.parent / "models" / "churn.onnx").write_bytes(model.SerializeToString())
    frame.write_csv(HERE / "churn_customers.csv")


def sensors() -> None:
    rng = np.random.default_rng(11)
    t0 = datetime(2024, 5, 1)
    rows = []
    base = {"boiler": 70.0, "chiller": 6.0, "pump": 35.0}
    for i in range(1_500):
        for sensor, level in base.items():
            value = level + rng.normal(0, 0.8) + 2 * np.sin(i / 120)
            if rng.random() < 0.004:
                value += rng.choice([-1, 1]) * rng.uniform(8, 15)  # a fault
            rows.append(
                {
                    "sensor": sensor,
                    "ts": t0 + timedelta(minutes=i),
                    "temperature": round(float(value), 3),
                }
            )
    pl.DataFrame(rows).write_csv(HERE / "sensors.csv")


def tickets() -> None:
    texts = [
        "I was charged twice for my subscription this month.",
        "The mobile app crashes whenever I open my profile.",
        "Can you send me last year's invoices?",
        "Login fails with error 500 since this morning.",
        "Thanks a lot, your team fixed my issue quickly!",
        "Please refund the duplicate payment on my card.",
    ]
    lines = [json.dumps({"ticket_id": i + 1, "text": t}) for i, t in enumerate(texts)]
    (HERE.parent / "tickets" / "tickets.ndjson").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    churn()
    sensors()
    tickets()
