"""The model-step examples: churn scoring, sensor anomalies, ticket triage by an LLM."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import polars as pl
import pytest

from ocht.executor import Runner, RunRequest
from ocht.testkit import run_pipeline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FEATURES = ["tenure_months", "monthly_spend", "support_calls", "late_payments"]


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    dest = tmp_path / "examples"
    shutil.copytree(EXAMPLES, dest, ignore=shutil.ignore_patterns("out", ".ocht"))
    return dest


def test_churn_high_risk_customers_are_the_ones_the_model_scores_high(examples: Path) -> None:
    run_pipeline(examples / "churn_scoring.yaml", home=examples / ".ocht")
    high = pl.read_csv(examples / "out/churn/high_risk.csv")
    rest = pl.read_parquet(examples / "out/churn/rest.parquet")
    customers = pl.read_csv(EXAMPLES / "data/churn_customers.csv")
    session = ort.InferenceSession(str(EXAMPLES / "models/churn.onnx"))
    x = customers.select(FEATURES).to_numpy().astype(np.float32)
    (proba,) = session.run(["probabilities"], {"X": x})
    risky = set(customers.filter(pl.Series(proba[:, 1] >= 0.6))["customer_id"])
    assert set(high["customer_id"]) == risky and len(risky) > 0
    assert high.height + rest.height == customers.height


def test_sensor_alerts_and_the_stream_profile(examples: Path) -> None:
    result = run_pipeline(examples / "sensor_anomalies.yaml", home=examples / ".ocht")
    alerts = pl.read_csv(examples / "out/sensors/alerts.csv")
    assert 0 < alerts.height < result.rows_read / 50
    assert (alerts["anomaly_score"].abs() > 4).all()
    plan = Runner().compile(
        RunRequest(examples / "sensor_anomalies.yaml", profile="stream"), mode="stream"
    )
    assert [s.kind.name for s in plan.steps] == ["anomaly", "route"]


def test_ticket_triage_against_the_local_model(examples: Path, llm_server: Any) -> None:
    pipeline = examples / "tickets" / "ticket_triage.yaml"
    result = run_pipeline(pipeline, variables={"llm_url": llm_server.url}, home=examples / ".ocht")
    triaged = pl.read_parquet(examples / "tickets/out/triaged.parquet")
    assert triaged.height + result.dead_letters == 6
    assert set(triaged["category"]) <= {"billing", "bug", "other"}
    assert triaged["urgency"].is_between(1, 5).all()
    assert result.reports["triage"]["total_tokens"] > 0
    again = run_pipeline(pipeline, variables={"llm_url": llm_server.url}, home=examples / ".ocht")
    assert again.reports["triage"]["requests"] == 0  # answered from the cache
