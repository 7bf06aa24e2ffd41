"""The SQL connector's errors.

    OchtError                                (ocht.errors)
    ├── InvalidPipeline
    │   └── InvalidSqlSpec       invalid-value     a spec that cannot work in its role
    └── ConnectorError
        ├── SourceUnreachable
        │   └── SqlUnreachable   source-unreachable  the server did not answer (after retries)
        └── OutputWriteError
            ├── SqlWriteError    output-write-failed the write failed; the transaction rolled back
            └── SchemaDriftError schema-drift        the data's columns differ from the table's

Messages never hold a password: URLs are shown through :func:`redact_url`, and driver
messages are scrubbed of the URL's password.
"""

from __future__ import annotations

from typing import Any

from ocht.errors import InvalidPipeline, OutputWriteError, SourceUnreachable


class InvalidSqlSpec(InvalidPipeline):
    """The ``sql`` spec cannot work where it is used (e.g. a ``query`` as an output)."""

    code = "invalid-value"


class SqlUnreachable(SourceUnreachable):
    """The database did not answer, after a few retries."""


class SqlWriteError(OutputWriteError):
    """Writing to the table failed; its transaction was rolled back."""


class SchemaDriftError(OutputWriteError):
    """The data's columns differ from the table's in a way the drift policy refuses.

    Attributes:
        diff: the differences, one line each (``+ col``, ``- col``, ``~ col``).
    """

    code = "schema-drift"

    def __init__(self, message: str, *, diff: list[str], **kw: Any) -> None:
        super().__init__(message, diff=diff, **kw)
        self.diff = diff
