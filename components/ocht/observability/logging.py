"""structlog setup: a console renderer on a terminal, JSON lines otherwise.

Every event carries the bound run context (``run_id``, ``pipeline``, ``step``) through
``structlog.contextvars``; every event (its traceback included) goes through the one
redaction before it is rendered.

structlog (with what it pulls in: rich's tracebacks, asyncio) costs about as much to
import as a small run takes, and ``ocht run`` on a terminal logs nothing below
``warning``. So while structlog is not imported yet, :func:`configure_logging` only
notes the settings, and a logger from :func:`get_logger` imports and configures
structlog at the first event that passes the level; context bound meanwhile is kept
here and bound to that event. Once structlog is imported, everything goes straight to it.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TextIO

from ocht.observability.redaction import redact_value

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}
_METHOD_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "exception": logging.ERROR,
    "critical": logging.CRITICAL,
}
#: context bound by :func:`bound` before structlog was imported
_CONTEXT: ContextVar[Mapping[str, Any] | None] = ContextVar("ocht_log_context", default=None)


@dataclass(frozen=True)
class _Pending:
    fmt: str
    level: int
    stream: TextIO


_pending: list[_Pending] = []  # the settings noted before structlog was imported


def redact_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: :func:`~ocht.observability.redact` every field."""
    return {k: redact_value(v) for k, v in event.items()}


def configure_logging(
    fmt: str = "auto", level: str = "warning", stream: TextIO | None = None
) -> None:
    """Configure structlog for the process.

    Args:
        fmt: ``console``, ``json``, or ``auto`` (console when ``stream`` is a terminal).
        level: the lowest level written.
        stream: where log lines go (default: standard error).
    """
    settings = _Pending(fmt, _LEVELS.get(level, logging.WARNING), stream or sys.stderr)
    _pending[:] = [settings]
    if "structlog" in sys.modules:
        _apply()


def _apply() -> None:
    """Configure structlog with the settings noted (it is imported here)."""
    import structlog

    if not _pending:
        return
    settings = _pending.pop()
    out = settings.stream
    use_console = settings.fmt == "console" or (settings.fmt == "auto" and out.isatty())
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=out.isatty())
        if use_console
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact_processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(settings.level),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


class _Logger:
    """A logger that imports structlog only for an event that is written."""

    def __init__(self, name: str, context: Mapping[str, Any] | None = None) -> None:
        self._name = name
        self._context = dict(context or {})

    def bind(self, **context: Any) -> _Logger:
        """A logger adding ``context`` to every event."""
        return _Logger(self._name, {**self._context, **context})

    def __getattr__(self, method: str) -> Any:
        level = _METHOD_LEVELS.get(method)
        if level is None:
            raise AttributeError(method)

        def emit(event: str | None = None, *args: Any, **fields: Any) -> Any:
            if _pending and level < _pending[-1].level:
                return None  # filtered out: structlog need not be imported for it
            _apply()
            import structlog

            logger = structlog.get_logger(self._name)
            context = {**(_CONTEXT.get() or {}), **self._context}
            if context:
                logger = logger.bind(**context)
            return getattr(logger, method)(event, *args, **fields)

        return emit


def get_logger(name: str = "ocht") -> Any:
    """A structlog logger (bound to the current run context at each call)."""
    return _Logger(name)


@contextmanager
def bound(**context: Any) -> Iterator[None]:
    """Bind fields (``run_id``, ``step``, ...) to every event inside the block."""
    if "structlog" not in sys.modules:
        token = _CONTEXT.set({**(_CONTEXT.get() or {}), **context})
        try:
            yield
        finally:
            _CONTEXT.reset(token)
        return
    import structlog

    tokens = structlog.contextvars.bind_contextvars(**context)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
