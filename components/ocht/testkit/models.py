"""Small real models for tests and examples, built on the spot (nothing downloaded).

Example:
    >>> from pathlib import Path
    >>> import tempfile
    >>> path = write_iris_onnx(Path(tempfile.mkdtemp()) / "iris.onnx")
    >>> path.stat().st_size > 0
    True
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

IRIS_COLUMNS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def iris_frame() -> pl.DataFrame:
    """The iris data set (scikit-learn's copy) with named float32 columns and ``species``."""
    import numpy as np
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    frame = pl.DataFrame(x.astype(np.float32), schema=IRIS_COLUMNS)
    return frame.with_columns(pl.Series("species", y.astype("int64")))


def iris_classifier(**options: Any) -> Any:
    """A logistic regression fitted on iris (deterministic)."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    frame = iris_frame()
    x = frame.select(IRIS_COLUMNS).to_numpy().astype(np.float32)
    return LogisticRegression(max_iter=1000, **options).fit(x, frame["species"].to_numpy())


def write_iris_onnx(path: Path, *, classifier: Any = None) -> Path:
    """Convert an iris classifier with skl2onnx (input ``X`` [None, 4]; outputs ``label``
    and ``probabilities``) and write it to ``path``."""
    import numpy as np
    from skl2onnx import to_onnx

    clf = classifier if classifier is not None else iris_classifier()
    sample = iris_frame().select(IRIS_COLUMNS).head(1).to_numpy().astype(np.float32)
    model = to_onnx(clf, sample, options={"zipmap": False})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


def write_linear_onnx(path: Path, weights: list[float], bias: float = 0.0) -> Path:
    """A regressor built with ``onnx.helper``: ``y = X @ weights + bias`` (input ``X``
    float [None, len(weights)], output ``y`` float [None, 1])."""
    import numpy as np
    from onnx import TensorProto, helper, numpy_helper

    w = numpy_helper.from_array(np.asarray(weights, np.float32).reshape(-1, 1), "W")
    b = numpy_helper.from_array(np.asarray([bias], np.float32), "B")
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "W"], ["XW"]),
            helper.make_node("Add", ["XW", "B"], ["y"]),
        ],
        "linear",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, len(weights)])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())
    return path


def onnxruntime_sample_model(name: str = "logreg_iris.onnx") -> Path:
    """A model file shipped inside the onnxruntime wheel (``logreg_iris.onnx``: a fixed
    3 x 2 input, good for a wrong-shape test)."""
    import onnxruntime

    found = sorted(Path(onnxruntime.__file__).parent.rglob(name))
    if not found:
        raise FileNotFoundError(f"{name} is not in this onnxruntime wheel")
    return found[0]
