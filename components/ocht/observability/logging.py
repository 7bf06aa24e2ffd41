"""structlog setup: a console renderer on a terminal, JSON lines otherwise.

Every event carries the bound run context (``run_id``, ``pipeline``, ``step``) through
``structlog.contextvars``; every event (its traceback included) goes through the one
redaction before it is rendered.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

from ocht.observability.redaction import redact_value

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


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
    out = stream or sys.stderr
    use_console = fmt == "console" or (fmt == "auto" and out.isatty())
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
        wrapper_class=structlog.make_filtering_bound_logger(_LEVELS.get(level, logging.WARNING)),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str = "ocht") -> Any:
    """A structlog logger (bound to the current run context at each call)."""
    return structlog.get_logger(name)


@contextmanager
def bound(**context: Any) -> Iterator[None]:
    """Bind fields (``run_id``, ``step``, ...) to every event inside the block."""
    tokens = structlog.contextvars.bind_contextvars(**context)
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
