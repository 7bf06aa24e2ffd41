"""Step specs for model inference, adaptive anomaly thresholds and LLM enrichment.

``predict`` runs a model file (ONNX, or scikit-learn through skops) over columns;
``anomaly`` scores a value column against running statistics per key; ``llm`` and
``embed`` call an OpenAI-compatible endpoint. The ``ml_runtime`` brick builds them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from ocht.pipeline_model.retry import Retry
from ocht.pipeline_model.steps import Spec, StepBase, _as_list


class PredictOutputs(Spec):
    """Columns a ``predict`` step adds (each optional; at least one)."""

    label: str | None = Field(default=None, description="The model's predicted label.")
    probabilities: str | None = Field(
        default=None, description="Class probabilities, as a list column."
    )
    score: str | None = Field(
        default=None,
        description="One number per row: the positive class's probability, or a "
        "regressor's output.",
    )
    flag: str | None = Field(
        default=None, description="Boolean column: `score >= threshold` (needs `threshold`)."
    )


class Predict(StepBase):
    """Run a model over columns: ONNX Runtime in process, one session per model file."""

    kind: Literal["predict"]
    model: str = Field(min_length=1, description="Model file, relative to the pipeline.")
    format: Literal["onnx", "skops"] | None = Field(
        default=None, description="Model format (default: from the file suffix)."
    )
    inputs: dict[str, list[str]] | list[str] = Field(
        description="Columns fed to the model: a list for its only input tensor, or "
        "``{tensor: [columns]}``."
    )
    outputs: PredictOutputs = Field(
        description="Result columns: `label`, `probabilities`, `score`, `flag`."
    )
    threshold: float | None = Field(default=None, description="Cut-off for `outputs.flag`.")
    positive_class: int = Field(
        default=-1, description="Which probability is the score (index; -1: the last)."
    )
    label_output: str = Field(default="label", description="The model's label output name.")
    probabilities_output: str = Field(
        default="probabilities", description="The model's probabilities output name."
    )
    chunk_rows: int = Field(
        default=262_144, ge=1, description="Rows per inference call (bounds memory)."
    )

    @model_validator(mode="after")
    def _outputs_make_sense(self) -> Predict:
        o = self.outputs
        if not any((o.label, o.probabilities, o.score, o.flag)):
            raise ValueError("`outputs` names no column: give label, probabilities or score")
        if o.flag and self.threshold is None:
            raise ValueError("`outputs.flag` needs a `threshold`")
        return self


class AnomalyOutputs(Spec):
    """Column names of an ``anomaly`` step's results."""

    score: str = Field(default="anomaly_score", description="Column of the score.")
    threshold: str = Field(
        default="anomaly_threshold", description="Column of the threshold in force."
    )
    is_anomaly: str = Field(default="is_anomaly", description="Column of the flag.")


class Anomaly(StepBase):
    """Score a value per key against running statistics; flag what lies beyond them.

    Records are ordered by ``time`` (then by their order in the source). Each row is
    scored against the statistics of the rows before it (of its key), then added to them.
    """

    kind: Literal["anomaly"]
    value: str = Field(description="The numeric column scored.")
    by: list[str] = Field(default_factory=list, description="Key columns: statistics per key.")
    time: str | None = Field(default=None, description="Event-time column rows are ordered by.")
    method: Literal["zscore", "robust", "quantile"] = Field(
        default="zscore",
        description="`zscore` (EW mean and variance), `robust` (rolling median and MAD) or "
        "`quantile` (rolling quantile).",
    )
    half_life: float = Field(
        default=20.0, gt=0, description="zscore: rows after which an old value weighs half."
    )
    window: int = Field(
        default=100, ge=2, le=100_000, description="robust, quantile: the last N values."
    )
    quantile: float = Field(default=0.99, gt=0, lt=1, description="quantile: the cut-off.")
    k: float = Field(default=3.0, gt=0, description="zscore, robust: deviations that count.")
    min_history: int = Field(
        default=10, ge=1, description="Values a key needs before anything is flagged."
    )
    outputs: AnomalyOutputs = Field(
        default_factory=AnomalyOutputs, description="Names of the result columns."
    )
    _v = field_validator("by", mode="before")(_as_list)


class Endpoint(StepBase):
    """What ``llm`` and ``embed`` share: an OpenAI-compatible endpoint and its limits."""

    base_url: str = Field(min_length=1, description="e.g. `http://127.0.0.1:8080/v1`.")
    model: str = Field(min_length=1, description="The model name the endpoint serves.")
    api_key: SecretStr | None = Field(
        default=None, description="Use `${env:NAME}`; never logged or stored."
    )
    concurrency: int = Field(default=4, ge=1, le=256, description="Requests at once.")
    requests_per_minute: int | None = Field(
        default=None, ge=1, description="Requests a minute, at most."
    )
    tokens_per_minute: int | None = Field(
        default=None, ge=1, description="Tokens a minute, at most (estimated before sending)."
    )
    timeout: float = Field(default=60.0, gt=0, description="Seconds per request.")
    retry: Retry = Field(
        default_factory=lambda: Retry(attempts=4, initial=0.5, timeout=300),
        description="Retries for 429, 5xx and timeouts (`Retry-After` honoured).",
    )
    cache: bool = Field(default=True, description="Reuse answers to identical requests.")


class Llm(Endpoint):
    """Ask a chat model about each row; a JSON-schema answer becomes typed columns."""

    kind: Literal["llm"]
    prompt: str = Field(min_length=1, description="Template: `{column}` is the row's value.")
    system: str | None = Field(default=None, description="A system prompt.")
    prompt_version: str = Field(
        default="1", description="Change it to re-ask everything (part of the cache key)."
    )
    schema_: dict[str, Any] | None = Field(
        default=None,
        alias="schema",
        description="JSON schema of the answer (an object): its properties become columns.",
    )
    output: str = Field(default="answer", description="Column of the text answer (no schema).")
    temperature: float = Field(default=0.0, ge=0, description="Sampling temperature.")
    max_tokens: int | None = Field(default=256, ge=1, description="Longest answer, in tokens.")
    params: dict[str, Any] = Field(default_factory=dict, description="More request fields.")


class Embed(Endpoint):
    """Embedding vectors of a text column, as a list column."""

    kind: Literal["embed"]
    column: str = Field(description="The text column embedded.")
    output: str = Field(default="embedding", description="Column of the vectors.")
    batch_size: int = Field(default=32, ge=1, le=2048, description="Texts per request.")
    dimensions: int | None = Field(default=None, ge=1, description="Expected vector length.")
    params: dict[str, Any] = Field(default_factory=dict, description="More request fields.")


#: The step kinds of this module, by ``kind``.
ML_STEPS: dict[str, type[StepBase]] = {
    "predict": Predict,
    "anomaly": Anomaly,
    "llm": Llm,
    "embed": Embed,
}
