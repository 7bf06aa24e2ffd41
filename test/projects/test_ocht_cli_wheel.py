"""The slim CLI artifact: built alone, installed in a clean venv, it runs the examples."""

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    if shutil.which("uv") is None:
        pytest.skip("uv is not on PATH")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        ["uv", "build", "--package", "ocht-cli", "--wheel", "-o", str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    (found,) = out.glob("ocht_cli-*.whl")
    return found


def test_wheel_holds_only_its_bricks(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    bricks = {n.split("/")[1] for n in names if n.startswith("ocht/")}
    assert {"cli", "executor", "transform", "connector_files", "pipeline_model"} <= bricks
    assert not bricks & {"connector_kafka", "worker", "testkit"}
    meta = next(n for n in names if n.endswith("METADATA"))
    requires = zipfile.ZipFile(wheel).read(meta).decode()
    assert "confluent-kafka" not in requires and "fastapi" not in requires


def test_installed_wheel_runs_an_example(wheel, tmp_path):
    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        ["uv", "pip", "install", "-q", "-p", str(py), str(wheel)], check=True, capture_output=True
    )
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples", project, ignore=shutil.ignore_patterns("out"))
    ocht = venv / "bin" / "ocht"
    proc = subprocess.run(
        [str(ocht), "run", "orders_clean.yaml", "--json"],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert (project / "out" / "orders_clean.parquet").exists()
    proc = subprocess.run(
        [str(ocht), "validate", "route_orders.yaml"], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr + proc.stdout
    # a connector that lives in another artifact is named, not a traceback
    (project / "k.yaml").write_text(
        "name: k\ninputs:\n  i: {type: kafka, brokers: 'x:1', topic: t, group: g}\n"
        "outputs:\n  o: {type: console}\n"
    )
    proc = subprocess.run(
        [str(ocht), "validate", "k.yaml"], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "ocht-worker" in proc.stderr and "Traceback" not in proc.stderr


def test_model_steps_in_the_slim_wheel(wheel, tmp_path):
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("ocht/ml_runtime/") for n in names)
    meta = next(n for n in names if n.endswith("METADATA"))
    requires = zipfile.ZipFile(wheel).read(meta).decode()
    assert "onnxruntime" in requires and "extra == 'ml'" in requires
    venv = tmp_path / "venv"
    subprocess.run(["uv", "venv", "-q", "-p", sys.executable, str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run(
        ["uv", "pip", "install", "-q", "-p", str(py), str(wheel)], check=True, capture_output=True
    )
    project = tmp_path / "project"
    shutil.copytree(ROOT / "examples", project, ignore=shutil.ignore_patterns("out"))
    ocht = venv / "bin" / "ocht"
    # anomaly needs only Polars: it runs without the ml extra
    proc = subprocess.run(
        [str(ocht), "run", "sensor_anomalies.yaml"], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    # predict needs the ml extra, and says so
    proc = subprocess.run(
        [str(ocht), "run", "churn_scoring.yaml"], cwd=project, capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert "ocht-cli[ml]" in proc.stderr and "Traceback" not in proc.stderr
