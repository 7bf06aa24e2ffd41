"""Retries for connectors: transient errors retried with backoff, permanent ones at once.

Built on tenacity. A connector wraps the call that talks to the outside world (open a
connection, fetch metadata, write a batch) in :func:`call_with_retry` with its
``retry:`` policy. Each retry is logged (``retrying`` with the attempt, the wait and the
error); when attempts or time run out, :class:`RetriesExhausted` names the system, the
attempts and the last error.
"""

from __future__ import annotations

import errno
import time
from collections.abc import Callable
from typing import Any, TypeVar

import tenacity

from ocht.errors import OchtError, TransientError
from ocht.observability import get_logger, redact
from ocht.pipeline_model import Retry
from ocht.resilience.errors import RetriesExhausted

T = TypeVar("T")

#: errno values of network failures worth another try
TRANSIENT_ERRNOS = frozenset(
    {
        errno.ECONNRESET,
        errno.ECONNREFUSED,
        errno.ECONNABORTED,
        errno.ETIMEDOUT,
        errno.EHOSTUNREACH,
        errno.ENETUNREACH,
        errno.ENETDOWN,
        errno.EPIPE,
        errno.EAGAIN,
    }
)

DEFAULT_POLICY = Retry()


def is_transient(exc: BaseException) -> bool:
    """Whether ``exc`` is worth retrying.

    True for :class:`~ocht.errors.TransientError`, timeouts, refused or reset
    connections, and errors that say so themselves (a ``retriable()`` method returning
    true, as Kafka errors have). Every other error is permanent.

    Example:
        >>> is_transient(ConnectionRefusedError()), is_transient(ValueError())
        (True, False)
    """
    if isinstance(exc, TransientError | TimeoutError | ConnectionError):
        return True
    if isinstance(exc, OchtError):
        return False
    if isinstance(exc, OSError) and exc.errno in TRANSIENT_ERRNOS:
        return True
    retriable = getattr(exc, "retriable", None)
    if callable(retriable):
        try:
            return bool(retriable())
        except Exception:  # a broken predicate means "do not know": do not retry
            return False
    return False


def call_with_retry(
    fn: Callable[..., T],
    *args: Any,
    policy: Retry | None = None,
    what: str = "call",
    sleep: Callable[[float], None] = time.sleep,
    transient: Callable[[BaseException], bool] | None = None,
    **kwargs: Any,
) -> T:
    """Call ``fn(*args, **kwargs)``, retrying transient failures under ``policy``.

    An error with a ``retry_after`` (seconds, as :class:`~ocht.errors.TransientError`
    carries from a ``Retry-After`` header) waits at least that long, up to ``max_delay``.

    Args:
        fn: the call that talks to the outside world.
        policy: attempts, backoff and time budget (default: :data:`DEFAULT_POLICY`).
        what: what is being done, for logs and the error (``connect to db:5432``).
        sleep: how to wait (tests pass a fake).
        transient: which errors are worth another try, beside :func:`is_transient`
            (a driver's own "connection lost" errors).

    Raises:
        RetriesExhausted: a transient failure lasted through every attempt.
        Exception: a permanent failure, raised at once as it was.

    Example:
        >>> calls = []
        >>> def flaky():
        ...     calls.append(1)
        ...     if len(calls) < 3:
        ...         raise ConnectionResetError("reset")
        ...     return "ok"
        >>> from structlog.testing import capture_logs
        >>> with capture_logs() as logs:
        ...     call_with_retry(flaky, policy=Retry(initial=0, jitter=0), sleep=lambda s: None)
        'ok'
        >>> len(calls), [e["attempt"] for e in logs if e["event"] == "retrying"]
        (3, [1, 2])
    """
    p = policy or DEFAULT_POLICY
    log = get_logger("ocht.retry")
    started = time.monotonic()
    stop: Any = tenacity.stop_after_attempt(p.attempts)
    if p.timeout is not None:
        stop = stop | tenacity.stop_after_delay(p.timeout)
    backoff = tenacity.wait_exponential(
        multiplier=p.initial, exp_base=p.multiplier, max=p.max_delay
    ) + tenacity.wait_random(0, p.jitter)

    def wait(state: tenacity.RetryCallState) -> float:
        # a server that says when to come back (429/503 Retry-After) is believed
        delay = float(backoff(state))
        exc = state.outcome.exception() if state.outcome else None
        after = getattr(exc, "retry_after", None)
        if isinstance(after, int | float) and after > delay:
            delay = min(float(after), max(p.max_delay, delay))
        return delay

    def before_sleep(state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "retrying",
            what=what,
            attempt=state.attempt_number,
            of=p.attempts,
            wait=round(delay, 3),
            error=redact(f"{type(exc).__name__}: {exc}"),
        )

    retrying = tenacity.Retrying(
        stop=stop,
        wait=wait,
        sleep=sleep,
        reraise=False,
        before_sleep=before_sleep,
        retry=tenacity.retry_if_exception(
            is_transient if transient is None else lambda e: is_transient(e) or transient(e)
        ),
    )
    try:
        return retrying(fn, *args, **kwargs)
    except tenacity.RetryError as err:
        last = err.last_attempt.exception()
        attempts = err.last_attempt.attempt_number
        seconds = time.monotonic() - started
        raise RetriesExhausted(
            f"{what} failed {attempts} time{'s' if attempts != 1 else ''} in "
            f"{seconds:.1f}s: " + redact(f"{type(last).__name__}: {last}"),
            attempts=attempts,
            seconds=seconds,
            hint="check that the system is up; raise `retry: {attempts, timeout}` to wait longer",
        ) from last


def with_retry(
    policy: Retry | None = None, *, what: str = "call"
) -> Callable[[Callable[..., T]], Callable[..., T]]:
    """Decorator form of :func:`call_with_retry`.

    Example:
        >>> @with_retry(Retry(attempts=2, initial=0, jitter=0), what="ping")
        ... def ping() -> str:
        ...     return "pong"
        >>> ping()
        'pong'
    """

    def decorate(fn: Callable[..., T]) -> Callable[..., T]:
        def wrapper(*args: Any, **kwargs: Any) -> T:
            return call_with_retry(fn, *args, policy=policy, what=what, **kwargs)

        wrapper.__name__ = getattr(fn, "__name__", "wrapper")
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return decorate
