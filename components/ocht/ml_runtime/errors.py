"""The ml_runtime brick's errors.

OchtError
├── InvalidPipeline
│   ├── ModelNotFound         model-not-found        exit 2  (no file at the model path)
│   ├── ModelUnreadable       model-unreadable       exit 2  (not a model ONNX Runtime loads)
│   └── ModelMismatch         model-mismatch         exit 2  (inputs do not fit the columns)
├── ConnectorError
│   ├── MlExtraMissing        ml-extra-missing       exit 2  (onnxruntime / httpx absent)
│   └── EndpointUnavailable   endpoint-unavailable   exit 1  (down, or failing past retries)
└── ExecutionError
    └── EndpointError         endpoint-error         exit 1  (a permanent HTTP error: 4xx)

An answer that does not fit the step's JSON schema is not an error: the row becomes a
dead letter with code ``llm-answer-invalid``.
"""

from __future__ import annotations

from ocht.errors import EXIT_INVALID, ConnectorError, ExecutionError, InvalidPipeline, Issue

ANSWER_INVALID = "llm-answer-invalid"
EMBEDDING_INVALID = "embedding-invalid"


def _issue(
    cls: type[InvalidPipeline], message: str, *, step: str, path: str, hint: str | None
) -> InvalidPipeline:
    text = f"step '{step}': {message}"
    return cls(text, issues=[Issue(cls.code, text, path, hint=hint)], hint=hint, step=step)


class ModelNotFound(InvalidPipeline):
    """The model file does not exist."""

    code = "model-not-found"

    @classmethod
    def at(cls, path: str, *, step: str, field: str) -> ModelNotFound:
        """The error for model file ``path`` of step ``step`` (field path ``field``)."""
        err = _issue(
            cls,
            f"model file not found: {path}",
            step=step,
            path=field,
            hint="the path is relative to the pipeline file's folder",
        )
        assert isinstance(err, ModelNotFound)
        return err


class ModelUnreadable(InvalidPipeline):
    """The file is not a model the runtime can load."""

    code = "model-unreadable"


class ModelMismatch(InvalidPipeline):
    """The model's inputs do not match the step's columns (names, count or types)."""

    code = "model-mismatch"


class MlExtraMissing(ConnectorError):
    """The runtime library of a step is not installed in this artifact."""

    code = "ml-extra-missing"
    exit_code = EXIT_INVALID


class EndpointUnavailable(ConnectorError):
    """The model endpoint did not answer (or kept failing) through every retry."""

    code = "endpoint-unavailable"


class EndpointError(ExecutionError):
    """The endpoint refused a request for good (a 4xx other than 408/409/429)."""

    code = "endpoint-error"


def mismatch(message: str, *, step: str, path: str, hint: str | None = None) -> ModelMismatch:
    """A :class:`ModelMismatch` with one issue at ``path``."""
    err = _issue(ModelMismatch, message, step=step, path=path, hint=hint)
    assert isinstance(err, ModelMismatch)
    return err


def unreadable(message: str, *, step: str, path: str) -> ModelUnreadable:
    """A :class:`ModelUnreadable` with one issue at ``path``."""
    err = _issue(
        ModelUnreadable,
        message,
        step=step,
        path=path,
        hint="export the model to ONNX (skl2onnx, torch.onnx) or skops",
    )
    assert isinstance(err, ModelUnreadable)
    return err


def need_extra(library: str) -> MlExtraMissing:
    """The error for a missing runtime library."""
    return MlExtraMissing(
        f"this step needs the library '{library}', not installed",
        hint="install the ml extra: pip install 'ocht-cli[ml]' (or 'ocht-worker[ml]')",
        library=library,
    )
