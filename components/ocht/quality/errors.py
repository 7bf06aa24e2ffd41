"""The quality brick's errors.

OchtError
├── ExecutionError
│   └── CheckFailed        check-failed      exit 1  (a ``fail`` check saw bad data)
└── InvalidPipeline
    └── (issues)           invalid-check     exit 2  (a check that cannot be built)
"""

from __future__ import annotations

from typing import Any

from ocht.errors import ExecutionError, InvalidPipeline, Issue


class CheckFailed(ExecutionError):
    """A check with ``action: fail`` found bad rows (or a bad input); no output was changed.

    Attributes:
        check: the check's name.
        failed: how many rows failed it (for whole-input checks, 1).
        samples: a few failing values.
    """

    code = "check-failed"

    def __init__(
        self, message: str, *, check: str, failed: int, samples: list[Any] | None = None, **kw: Any
    ) -> None:
        super().__init__(
            message, check=check, failed=failed, samples=[_plain(s) for s in samples or []], **kw
        )
        self.check = check
        self.failed = failed
        self.samples = list(samples or [])


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool | type(None)):
        return value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value)


def check_error(
    message: str, *, step: str, path: str, code: str = "invalid-check", hint: str | None = None
) -> InvalidPipeline:
    """An :class:`InvalidPipeline` with one issue at ``path``, prefixed by the step.

    Example:
        >>> check_error("bad", step="s", path="steps[0].checks[1]").issues[0].path
        'steps[0].checks[1]'
    """
    text = f"step '{step}': {message}"
    return InvalidPipeline(
        text, issues=[Issue(code, text, path, hint=hint)], code=code, hint=hint, step=step
    )
