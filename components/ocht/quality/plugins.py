"""Custom checks: a :class:`CheckType` registered in process or through entry points.

A plugin package exposes, in the entry point group ``ocht.checks``, a :class:`CheckType`
(or a list of them). Its ``violation`` function turns the check's options and the step's
input schema into a Polars expression that is true for each failing row, so a plugin check
is as vectorised as a built-in one.

Example:
    >>> import polars as pl
    >>> from pydantic import BaseModel
    >>> class Even(BaseModel):
    ...     column: str
    >>> even = CheckType("even", Even, lambda spec, schema: pl.col(spec.column) % 2 != 0)
    >>> register_check(even)
    >>> check_type("even").name
    'even'
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

import polars as pl

from ocht.errors import OchtError

CHECK_GROUP = "ocht.checks"

Violation = Callable[[Any, pl.Schema], pl.Expr]


@dataclass(frozen=True)
class CheckType:
    """A custom check type.

    Attributes:
        name: the ``type`` value in a check.
        spec: a pydantic model of its own options (``name``, ``action``, ``fix`` and
            ``message`` are handled by Ocht and not passed to it).
        violation: ``(options, input schema) -> expression`` true for failing rows.
        summary: one line for listings.
    """

    name: str
    spec: type[Any]
    violation: Violation
    summary: str = ""


_LOCK = threading.Lock()
_REGISTERED: dict[str, CheckType] = {}
_LOADED = False


def register_check(kind: CheckType) -> None:
    """Make ``kind`` available to check steps in this process."""
    with _LOCK:
        _REGISTERED[kind.name] = kind


def check_type(name: str) -> CheckType | None:
    """The custom check type ``name`` (registered or from an entry point), if any.

    An unknown name rescans the entry points once (a plugin installed since).
    """
    _load_entry_points()
    with _LOCK:
        found = _REGISTERED.get(name)
    if found is None:
        _load_entry_points(force=True)
        with _LOCK:
            found = _REGISTERED.get(name)
    return found


def check_types() -> list[str]:
    """Names of every custom check type known."""
    _load_entry_points()
    with _LOCK:
        return sorted(_REGISTERED)


def _load_entry_points(*, force: bool = False) -> None:
    global _LOADED
    with _LOCK:
        if _LOADED and not force:
            return
        _LOADED = True
    for ep in entry_points(group=CHECK_GROUP):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must say which one it is
            raise OchtError(
                f"check plugin '{ep.name}' ({ep.value}) failed to load: {exc}", code="plugin-error"
            ) from exc
        for item in obj if isinstance(obj, list | tuple) else [obj]:
            if not isinstance(item, CheckType):
                raise OchtError(
                    f"check plugin '{ep.name}' is a {type(item).__name__}, not a CheckType",
                    code="plugin-error",
                )
            register_check(item)
