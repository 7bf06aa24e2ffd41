"""Ocht's error hierarchy: one root with stable codes, shared by every brick.

Example:
    >>> from ocht.errors import OchtError
    >>> OchtError("boom").code
    'ocht-error'
"""

from ocht.errors.core import (
    EXIT_INVALID,
    EXIT_OK,
    EXIT_RUN_FAILED,
    ConnectorError,
    ConnectorUnavailable,
    ExecutionError,
    InvalidPipeline,
    Issue,
    OchtError,
    OutputWriteError,
    SourceUnreachable,
    TransientError,
    UnknownColumn,
    UnknownName,
    missing_driver,
)
from ocht.errors.panics import EngineFailure, engine_failure, is_panic
from ocht.errors.reporting import ErrorReport, report

__all__ = [
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_RUN_FAILED",
    "ConnectorError",
    "ConnectorUnavailable",
    "EngineFailure",
    "ErrorReport",
    "ExecutionError",
    "InvalidPipeline",
    "Issue",
    "OchtError",
    "OutputWriteError",
    "SourceUnreachable",
    "TransientError",
    "UnknownColumn",
    "UnknownName",
    "engine_failure",
    "is_panic",
    "missing_driver",
    "report",
]
