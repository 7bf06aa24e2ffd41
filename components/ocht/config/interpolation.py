"""``${var}``, ``${var:-default}``, ``${env:NAME}`` and ``${env:NAME:-default}`` in strings.

A dotted name reaches into a mapping value: ``${period.start}`` is ``variables["period"]
["start"]`` (the scheduler passes each run's period that way).

A string that is exactly one reference takes the value's own type (``${limit}`` → 10);
references inside longer strings are spliced in as text. ``$${...}`` escapes a literal.
Values read from the environment are collected as secrets so logs can redact them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ocht.errors import InvalidPipeline, Issue

_REF = re.compile(r"\$\$\{|\$\{(env:)?([A-Za-z_][A-Za-z0-9_.\-]*)(?::-([^}]*))?\}")


@dataclass
class Interpolation:
    """Result of interpolating a document: the data, the secrets used, the problems found."""

    data: Any
    secrets: set[str] = field(default_factory=set)
    issues: list[Issue] = field(default_factory=list)
    used: set[str] = field(default_factory=set)
    """The variable names (not ``env:``) the document refers to."""


def interpolate(
    data: Any,
    variables: Mapping[str, Any],
    env: Mapping[str, str] | None = None,
    *,
    file: str | None = None,
) -> Interpolation:
    """Replace references everywhere in ``data`` (dict keys are left alone).

    Example:
        >>> interpolate({"n": "${x}", "s": "a-${x}"}, {"x": 3}).data
        {'n': 3, 's': 'a-3'}
    """
    environ = os.environ if env is None else env
    result = Interpolation(data=None)

    def one(text: str, path: str) -> Any:
        whole = _REF.fullmatch(text)
        if whole and whole.group(0) != "$${":
            return resolve(whole, path)

        def splice(m: re.Match[str]) -> str:
            if m.group(0) == "$${":
                return "${"
            value = resolve(m, path)
            return "" if value is None else str(value)

        return _REF.sub(splice, text)

    def resolve(m: re.Match[str], path: str) -> Any:
        is_env, name, default = m.group(1), m.group(2), m.group(3)
        if is_env:
            if name in environ:
                value = environ[name]
                if value:
                    result.secrets.add(value)
                return value
            if default is not None:
                return default
            result.issues.append(
                Issue(
                    "missing-variable",
                    f"environment variable '{name}' is not set",
                    path,
                    file,
                    hint=f"export {name}=... or write ${{env:{name}:-default}}",
                )
            )
            return ""
        result.used.add(name)
        if name in variables:
            return variables[name]
        found = _dotted(variables, name)
        if found is not _MISSING:
            return found
        if default is not None:
            return default
        known = ", ".join(sorted(variables)) or "none defined"
        result.issues.append(
            Issue(
                "missing-variable",
                f"variable '{name}' is not defined",
                path,
                file,
                hint=f"define it under vars:, pass --set {name}=..., or write ${{{name}:-default}}"
                f" (known: {known})",
            )
        )
        return ""

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, str):
            return one(value, path)
        if isinstance(value, dict):
            return {k: walk(v, f"{path}.{k}" if path else str(k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, f"{path}[{i}]") for i, v in enumerate(value)]
        return value

    result.data = walk(data, "")
    return result


_MISSING = object()


def _dotted(variables: Mapping[str, Any], name: str) -> Any:
    """``a.b.c`` looked up through nested mappings, or ``_MISSING``."""
    head, dot, rest = name.partition(".")
    if not dot or head not in variables:
        return _MISSING
    value: Any = variables[head]
    for part in rest.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


def raise_issues(issues: list[Issue], file: str | None) -> None:
    """Raise :class:`InvalidPipeline` when there are issues."""
    if issues:
        raise InvalidPipeline.from_issues(issues, file=file)
