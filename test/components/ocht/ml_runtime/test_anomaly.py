"""anomaly: scores against running statistics, the same for any split of the rows."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocht.errors import InvalidPipeline
from ocht.ml_runtime import AnomalyConfig, AnomalyState
from ocht.pipeline_model import Anomaly
from ocht.registry import Registry
from ocht.testkit import Workspace, run_pipeline


def sensors(n: int = 600, seed: int = 3) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    value = rng.normal(20, 1.5, n)
    value[::53] += 15  # spikes
    return pl.DataFrame(
        {
            "sensor": rng.choice(["a", "b", "c"], n).tolist(),
            "ts": np.arange(n, dtype=np.int64) * 10,
            "value": value,
        }
    )


def config(data: pl.DataFrame, **opts: Any) -> AnomalyConfig:
    spec = Anomaly.model_validate(
        {"kind": "anomaly", "value": "value", "by": ["sensor"], "time": "ts", **opts}
    )
    return AnomalyConfig.of(spec, data.schema)


def in_pieces(cfg: AnomalyConfig, data: pl.DataFrame, cuts: list[int]) -> pl.DataFrame:
    state, parts, start = AnomalyState(cfg), [], 0
    for end in [*sorted(set(cuts)), data.height]:
        if end <= start:
            continue
        parts.append(state.update(data.slice(start, end - start)))
        saved = state.snapshot()  # as a checkpoint would: a new state from the snapshot
        state = AnomalyState(cfg)
        state.restore({k: pl.DataFrame(v.to_dict()) for k, v in saved.items()})
        start = end
    return pl.concat(parts)


@settings(max_examples=25, deadline=None)
@given(
    method=st.sampled_from(["zscore", "robust", "quantile"]),
    cuts=st.lists(st.integers(0, 300), max_size=12),
)
def test_any_split_gives_the_batch_result(method: str, cuts: list[int]) -> None:
    data = sensors(300)
    cfg = config(data, method=method, window=20, min_history=5)
    whole = AnomalyState(cfg).update(data)
    assert in_pieces(cfg, data, cuts).equals(whole)


def reference_zscore(values: list[float], alpha: float, k: float, warm: int) -> list[Any]:
    out, mean, var = [], None, 0.0
    for i, x in enumerate(values):
        if mean is None:
            out.append((None, False))
            mean = x
            continue
        std = math.sqrt(var)
        dev = x - mean
        flagged = i >= warm and abs(dev) > k * std
        out.append((dev / std if std > 0 and i >= warm else None, flagged))
        diff = x - mean
        mean = mean + alpha * diff
        var = (1 - alpha) * (var + alpha * diff * diff)
    return out


def test_zscore_matches_the_textbook_recurrence() -> None:
    data = sensors(400).filter(pl.col("sensor") == "a")
    cfg = config(data, method="zscore", half_life=10, k=3, min_history=8)
    out = AnomalyState(cfg).update(data)
    expected = reference_zscore(data["value"].to_list(), cfg.alpha, 3, 8)
    scores = out["anomaly_score"].to_list()
    for (score, flagged), got, got_flag in zip(expected, scores, out["is_anomaly"], strict=True):
        assert got_flag == flagged
        assert (got is None) == (score is None) or score is None
        if score is not None:
            assert got == pytest.approx(score, rel=1e-9)
    assert out["is_anomaly"].sum() > 0


def test_robust_matches_median_and_mad_of_the_last_n() -> None:
    data = sensors(300).filter(pl.col("sensor") == "b")
    n = 15
    out = AnomalyState(config(data, method="robust", window=n, min_history=n, k=3)).update(data)
    values = data["value"].to_numpy()
    for i in range(n, len(values)):
        window = values[i - n : i]
        med = np.median(window)
        mad = np.median(np.abs(window - med)) * 1.4826
        assert out["anomaly_threshold"][i] == pytest.approx(med + 3 * mad)
        assert out["is_anomaly"][i] == bool(abs(values[i] - med) > 3 * mad)


def test_quantile_threshold_is_the_rolling_quantile() -> None:
    data = sensors(200).filter(pl.col("sensor") == "c")
    out = AnomalyState(
        config(data, method="quantile", window=10, quantile=0.9, min_history=10)
    ).update(data)
    values = data["value"].to_numpy()
    for i in range(10, len(values)):
        q = np.quantile(values[i - 10 : i], 0.9)
        assert out["anomaly_threshold"][i] == pytest.approx(q)
        assert out["is_anomaly"][i] == bool(values[i] > q)


def test_nothing_is_flagged_during_warm_up() -> None:
    data = pl.DataFrame(
        {"sensor": ["a"] * 6, "ts": list(range(6)), "value": [1.0, 100.0, -50.0, 1.0, 1.0, 500.0]}
    )
    out = AnomalyState(config(data, min_history=5)).update(data)
    assert out["is_anomaly"].to_list() == [False] * 5 + [True]
    assert out["anomaly_score"][:5].to_list() == [None] * 5


def test_rows_are_ordered_by_event_time_then_source_order() -> None:
    data = sensors(200)
    shuffled = data.sample(fraction=1.0, shuffle=True, seed=7)
    cfg = config(data)
    assert AnomalyState(cfg).update(shuffled).equals(AnomalyState(cfg).update(data))


def test_null_values_are_scored_null_and_not_learnt() -> None:
    data = pl.DataFrame({"sensor": ["a"] * 4, "ts": [1, 2, 3, 4], "value": [1.0, None, 1.0, 1.0]})
    out = AnomalyState(config(data, min_history=1)).update(data)
    assert out["anomaly_score"].to_list() == [None, None, 0.0, 0.0]
    assert out["is_anomaly"].to_list() == [False] * 4


def test_batch_pipeline_routes_anomalies(workspace: Workspace, memory: Any) -> None:
    data = sensors(300)
    data.write_parquet(workspace.root / "s.parquet")
    doc = {
        "name": "sensors",
        "inputs": {"s": {"type": "parquet", "path": "s.parquet"}},
        "steps": [
            {"kind": "anomaly", "value": "value", "by": "sensor", "time": "ts"},
            {"kind": "route", "id": "split", "routes": {"alerts": "is_anomaly"}},
        ],
        "outputs": {
            "alerts": {"type": "memory", "key": "alerts", "from": "split.alerts"},
            "normal": {"type": "memory", "key": "normal", "from": "split.default"},
        },
    }
    run_pipeline(
        workspace.write_pipeline(doc),
        home=workspace.root / ".ocht",
        registry=Registry(connectors=[memory.connector]),
    )
    expected = AnomalyState(config(data)).update(data)
    alerts = memory("alerts")
    assert alerts.height == expected["is_anomaly"].sum() > 0
    assert memory("normal").height + alerts.height == 300


@pytest.mark.parametrize(
    ("opts", "code"),
    [
        ({"value": "sensor"}, "invalid-type"),
        ({"value": "valu"}, "unknown-column"),
        ({"by": ["sensr"]}, "unknown-column"),
        ({"time": "t"}, "unknown-column"),
    ],
)
def test_bad_columns_are_refused(workspace: Workspace, opts: dict[str, Any], code: str) -> None:
    sensors(10).write_parquet(workspace.root / "s.parquet")
    step = {"kind": "anomaly", "value": "value", "by": "sensor", "time": "ts", **opts}
    doc = {
        "name": "bad",
        "inputs": {"s": {"type": "parquet", "path": "s.parquet"}},
        "steps": [step],
        "outputs": {"o": {"type": "parquet", "path": "o.parquet"}},
    }
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(workspace.write_pipeline(doc), home=workspace.root / ".ocht")
    assert info.value.code == code
    assert not (workspace.root / "o.parquet").exists()
