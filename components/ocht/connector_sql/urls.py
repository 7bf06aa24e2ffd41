"""URLs and engines (from :mod:`ocht.sql_engine`) and connecting under the ``retry:`` policy."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, OperationalError

from ocht.pipeline_model import Retry
from ocht.resilience import call_with_retry
from ocht.sql_engine import create_engine, parse_url, reason, redact_url

T = TypeVar("T")

__all__ = ["create_engine", "is_transient_db_error", "parse_url", "reason", "redact_url"]


def is_transient_db_error(exc: BaseException) -> bool:
    """Whether a database error is worth another try: a refused, reset or lost connection.

    Example:
        >>> is_transient_db_error(ValueError("no"))
        False
    """
    if isinstance(exc, OperationalError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def with_retries(action: Callable[[], T], policy: Retry | None, *, what: str) -> T:
    """Run ``action`` (a connect) under ``policy``, retrying operational errors.

    Raises:
        RetriesExhausted: every attempt failed with a transient error.
        SQLAlchemyError: a permanent failure (bad password, unknown database), at once.
    """
    return call_with_retry(action, policy=policy, what=what, transient=is_transient_db_error)
