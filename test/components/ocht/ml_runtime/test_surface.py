"""The ml_runtime brick's public surface, and what the registry loads lazily."""

import subprocess
import sys

import ocht.ml_runtime
from ocht.registry import Registry


def test_public_names_are_pinned() -> None:
    public = {n for n in dir(ocht.ml_runtime) if not n.startswith("_")}
    modules = {"anomaly", "endpoint", "errors", "llm", "models", "predict"}
    assert set(ocht.ml_runtime.__all__) == public - modules - {
        "Anomaly",
        "Embed",
        "Llm",
        "Predict",
        "StepKind",
    }


def test_registry_finds_the_model_steps() -> None:
    reg = Registry(plugins=False)
    assert {"predict", "anomaly", "llm", "embed"} <= set(reg.step_names())
    assert reg.step("anomaly").stateful
    assert reg.step("predict").name == "predict"


def test_the_command_line_does_not_import_the_model_runtime() -> None:
    code = (
        "import sys, ocht.cli.main, ocht.registry\n"
        "ocht.registry.Registry().step('filter')\n"
        "heavy = {'onnxruntime', 'httpx', 'onnx', 'ocht.ml_runtime'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
