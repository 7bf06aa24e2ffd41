"""Structured logs with run context, lifecycle hooks, redaction of secrets.

Example:
    >>> import io
    >>> from ocht.observability import bound, configure_logging, get_logger
    >>> out = io.StringIO()
    >>> configure_logging("json", "info", stream=out)
    >>> with bound(run_id="r1"):
    ...     get_logger().info("hello")
    >>> '"run_id": "r1"' in out.getvalue()
    True
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
