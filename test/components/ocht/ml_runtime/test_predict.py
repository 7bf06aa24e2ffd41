"""predict: a model file as a step, equal to calling ONNX Runtime by hand."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import polars as pl
import pytest

from ocht.errors import InvalidPipeline
from ocht.executor import read_trace
from ocht.registry import Registry
from ocht.store import Store
from ocht.testkit import Workspace, run_pipeline
from ocht.testkit.models import (
    IRIS_COLUMNS,
    iris_classifier,
    iris_frame,
    onnxruntime_sample_model,
    write_iris_onnx,
    write_linear_onnx,
)


def pipeline(**step: Any) -> dict[str, Any]:
    return {
        "name": "scores",
        "inputs": {"flowers": {"type": "parquet", "path": "iris.parquet"}},
        "steps": [{"kind": "predict", "model": "models/iris.onnx", "inputs": IRIS_COLUMNS, **step}],
        "outputs": {"out": {"type": "parquet", "path": "out.parquet"}},
    }


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    iris_frame().write_parquet(workspace.root / "iris.parquet")
    write_iris_onnx(workspace.root / "models" / "iris.onnx")
    return workspace


def by_hand(model: Path, frame: pl.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    x = frame.select(IRIS_COLUMNS).to_numpy().astype(np.float32)
    label, proba = session.run(["label", "probabilities"], {"X": x})
    return label, proba


def test_outputs_equal_onnx_runtime_called_directly(ws: Workspace) -> None:
    doc = pipeline(outputs={"label": "predicted", "probabilities": "p", "score": "p_virginica"})
    result = run_pipeline(ws.write_pipeline(doc), home=ws.root / ".ocht")
    out = pl.read_parquet(ws.root / "out.parquet")
    label, proba = by_hand(ws.root / "models" / "iris.onnx", iris_frame())
    assert result.rows_written == 150
    assert out["predicted"].to_list() == label.tolist()
    assert np.array_equal(np.array(out["p"].to_list(), dtype=np.float32), proba)
    assert np.array_equal(out["p_virginica"].to_numpy(), proba[:, -1])
    assert out.columns == [*iris_frame().columns, "predicted", "p", "p_virginica"]


def test_small_chunks_give_the_same_rows(ws: Workspace) -> None:
    run_pipeline(
        ws.write_pipeline(pipeline(outputs={"score": "s"}, chunk_rows=7)), home=ws.root / ".ocht"
    )
    small = pl.read_parquet(ws.root / "out.parquet")
    run_pipeline(ws.write_pipeline(pipeline(outputs={"score": "s"})), home=ws.root / ".ocht")
    assert small.equals(pl.read_parquet(ws.root / "out.parquet"))


def test_model_fingerprint_is_in_the_result_trace_and_manifest(ws: Workspace) -> None:
    model = ws.root / "models" / "iris.onnx"
    with Store(base_dir=ws.root) as store:
        first = run_pipeline(
            ws.write_pipeline(pipeline(outputs={"label": "l"})), home=ws.root / ".ocht", store=store
        )
        info = first.reports["predict_1"]["model"]
        assert info["sha256"] == hashlib.sha256(model.read_bytes()).hexdigest()
        assert info["path"] == str(model.resolve())
        assert info["opset"]["ai.onnx"] >= 1
        assert info["inputs"] == [{"name": "X", "type": "tensor(float)", "shape": [None, 4]}]
        assert [o["name"] for o in info["outputs"]] == ["label", "probabilities"]
        assert first.reports["predict_1"]["rows"] == 150
        trace = read_trace(ws.root / ".ocht", first.run_id)
        assert json.loads(trace["report"][0])["model"]["sha256"] == info["sha256"]
        manifest = store.run(first.run_id).extra["reports"]
        assert manifest["predict_1"]["model"]["sha256"] == info["sha256"]

        # a retrained model is a different file: the run history shows it
        write_iris_onnx(model, classifier=iris_classifier(C=0.01))
        second = run_pipeline(
            ws.write_pipeline(pipeline(outputs={"label": "l"})), home=ws.root / ".ocht", store=store
        )
        changed = store.run(second.run_id).extra["reports"]["predict_1"]["model"]["sha256"]
        assert changed != info["sha256"]


def test_route_sends_high_scores_to_their_own_output(ws: Workspace, memory: Any) -> None:
    doc = pipeline(outputs={"score": "risk", "flag": "risky"}, threshold=0.5)
    doc["steps"].append({"kind": "route", "id": "by_risk", "routes": {"high": "risky"}})
    doc["outputs"] = {
        "high": {"type": "memory", "key": "high", "from": "by_risk.high"},
        "rest": {"type": "memory", "key": "rest", "from": "by_risk.default"},
    }
    run_pipeline(
        ws.write_pipeline(doc),
        home=ws.root / ".ocht",
        registry=Registry(connectors=[memory.connector]),
    )
    _, proba = by_hand(ws.root / "models" / "iris.onnx", iris_frame())
    high, rest = memory.recorded("high"), memory.recorded("rest")
    assert high.height == int((proba[:, -1] >= 0.5).sum()) and high.height > 0
    assert high.height + rest.height == 150
    assert high["risk"].min() >= 0.5 and rest["risk"].max() < 0.5


def test_a_regressor_built_with_onnx_helper(workspace: Workspace) -> None:
    write_linear_onnx(workspace.root / "m.onnx", [1.0, 2.0], bias=0.5)
    pl.DataFrame({"a": [1, 2, 3], "b": [0.5, 0.0, -1.0]}).write_parquet(
        workspace.root / "in.parquet"
    )
    doc = {
        "name": "lin",
        "inputs": {"i": {"type": "parquet", "path": "in.parquet"}},
        "steps": [
            {
                "kind": "predict",
                "model": "m.onnx",
                "inputs": {"X": ["a", "b"]},
                "outputs": {"score": "y"},
            }
        ],
        "outputs": {"o": {"type": "parquet", "path": "o.parquet"}},
    }
    run_pipeline(workspace.write_pipeline(doc), home=workspace.root / ".ocht")
    assert pl.read_parquet(workspace.root / "o.parquet")["y"].to_list() == [2.5, 2.5, 1.5]


def test_skops_model_without_pickle(ws: Workspace) -> None:
    import skops.io as sio

    clf = iris_classifier()
    sio.dump(clf, ws.root / "models" / "iris.skops")
    doc = pipeline(outputs={"label": "l", "probabilities": "p"}, model="models/iris.skops")
    run_pipeline(ws.write_pipeline(doc), home=ws.root / ".ocht")
    out = pl.read_parquet(ws.root / "out.parquet")
    x = iris_frame().select(IRIS_COLUMNS).to_numpy()
    assert out["l"].to_list() == clf.predict(x).tolist()
    assert np.allclose(np.array(out["p"].to_list()), clf.predict_proba(x))


# -- bad inputs: a stable error at compile time, nothing written ---------------------------
def compile_error(ws: Workspace, doc: dict[str, Any]) -> InvalidPipeline:
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(ws.write_pipeline(doc), home=ws.root / ".ocht")
    assert not (ws.root / "out.parquet").exists()
    return info.value


def test_missing_model_file(ws: Workspace) -> None:
    err = compile_error(ws, pipeline(model="models/nope.onnx", outputs={"label": "l"}))
    assert err.code == "model-not-found"
    assert "nope.onnx" in err.message and err.issues[0].path == "steps[0].model"


def test_not_a_model(ws: Workspace) -> None:
    (ws.root / "models" / "junk.onnx").write_text("not a model")
    err = compile_error(ws, pipeline(model="models/junk.onnx", outputs={"label": "l"}))
    assert err.code == "model-unreadable"


def test_wrong_number_of_columns_names_both(ws: Workspace) -> None:
    doc = pipeline(outputs={"label": "l"})
    doc["steps"][0]["inputs"] = IRIS_COLUMNS[:3]
    err = compile_error(ws, doc)
    assert err.code == "model-mismatch"
    assert "'X' tensor(float)[None, 4] takes 4 columns" in err.message
    assert "sepal_length, sepal_width, petal_length" in err.message


def test_wrong_column_type_names_both(ws: Workspace) -> None:
    iris_frame().with_columns(pl.col("petal_width").cast(pl.String)).write_parquet(
        ws.root / "iris.parquet"
    )
    err = compile_error(ws, pipeline(outputs={"label": "l"}))
    assert err.code == "model-mismatch"
    assert "column 'petal_width' is String, model input 'X' takes tensor(float)" in err.message


def test_unknown_input_tensor_and_column(ws: Workspace) -> None:
    doc = pipeline(outputs={"label": "l"})
    doc["steps"][0]["inputs"] = {"features": IRIS_COLUMNS}
    assert "has no input 'features' (its inputs: X)" in compile_error(ws, doc).message
    doc["steps"][0]["inputs"] = [*IRIS_COLUMNS[:3], "petal_widht"]
    assert compile_error(ws, doc).code == "unknown-column"


def test_fixed_batch_model_is_refused(ws: Workspace) -> None:
    fixed = onnxruntime_sample_model()
    doc = pipeline(model=str(fixed), outputs={"score": "s"})
    doc["steps"][0]["inputs"] = IRIS_COLUMNS[:2]
    err = compile_error(ws, doc)
    assert err.code == "model-mismatch" and "fixed batch size (shape [3, 2])" in err.message


def test_missing_output_name(ws: Workspace) -> None:
    err = compile_error(ws, pipeline(outputs={"label": "l"}, label_output="output_label"))
    assert err.code == "model-mismatch" and "its outputs: label, probabilities" in err.message


def test_flag_needs_threshold(ws: Workspace) -> None:
    err = compile_error(ws, pipeline(outputs={"flag": "f"}))
    assert err.code in ("invalid-value", "invalid-pipeline")
