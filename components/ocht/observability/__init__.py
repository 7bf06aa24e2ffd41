"""Structured logs with run context, lifecycle hooks, redaction of secrets.

Example:
    >>> from ocht.observability import bound, get_logger
    >>> with bound(run_id="r1"):
    ...     get_logger().debug("hello")
"""

from ocht.observability.hooks import HookGroup, LoggingHooks, RunHooks
from ocht.observability.logging import (
    add_secrets,
    bound,
    configure_logging,
    get_logger,
    redact_processor,
)

__all__ = [
    "HookGroup",
    "LoggingHooks",
    "RunHooks",
    "add_secrets",
    "bound",
    "configure_logging",
    "get_logger",
    "redact_processor",
]
