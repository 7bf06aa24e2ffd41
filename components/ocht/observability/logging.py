"""structlog setup: a console renderer on a terminal, JSON lines otherwise.

Every event carries the bound run context (``run_id``, ``pipeline``, ``step``) through
``structlog.contextvars``; secrets registered with :func:`add_secrets` are redacted from
every event before it is rendered.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TextIO

import structlog

_SECRETS: set[str] = set()
_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


def add_secrets(secrets: Iterable[str]) -> None:
    """Register values that must never appear in a log line."""
    _SECRETS.update(s for s in secrets if s and len(s) >= 3)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        for secret in sorted(_SECRETS, key=len, reverse=True):
            value = value.replace(secret, "***")
        return value
    if isinstance(value, dict):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def redact_processor(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: replace registered secrets in every field."""
    if not _SECRETS:
        return event
    return {k: _redact_value(v) for k, v in event.items()}


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
            redact_processor,
            structlog.processors.format_exc_info,
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
