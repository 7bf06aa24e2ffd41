"""The cancel token: one thread asks a run to stop, the executor honours it.

The executor looks at the token between batches and right before it commits any output,
so a cancelled run changes nothing (batch) or stops after the last committed batch
(stream), and ends with :class:`~ocht.executor.Cancelled`.
"""

from __future__ import annotations

import threading


class CancelToken:
    """A thread-safe, one-way flag asking a run to stop.

    Example:
        >>> token = CancelToken()
        >>> token.cancelled
        False
        >>> token.cancel()
        >>> token.cancelled, token.reason
        (True, 'cancelled')
    """

    __slots__ = ("_event", "_reason")

    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason = ""

    def cancel(self, reason: str = "cancelled") -> None:
        """Ask the run to stop; the first reason given is kept (``cancelled``, ``timeout``)."""
        if not self._event.is_set():
            self._reason = reason
            self._event.set()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self._event.is_set()

    @property
    def reason(self) -> str:
        """Why the run was cancelled (empty while it was not)."""
        return self._reason

    def wait(self, timeout: float | None = None) -> bool:
        """Block until cancelled or ``timeout`` seconds passed; whether it was cancelled."""
        return self._event.wait(timeout)
