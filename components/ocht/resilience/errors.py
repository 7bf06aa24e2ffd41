"""The resilience brick's errors.

OchtError
└── ConnectorError
    └── RetriesExhausted   retries-exhausted   exit 1  (a transient failure that lasted)
"""

from __future__ import annotations

from typing import Any

from ocht.errors import ConnectorError


class RetriesExhausted(ConnectorError):
    """A transient failure lasted through every attempt (or the time budget).

    Attributes:
        attempts: how many tries were made.
        seconds: how long they took in all.
    """

    code = "retries-exhausted"

    def __init__(self, message: str, *, attempts: int, seconds: float, **kw: Any) -> None:
        super().__init__(message, attempts=attempts, seconds=round(seconds, 3), **kw)
        self.attempts = attempts
        self.seconds = seconds
