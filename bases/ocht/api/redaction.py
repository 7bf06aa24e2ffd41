"""What leaves the server is redacted in one place.

:func:`scrub` walks a JSON value and, in every string, hides the secrets registered with
:func:`ocht.observability.add_secrets` (``${env:...}`` values met while loading
pipelines) through the observability brick's redaction, and passwords in URLs and
``password=`` pairs through the store's.
"""

from __future__ import annotations

from typing import Any

from ocht.observability import redact_processor
from ocht.store import redact_text


def scrub(value: Any) -> Any:
    """``value`` with every secret replaced by ``***`` (dicts, lists and strings walked).

    Example:
        >>> scrub({"url": "postgresql://bob:pw1@db/x", "n": 1})
        {'url': 'postgresql://bob:***@db/x', 'n': 1}
    """
    redacted = redact_processor(None, "", {"value": value})["value"]
    return _urls(redacted)


def _urls(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: _urls(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_urls(v) for v in value]
    return value
