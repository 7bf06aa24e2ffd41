"""A source that fails N times before it answers: for retry tests.

Connector type ``flaky``: ``{type: flaky, key: K, rows: [...], fail_times: N,
error: transient|permanent, retry: {...}}``. Each :meth:`scan` "connects" through
:func:`ocht.resilience.call_with_retry` with the input's ``retry:`` policy (one attempt
without it); the first ``fail_times`` connections raise. :func:`flaky_attempts` tells
how many connections were tried.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Literal

import polars as pl
from pydantic import ConfigDict, Field

from ocht.pipeline_model import ConnectorBase, Retry
from ocht.registry import ConnectorType, Source
from ocht.resilience import call_with_retry

_LOCK = threading.Lock()
_ATTEMPTS: dict[str, int] = {}


class FlakySpec(ConnectorBase):
    """Inline rows behind a connection that fails ``fail_times`` times first."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
    type: Literal["flaky"] = "flaky"
    key: str = "flaky"
    rows: list[dict[str, Any]] = Field(default_factory=list)
    fail_times: int = Field(default=0, ge=0)
    error: Literal["transient", "permanent"] = "transient"
    delay: float = Field(default=0.0, ge=0, description="Seconds each connection takes.")


def flaky_attempts(key: str = "flaky") -> int:
    """How many times the flaky source ``key`` tried to connect."""
    with _LOCK:
        return _ATTEMPTS.get(key, 0)


def reset_flaky() -> None:
    """Forget every attempt count."""
    with _LOCK:
        _ATTEMPTS.clear()


class FlakySource(Source):
    """Fails its first ``fail_times`` connections, then gives ``rows``."""

    spec: FlakySpec

    def _connect(self) -> pl.DataFrame:
        if self.spec.delay:
            time.sleep(self.spec.delay)
        with _LOCK:
            _ATTEMPTS[self.spec.key] = n = _ATTEMPTS.get(self.spec.key, 0) + 1
        if n <= self.spec.fail_times:
            if self.spec.error == "transient":
                raise ConnectionResetError(f"connection {n} reset by peer")
            raise PermissionError(f"connection {n}: access denied")
        return pl.DataFrame(self.spec.rows, infer_schema_length=None)

    def scan(self) -> pl.LazyFrame:
        policy = self.spec.retry or Retry(attempts=1)
        frame = call_with_retry(self._connect, policy=policy, what=f"connect to {self.describe()}")
        return frame.lazy()

    def schema(self) -> pl.Schema:
        return pl.DataFrame(self.spec.rows, infer_schema_length=None).schema

    def describe(self) -> str:
        return f"flaky:{self.spec.key}"


FLAKY = ConnectorType(
    "flaky",
    FlakySpec,
    FlakySource,
    None,
    batch=True,
    stream=False,
    summary="Inline rows behind a connection that fails N times first (retry tests).",
)
