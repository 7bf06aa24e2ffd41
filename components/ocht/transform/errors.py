"""The build-time errors of step kinds.

Every error is an :class:`~ocht.errors.InvalidPipeline` (or its subclass
:class:`~ocht.errors.UnknownColumn`) carrying one :class:`~ocht.errors.Issue` whose path
is the full field path of the offending option (``steps[3].columns.amount``). The codes
this brick raises:

    unknown-column       a column the step's input (or the joined input) lacks
    invalid-expression   a SQL expression or query that does not parse or type-check
    invalid-type         a type name that does not exist, or a column of the wrong type
    invalid-value        options that contradict each other or a value that does not fit
    missing-field        an option the others make necessary (``right_on`` with ``left_on``)
    schema-mismatch      inputs whose columns must agree and do not (strict union, join keys)
    batch-only-step      an option that needs all rows at once, asked for in stream mode
"""

from __future__ import annotations

from ocht.errors import InvalidPipeline, Issue


def step_error(
    code: str, message: str, *, step: str | None, path: str, hint: str | None = None
) -> InvalidPipeline:
    """An :class:`InvalidPipeline` with one issue, its message prefixed by the step.

    Args:
        code: the stable code, e.g. ``invalid-value``.
        message: what is wrong.
        step: the step id (``None`` outside a step, e.g. a bare :func:`parse_dtype` call).
        path: the field path, e.g. ``steps[2].columns.ts``.
        hint: what to do about it.

    Example:
        >>> err = step_error("invalid-value", "n must be positive", step="s", path="steps[0].n")
        >>> (err.code, err.issues[0].path)
        ('invalid-value', 'steps[0].n')
    """
    text = f"step '{step}': {message}" if step else message
    issue = Issue(code, text, path, hint=hint)
    return InvalidPipeline(text, issues=[issue], code=code, hint=hint, step=step)
