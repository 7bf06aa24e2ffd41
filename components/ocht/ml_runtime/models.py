"""Model files: loaded once per process, fingerprinted, described by their signature.

A model is data: a file beside the pipeline. :func:`load_model` reads it, hashes it
(sha256) and keeps one ONNX Runtime session per distinct file content in the process,
shared by every step and run that uses it. scikit-learn models saved with skops (no
pickle) load through the same interface.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ocht.ml_runtime.errors import need_extra

if TYPE_CHECKING:  # NumPy comes with the ml extra; the brick imports without it
    import numpy as np

#: skops types trusted without review: the estimators and arrays of these packages
SKOPS_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.", "collections.")


@dataclass(frozen=True)
class TensorSpec:
    """One input or output of a model: name, element type, shape (``None``: dynamic)."""

    name: str
    type: str
    shape: tuple[int | None, ...]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view."""
        return {"name": self.name, "type": self.type, "shape": list(self.shape)}


@dataclass(frozen=True)
class ModelInfo:
    """What the run manifest records about a model: where, which bytes, which signature."""

    path: str
    sha256: str
    format: str
    opset: dict[str, int] = field(default_factory=dict)
    inputs: tuple[TensorSpec, ...] = ()
    outputs: tuple[TensorSpec, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (the manifest's and the trace's form)."""
        return {
            "path": self.path,
            "sha256": self.sha256,
            "format": self.format,
            "opset": dict(self.opset),
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
        }

    def output(self, name: str) -> TensorSpec | None:
        """The output called ``name``, if the model has one."""
        return next((o for o in self.outputs if o.name == name), None)


class Model(Protocol):
    """A loaded model: its description and a vectorised call."""

    info: ModelInfo

    def run(self, feeds: dict[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
        """The outputs ``names`` for the input arrays ``feeds``."""


def _dims(shape: Any) -> tuple[int | None, ...]:
    return tuple(d if isinstance(d, int) and d >= 0 else None for d in (shape or ()))


class OnnxModel:
    """An ONNX Runtime session over one model file's bytes."""

    def __init__(self, path: Path, data: bytes, sha256: str) -> None:
        try:
            import onnxruntime as ort
        except ModuleNotFoundError:
            raise need_extra("onnxruntime") from None
        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Polars runs the step on several morsels at once: one thread per call avoids
        # oversubscribing the cores (measured in bench/ml_predict.py)
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            data, sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.info = ModelInfo(
            path=str(path),
            sha256=sha256,
            format="onnx",
            opset=_opsets(data),
            inputs=tuple(
                TensorSpec(i.name, i.type, _dims(i.shape)) for i in self.session.get_inputs()
            ),
            outputs=tuple(
                TensorSpec(o.name, o.type, _dims(o.shape)) for o in self.session.get_outputs()
            ),
        )

    def run(self, feeds: dict[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
        """Run the session (thread-safe: ONNX Runtime sessions allow concurrent runs)."""
        import numpy as np

        return [np.asarray(a) for a in self.session.run(names, feeds)]


def _opsets(data: bytes) -> dict[str, int]:
    try:
        import onnx
    except ModuleNotFoundError:  # the opset is informative; the session runs without it
        return {}
    proto = onnx.load_model_from_string(data)
    return {(o.domain or "ai.onnx"): int(o.version) for o in proto.opset_import}


class SkopsModel:
    """A scikit-learn estimator saved with skops: ``predict`` and ``predict_proba``."""

    def __init__(self, path: Path, sha256: str) -> None:
        try:
            import skops.io as sio
        except ModuleNotFoundError:
            raise need_extra("skops") from None
        untrusted = sio.get_untrusted_types(file=path)
        refused = [t for t in untrusted if not t.startswith(SKOPS_TRUSTED_PREFIXES)]
        if refused:
            raise ValueError(f"the file holds types that are not trusted: {', '.join(refused)}")
        self.estimator = sio.load(path, trusted=untrusted)
        n = int(getattr(self.estimator, "n_features_in_", 0)) or None
        outputs = [TensorSpec("label", _np_type(self._classes_dtype()), (None,))]
        if hasattr(self.estimator, "predict_proba"):
            k = len(getattr(self.estimator, "classes_", ())) or None
            outputs.append(TensorSpec("probabilities", "tensor(double)", (None, k)))
        self.info = ModelInfo(
            path=str(path),
            sha256=sha256,
            format="skops",
            inputs=(TensorSpec("X", "tensor(double)", (None, n)),),
            outputs=tuple(outputs),
        )

    def _classes_dtype(self) -> np.dtype[Any]:
        import numpy as np

        classes = getattr(self.estimator, "classes_", None)
        return np.asarray(classes).dtype if classes is not None else np.dtype("float64")

    def run(self, feeds: dict[str, np.ndarray], names: list[str]) -> list[np.ndarray]:
        """Call the estimator on the only input."""
        import numpy as np

        (x,) = feeds.values()
        out = []
        for name in names:
            if name == "label":
                out.append(np.asarray(self.estimator.predict(x)))
            else:
                out.append(np.asarray(self.estimator.predict_proba(x)))
        return out


def _np_type(dtype: np.dtype[Any]) -> str:
    if dtype.kind in "iu":
        return "tensor(int64)"
    if dtype.kind == "f":
        return "tensor(double)"
    if dtype.kind == "b":
        return "tensor(bool)"
    return "tensor(string)"


def file_sha256(data: bytes) -> str:
    """The hex sha256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


class ModelCache:
    """Loaded models by file content: one session per distinct model in the process.

    Example:
        >>> cache = ModelCache()
        >>> len(cache)
        0
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._models: dict[tuple[str, str], Model] = {}

    def __len__(self) -> int:
        return len(self._models)

    def load(self, path: Path, fmt: str | None = None) -> Model:
        """The model in ``path`` (``fmt``: ``onnx`` or ``skops``; default by suffix).

        Raises:
            FileNotFoundError: there is no such file.
            MlExtraMissing: the runtime library is not installed.
            Exception: what the runtime says about a file it cannot load.
        """
        data = path.read_bytes()
        digest = file_sha256(data)
        kind = fmt or ("skops" if path.suffix == ".skops" else "onnx")
        key = (kind, digest)
        with self._lock:
            found = self._models.get(key)
            if found is not None and found.info.path == str(path):
                return found
            model: Model = (
                SkopsModel(path, digest) if kind == "skops" else OnnxModel(path, data, digest)
            )
            self._models[key] = model
            return model


#: The process's models (a session is costly to create and safe to share).
MODELS = ModelCache()
