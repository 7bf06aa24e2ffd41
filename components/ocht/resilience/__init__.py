"""Retries with exponential backoff and jitter for connectors (tenacity underneath).

Example:
    >>> from ocht.pipeline_model import Retry
    >>> from ocht.resilience import call_with_retry
    >>> call_with_retry(lambda: 42, policy=Retry(attempts=3), what="answer")
    42
"""

from ocht.resilience.errors import RetriesExhausted
from ocht.resilience.retrying import (
    DEFAULT_POLICY,
    TRANSIENT_ERRNOS,
    call_with_retry,
    is_transient,
    with_retry,
)

__all__ = [
    "DEFAULT_POLICY",
    "TRANSIENT_ERRNOS",
    "RetriesExhausted",
    "call_with_retry",
    "is_transient",
    "with_retry",
]
