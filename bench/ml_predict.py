"""Model steps against hand-written code on the same rows, in one process.

    uv run python bench/ml_predict.py                    # 2M rows, 9 rounds
    uv run python bench/ml_predict.py --rows 5000000 --rounds 3

- ``predict``: the compiled step (Polars → NumPy per morsel, ONNX Runtime, columns back)
  against calling ONNX Runtime by hand on the whole frame (``to_numpy`` once, one
  ``session.run``, ``with_columns``). Same model (a logistic regression on 4 features,
  3 classes, converted with skl2onnx), same rows; outputs checked equal. Target: 0.9 or more.
- ``anomaly``: the ``zscore`` and ``quantile`` steps against the equivalent hand-written
  Polars expressions (``ewm_mean`` / ``rolling_quantile`` shifted over the key), which
  carry no state between batches.

Prints the median seconds of each side and the throughput ratio (reference time / Ocht
time: 1.0 is as fast as the hand-written code).
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import onnxruntime as ort
import polars as pl

from ocht.ml_runtime import build_anomaly, build_predict
from ocht.pipeline_model import Anomaly, Predict
from ocht.testkit.models import IRIS_COLUMNS, write_iris_onnx
from ocht.transform import BuildContext


def alternate(
    ref: Callable[[], object], ocht: Callable[[], object], rounds: int
) -> tuple[float, float, object, object]:
    """Median seconds of each, measured round by round in turn (the machine is shared)."""
    t_ref, t_ocht = [], []
    out_ref = out_ocht = None
    for _ in range(rounds):
        t0 = time.perf_counter()
        out_ref = ref()
        t_ref.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        out_ocht = ocht()
        t_ocht.append(time.perf_counter() - t0)
    return statistics.median(t_ref), statistics.median(t_ocht), out_ref, out_ocht


def features(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(1)
    centre = np.array([5.8, 3.0, 3.8, 1.2], dtype=np.float32)
    x = rng.normal(centre, [0.8, 0.4, 1.7, 0.7], size=(rows, 4)).astype(np.float32)
    return pl.DataFrame(x, schema=IRIS_COLUMNS).with_row_index("id")


def bench_predict(rows: int, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp())
    model = write_iris_onnx(folder / "iris.onnx")
    frame = features(rows)
    spec = Predict(
        kind="predict",
        model=str(model),
        inputs=IRIS_COLUMNS,
        outputs={"label": "label", "score": "score"},
    )  # type: ignore[arg-type]
    step = build_predict(spec, BuildContext("p", "steps[0]", (frame.schema,)))
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])

    def ocht() -> pl.DataFrame:
        return step.apply([frame.lazy()]).collect(engine="streaming")

    def by_hand() -> pl.DataFrame:
        x = frame.select(IRIS_COLUMNS).to_numpy().astype(np.float32)
        label, proba = session.run(["label", "probabilities"], {"X": x})
        return frame.with_columns(pl.Series("label", label), pl.Series("score", proba[:, -1]))

    ocht()  # warm up both (session creation, thread pools)
    by_hand()
    t_ref, t_ocht, ref, got = alternate(by_hand, ocht, rounds)
    assert isinstance(got, pl.DataFrame) and isinstance(ref, pl.DataFrame)
    assert got.sort("id").equals(ref), "predict differs from ONNX Runtime by hand"
    print(
        f"predict  {rows:>10,} rows  by hand {t_ref:7.3f}s  ocht {t_ocht:7.3f}s  "
        f"ratio {t_ref / t_ocht:5.2f}x  ({rows / t_ocht / 1e6:.2f}M rows/s)"
    )


def sensors(rows: int) -> pl.DataFrame:
    rng = np.random.default_rng(2)
    return pl.DataFrame(
        {
            "sensor": rng.integers(0, 100, rows),
            "ts": np.arange(rows, dtype=np.int64),
            "value": rng.normal(20, 2, rows),
        }
    )


def bench_anomaly(rows: int, rounds: int) -> None:
    frame = sensors(rows)
    half_life, window, q = 20.0, 50, 0.99
    alpha = 1 - math.exp(math.log(0.5) / half_life)
    x, key = pl.col("value"), "sensor"

    def zscore_by_hand() -> pl.DataFrame:
        mean = x.ewm_mean(alpha=alpha, adjust=False).over(key)
        sorted_ = frame.sort("ts").with_columns(mean.alias("m"))
        before = pl.col("m").shift(1).over(key)
        dev = x - before
        var = ((1 - alpha) * dev * dev).fill_null(0.0).ewm_mean(alpha=alpha, adjust=False)
        out = sorted_.with_columns(before.alias("mb"), dev.alias("d")).with_columns(
            var.over(key).shift(1).over(key).sqrt().alias("sd")
        )
        return out.with_columns(
            (pl.col("d") / pl.col("sd")).alias("anomaly_score"),
            (pl.col("mb") + 3 * pl.col("sd")).alias("anomaly_threshold"),
            (pl.col("d").abs() > 3 * pl.col("sd")).alias("is_anomaly"),
        ).drop("m", "mb", "d", "sd")

    def quantile_by_hand() -> pl.DataFrame:
        qx = x.rolling_quantile(q, window_size=window, min_samples=1).shift(1).over(key)
        return (
            frame.sort("ts")
            .with_columns(qx.alias("anomaly_threshold"))
            .with_columns(
                (x - pl.col("anomaly_threshold")).alias("anomaly_score"),
                (x > pl.col("anomaly_threshold")).alias("is_anomaly"),
            )
        )

    for method, reference in (("zscore", zscore_by_hand), ("quantile", quantile_by_hand)):
        spec = Anomaly(
            kind="anomaly",
            value="value",
            by=[key],
            time="ts",
            method=method,
            half_life=half_life,
            window=window,
            quantile=q,
        )  # type: ignore[arg-type]
        step = build_anomaly(spec, BuildContext("a", "steps[0]", (frame.schema,)))

        def ocht(step=step) -> pl.DataFrame:  # type: ignore[no-untyped-def]
            return step.apply([frame.lazy()]).collect(engine="streaming")

        ocht()
        reference()
        t_ref, t_ocht, _, _ = alternate(reference, ocht, rounds)
        print(
            f"anomaly  {method:<9}{rows:>10,} rows  polars {t_ref:7.3f}s  ocht {t_ocht:7.3f}s"
            f"  ratio {t_ref / t_ocht:5.2f}x"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--anomaly-rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    print(f"polars {pl.__version__}, onnxruntime {ort.__version__}")
    bench_predict(args.rows, args.rounds)
    bench_anomaly(args.anomaly_rows, args.rounds)


if __name__ == "__main__":
    main()
