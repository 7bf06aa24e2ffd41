"""The ``retry:`` option of a connector: how transient failures are retried.

Example:
    >>> Retry.model_validate({"attempts": 3, "initial": 0.1}).max_delay
    30.0
"""

from __future__ import annotations

from pydantic import Field

from ocht.pipeline_model.steps import Spec


class Retry(Spec):
    """Exponential backoff with jitter, bounded in attempts and in total time.

    The n-th wait is ``min(initial * multiplier**(n-1), max_delay)`` plus a random
    ``0..jitter`` seconds; no more than ``attempts`` tries and ``timeout`` seconds in all.
    """

    attempts: int = Field(default=5, ge=1, le=100, description="Tries in all (1: no retry).")
    initial: float = Field(default=0.5, ge=0, description="First wait, in seconds.")
    multiplier: float = Field(
        description="Each wait is the previous one times this.", default=2.0, ge=1
    )
    max_delay: float = Field(default=30.0, ge=0, description="Longest single wait.")
    jitter: float = Field(default=0.5, ge=0, description="Random extra wait, up to this.")
    timeout: float | None = Field(
        default=120.0, gt=0, description="Give up after this many seconds in all."
    )
