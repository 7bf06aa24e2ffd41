"""Structured logs with run context, lifecycle hooks, redaction of secrets.

Example:
    >>> from structlog.testing import capture_logs
    >>> from ocht.observability import bound, get_logger
    >>> with capture_logs() as logs, bound(run_id="r1"):
    ...     get_logger().info("step finished", step="filter_1")
    >>> logs[0]["event"], logs[0]["step"]
    ('step finished', 'filter_1')
"""

from ocht.observability.hooks import HookGroup, LoggingHooks, RunHooks
from ocht.observability.logging import bound, configure_logging, get_logger, redact_processor
from ocht.observability.redaction import (
    MASK,
    add_secrets,
    forget_secrets,
    redact,
    redact_value,
    registered_secrets,
    url_hint,
)

__all__ = [
    "MASK",
    "HookGroup",
    "LoggingHooks",
    "RunHooks",
    "add_secrets",
    "bound",
    "configure_logging",
    "forget_secrets",
    "get_logger",
    "redact",
    "redact_processor",
    "redact_value",
    "registered_secrets",
    "url_hint",
]
