"""Models as steps: ``predict`` (ONNX Runtime; skops optional), ``anomaly``, ``llm``, ``embed``.

The registry imports this brick when a pipeline names one of :data:`STEP_KINDS`; the
heavy libraries (onnxruntime, httpx) are imported only when a step is built, so the
brick costs nothing to a run that does not use it.

Example:
    >>> import polars as pl
    >>> from ocht.pipeline_model import Anomaly
    >>> from ocht.transform import BuildContext
    >>> spec = Anomaly(kind="anomaly", value="v", min_history=3)
    >>> step = build_anomaly(spec, BuildContext("a", "steps[0]", (pl.Schema({"v": pl.Float64}),)))
    >>> frame = pl.LazyFrame({"v": [1.0, 1.2, 0.8, 1.0, 50.0]})
    >>> step.apply([frame]).collect()["is_anomaly"].to_list()
    [False, False, False, False, True]
"""

from ocht.ml_runtime.anomaly import AnomalyConfig, AnomalyOperator, AnomalyState, build_anomaly
from ocht.ml_runtime.endpoint import (
    EndpointClient,
    RateLimiter,
    ResponseCache,
    Usage,
    request_key,
)
from ocht.ml_runtime.errors import (
    ANSWER_INVALID,
    EndpointError,
    EndpointUnavailable,
    MlExtraMissing,
    ModelMismatch,
    ModelNotFound,
    ModelUnreadable,
)
from ocht.ml_runtime.llm import EndpointReport, build_embed, build_llm
from ocht.ml_runtime.models import MODELS, ModelCache, ModelInfo, TensorSpec
from ocht.ml_runtime.predict import PredictReport, build_predict
from ocht.pipeline_model import Anomaly, Embed, Llm, Predict
from ocht.transform import StepKind

#: The step kinds this brick provides (the registry imports them on first use).
STEP_KINDS: tuple[StepKind, ...] = (
    StepKind(
        "predict",
        Predict,
        build_predict,
        "Run a model file (ONNX, or scikit-learn via skops) over columns.",
    ),
    StepKind(
        "anomaly",
        Anomaly,
        build_anomaly,
        "Adaptive anomaly thresholds per key: zscore, robust or quantile.",
        stateful=True,
    ),
    StepKind("llm", Llm, build_llm, "Ask an OpenAI-compatible chat model; answers as columns."),
    StepKind("embed", Embed, build_embed, "Embedding vectors of a text column (a list column)."),
)

__all__ = [
    "ANSWER_INVALID",
    "MODELS",
    "STEP_KINDS",
    "AnomalyConfig",
    "AnomalyOperator",
    "AnomalyState",
    "EndpointClient",
    "EndpointError",
    "EndpointReport",
    "EndpointUnavailable",
    "MlExtraMissing",
    "ModelCache",
    "ModelInfo",
    "ModelMismatch",
    "ModelNotFound",
    "ModelUnreadable",
    "PredictReport",
    "RateLimiter",
    "ResponseCache",
    "TensorSpec",
    "Usage",
    "build_anomaly",
    "build_embed",
    "build_llm",
    "build_predict",
    "request_key",
]
