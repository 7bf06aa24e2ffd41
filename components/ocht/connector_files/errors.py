"""Errors raised by the file connectors.

OchtError
└── ConnectorError
    ├── SourceUnreachable      source-unreachable    (ocht.errors: a missing file, ...)
    ├── OutputWriteError       output-write-failed   (ocht.errors: an unwritable path, ...)
    └── MalformedRecord        malformed-record      a row the file format cannot hold:
                                                     wrong field count, a value that
                                                     does not parse, bytes that do not
                                                     decode; names the file and line
"""

from __future__ import annotations

from typing import Any

from ocht.errors import ConnectorError


class MalformedRecord(ConnectorError):
    """A record in an input file cannot be read as written.

    Attributes:
        file: the file holding the record.
        line: the 1-based line where the record starts, when known.

    Example:
        >>> err = MalformedRecord("bad row", file="a.csv", line=3)
        >>> (err.code, err.to_dict()["line"])
        ('malformed-record', 3)
    """

    code = "malformed-record"

    def __init__(self, message: str, *, file: str, line: int | None = None, **details: Any) -> None:
        super().__init__(message, file=file, line=line, **details)
        self.file = file
        self.line = line
