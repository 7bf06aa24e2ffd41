"""Resolver rules: where a period's input lives, checked before anything runs.

Rules are given per variable name; the pipeline refers to the resolved location as
``${name}`` (an input's ``path: ${orders_path}``). Each rule has a default ``path`` and
``when:`` alternatives for periods stored differently, tried in order; the first whose
bounds hold the period's start wins::

    orders_path:
      path: lake/${period.year}/${period.month}/*.parquet
      when:
        - before: 2023-01-01          # older history was archived per year, as CSV
          path: archive/${period.year}.csv

A condition takes ``before`` (period start < date), ``from`` (start >= date), or both.
A location that matches no file is a :class:`MissingLocation` naming the period, the rule
and the location, raised while planning: no run starts with a hole in its input.

Example:
    >>> from datetime import date
    >>> from ocht.scheduler.calendars import calendar
    >>> rules = parse_rules({"p": {"path": "lake/${period.year}/${period.month}.csv",
    ...     "when": [{"before": "2023-01-01", "path": "old/${period.year}.csv"}]}})
    >>> p = calendar("monthly").period_of(date(2022, 5, 3))
    >>> resolve(rules, p, check=False)
    {'p': 'old/2022.csv'}
"""

from __future__ import annotations

import glob
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from ocht.config import LoadedPipeline, interpolate
from ocht.scheduler.calendars import Period, parse_date
from ocht.scheduler.errors import InvalidPeriod, MissingLocation


@dataclass(frozen=True)
class When:
    """One alternative location for periods starting in ``[start, before)``."""

    path: str
    start: date | None = None
    before: date | None = None

    def holds(self, period: Period) -> bool:
        """Whether the period's start is within the bounds."""
        if self.start is not None and period.start < self.start:
            return False
        return not (self.before is not None and period.start >= self.before)


@dataclass(frozen=True)
class Rule:
    """A variable's location per period: ``path`` unless a ``when`` holds first."""

    name: str
    path: str
    when: tuple[When, ...] = ()

    def location(self, period: Period) -> str:
        """The location template for ``period`` (``${period.*}`` not yet filled in)."""
        for alt in self.when:
            if alt.holds(period):
                return alt.path
        return self.path


def parse_rules(data: Mapping[str, Any] | None) -> tuple[Rule, ...]:
    """Rules from their document form (a mapping of variable name → rule).

    Raises:
        InvalidPeriod: a rule without ``path``, or a condition that is not a date.
    """
    rules: list[Rule] = []
    for name, body in (data or {}).items():
        if isinstance(body, str):
            body = {"path": body}
        if not isinstance(body, Mapping) or not isinstance(body.get("path"), str):
            raise InvalidPeriod(
                f"resolver '{name}' needs a path", hint="path: lake/${period.year}/*.parquet"
            )
        alts: list[When] = []
        for i, item in enumerate(body.get("when") or []):
            where = f"resolver '{name}' when[{i}]"
            if not isinstance(item, Mapping) or not isinstance(item.get("path"), str):
                raise InvalidPeriod(f"{where} needs a path")
            unknown = set(item) - {"path", "before", "from"}
            if unknown or not ({"before", "from"} & set(item)):
                raise InvalidPeriod(
                    f"{where}: a condition takes 'before' and/or 'from' dates",
                    hint=f"unknown keys: {', '.join(sorted(unknown))}" if unknown else None,
                )
            alts.append(
                When(
                    item["path"],
                    _date(item.get("from"), f"{where}.from"),
                    _date(item.get("before"), f"{where}.before"),
                )
            )
        unknown = set(body) - {"path", "when"}
        if unknown:
            raise InvalidPeriod(
                f"resolver '{name}': unknown keys {', '.join(sorted(map(str, unknown)))}",
                hint="a resolver has a path and optional when: rules",
            )
        rules.append(Rule(str(name), body["path"], tuple(alts)))
    return tuple(rules)


def _date(value: Any, what: str) -> date | None:
    if value is None:
        return None
    if isinstance(value, date):
        return value
    return parse_date(str(value), what)


def resolve(
    rules: tuple[Rule, ...],
    period: Period,
    *,
    base_dir: Path | None = None,
    check: bool = True,
) -> dict[str, str]:
    """Each rule's location for ``period``, checked to exist under ``base_dir``.

    Raises:
        MissingLocation: a location matches no file (``check``), naming period and rule.
    """
    values = {"period": period.variables()}
    out: dict[str, str] = {}
    for rule in rules:
        template = rule.location(period)
        done = interpolate(template, values)
        if done.issues:
            raise InvalidPeriod(f"resolver '{rule.name}': {done.issues[0].message}")
        location = str(done.data)
        if check and not _exists(location, base_dir):
            raise MissingLocation(
                f"period {period.key}: no file at '{location}' (resolver '{rule.name}')",
                hint="add the data, or a when: rule for periods stored elsewhere",
            )
        out[rule.name] = location
    return out


def load(source: str | Path, profile: str | None, variables: Mapping[str, Any]) -> LoadedPipeline:
    """The pipeline as one of its runs will see it, loaded through the executor's front door.

    Raises:
        InvalidPipeline: it does not load with these variables.
    """
    from ocht.executor import Runner, RunRequest

    return Runner().load(RunRequest(pipeline=source, profile=profile, variables=variables))


def check_inputs(loaded: LoadedPipeline, period: Period) -> None:
    """Every local file input of a loaded pipeline exists (its path may use ``${period.*}``).

    Raises:
        MissingLocation: an input's path matches no file, naming the period and input.
    """
    for name, connector in loaded.pipeline.inputs.items():
        location = getattr(connector, "path", None)
        if isinstance(location, str) and not _exists(location, loaded.base_dir):
            raise MissingLocation(
                f"period {period.key}: no file at '{location}' (input '{name}')",
                hint="add the data, or a resolver with when: rules for periods stored elsewhere",
            )


def _exists(location: str, base_dir: Path | None) -> bool:
    if "://" in location:  # remote stores are checked by their connector when reading
        return True
    path = Path(location)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    text = os.fspath(path)
    if glob.has_magic(text):
        return any(True for _ in glob.iglob(text, recursive=True))
    return path.exists()
