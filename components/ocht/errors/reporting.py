"""Any exception as what a person should read: a headline, details, a hint, an exit code.

Every base (the CLI, the worker, the API) shows errors the same way; they only style it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ocht.errors.core import EXIT_RUN_FAILED, InvalidPipeline, OchtError
from ocht.errors.panics import engine_failure

BUG_HINT = "this is a bug in Ocht; run again with --debug for the traceback"


@dataclass(frozen=True)
class ErrorReport:
    """An error ready to show.

    Attributes:
        code: the stable code (``internal`` for an exception Ocht did not expect).
        headline: one line: what went wrong (with file, line and field when known).
        details: one line per problem when there are several.
        hint: what to do about it.
        exit_code: the process exit status to use.
    """

    code: str
    headline: str
    details: list[tuple[str, str]] = field(default_factory=list)
    hint: str | None = None
    exit_code: int = EXIT_RUN_FAILED

    @property
    def internal(self) -> bool:
        """Whether this is an unexpected exception (a bug), not an :class:`OchtError`."""
        return self.code == "internal"


def report(exc: BaseException) -> ErrorReport:
    """Describe ``exc`` for people.

    Example:
        >>> report(OchtError("boom", hint="try again")).headline
        'boom'
    """
    if isinstance(exc, InvalidPipeline) and len(exc.issues) > 1:
        details = [(i.code, i.render()) for i in exc.issues]
        return ErrorReport(
            exc.code, f"{len(exc.issues)} problems", details, exit_code=exc.exit_code
        )
    if isinstance(exc, InvalidPipeline) and exc.issues:
        issue = exc.issues[0]
        return ErrorReport(issue.code, issue.render(), exit_code=exc.exit_code)
    panic = engine_failure(exc)
    if panic is not None:  # never the Rust panic text: a stable code and a hint
        return ErrorReport(panic.code, panic.message, hint=panic.hint, exit_code=panic.exit_code)
    if isinstance(exc, OchtError):
        return ErrorReport(exc.code, exc.message, hint=exc.hint, exit_code=exc.exit_code)
    return ErrorReport("internal", f"{type(exc).__name__}: {exc}", hint=BUG_HINT)
