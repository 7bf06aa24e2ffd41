"""The root of every error Ocht raises on purpose.

Each class carries a stable ``code`` (what scripts and the API match on), a message for
people, an optional ``hint`` that says what to do, and data about where it happened.
The CLI maps ``exit_code`` to the process status (0 ok, 1 run failed, 2 invalid pipeline
or usage).

    OchtError                      ocht-error            exit 1
    ├── InvalidPipeline            invalid-pipeline      exit 2  (carries every Issue found)
    │   ├── UnknownColumn          unknown-column        exit 2
    │   └── UnknownName            unknown-step / unknown-connector / unknown-input ...
    ├── ConnectorError             connector-error       exit 1
    │   ├── ConnectorUnavailable   connector-unavailable exit 2  (not in this artifact)
    │   ├── SourceUnreachable      source-unreachable    exit 1
    │   ├── OutputWriteError       output-write-failed   exit 1
    │   └── TransientError         transient-error       exit 1  (retried first)
    └── ExecutionError             execution-failed      exit 1

Bricks subclass these in their own ``errors.py`` with a more specific ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_RUN_FAILED = 1
EXIT_INVALID = 2


@dataclass(frozen=True)
class Issue:
    """One problem found in a pipeline document.

    Attributes:
        code: stable machine-readable code, e.g. ``unknown-key``.
        message: what is wrong, for people.
        path: the field path inside the document, e.g. ``steps[2].where``.
        file: the document's file, when it came from one.
        line: 1-based line of the field in that file, when known.
        hint: what to do about it (a suggestion for a misspelt name, say).
    """

    code: str
    message: str
    path: str = ""
    file: str | None = None
    line: int | None = None
    hint: str | None = None

    def location(self) -> str:
        """``file:line`` (or whatever part of it is known) followed by the field path."""
        where = self.file or ""
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        if self.path:
            where = f"{where} {self.path}".strip()
        return where

    def render(self) -> str:
        """One line: location, message and hint."""
        text = f"{self.location()}: {self.message}" if self.location() else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text


class OchtError(Exception):
    """Root of Ocht's errors: a stable ``code``, a message, an optional hint."""

    code: str = "ocht-error"
    exit_code: int = EXIT_RUN_FAILED

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        code: str | None = None,
        step: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.step = step
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (used by the run result, the API and the manifest)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        if self.step:
            out["step"] = self.step
        out.update({k: v for k, v in self.details.items() if _jsonable(v)})
        return out

    def __str__(self) -> str:
        return self.message


def _jsonable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool, type(None), list, dict))


class InvalidPipeline(OchtError):
    """The pipeline cannot run as written; ``issues`` holds every problem found."""

    code = "invalid-pipeline"
    exit_code = EXIT_INVALID

    def __init__(
        self,
        message: str,
        *,
        issues: list[Issue] | tuple[Issue, ...] = (),
        hint: str | None = None,
        code: str | None = None,
        step: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message, hint=hint, code=code, step=step, **details)
        self.issues: tuple[Issue, ...] = tuple(issues)

    @classmethod
    def from_issues(cls, issues: list[Issue], *, file: str | None = None) -> InvalidPipeline:
        """One error carrying every issue; its code is the first issue's code when alone."""
        noun = "problem" if len(issues) == 1 else "problems"
        where = f" in {file}" if file else ""
        lines = "\n".join(f"  - {i.render()}" for i in issues)
        code = issues[0].code if len(issues) == 1 else cls.code
        return cls(f"{len(issues)} {noun}{where}:\n{lines}", issues=issues, code=code)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["issues"] = [
            {k: v for k, v in i.__dict__.items() if v is not None} for i in self.issues
        ]
        return out


class UnknownColumn(InvalidPipeline):
    """An expression names a column that the step's input does not have."""

    code = "unknown-column"


class UnknownName(InvalidPipeline):
    """A step kind, connector type, input or profile that does not exist."""

    code = "unknown-name"


class ConnectorError(OchtError):
    """A connector failed to read or write."""

    code = "connector-error"


class ConnectorUnavailable(ConnectorError):
    """The connector exists in Ocht but not in this installed artifact."""

    code = "connector-unavailable"
    exit_code = EXIT_INVALID


class SourceUnreachable(ConnectorError):
    """A source cannot be opened: a missing file, a server that does not answer."""

    code = "source-unreachable"


class OutputWriteError(ConnectorError):
    """An output could not be written; nothing partial was left behind."""

    code = "output-write-failed"


class TransientError(ConnectorError):
    """A failure worth retrying (a reset connection, a timeout, a broker not ready)."""

    code = "transient-error"

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ExecutionError(OchtError):
    """The run failed while processing data."""

    code = "execution-failed"


#: driver module → the extra of the ``ocht-cli`` artifact that installs it
EXTRAS: dict[str, str] = {"psycopg": "postgres", "psycopg2": "postgres"}


def missing_driver(exc: ModuleNotFoundError, *, what: str, artifact: str = "ocht-cli") -> OchtError:
    """The error for a database driver that is not installed, naming the extra to install.

    Example:
        >>> err = missing_driver(ModuleNotFoundError(name="psycopg"), what="PostgreSQL")
        >>> err.code, err.hint
        ('missing-extra', "pip install 'ocht-cli[postgres]'")
    """
    module = (exc.name or "").split(".")[0]
    extra = EXTRAS.get(module)
    hint = f"pip install '{artifact}[{extra}]'" if extra else f"pip install {module}"
    return ConnectorUnavailable(
        f"{what} needs the '{module}' driver, which is not installed",
        hint=hint,
        code="missing-extra",
        library=module,
        extra=extra,
    )
