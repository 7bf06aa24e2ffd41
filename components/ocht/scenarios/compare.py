"""Expected rows against actual rows, with a diff a person can read."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import polars as pl

_SHOW = 10


def _typed(
    expected: list[dict[str, Any]], actual: pl.DataFrame, columns: list[str]
) -> pl.DataFrame:
    """The expected rows with the actual columns' types (``"2024-03-01"`` becomes a date)."""
    frame = pl.DataFrame(expected, infer_schema_length=None)
    exprs = []
    for col in columns:
        want = actual.schema[col]
        have = frame.schema[col]
        if have == want:
            exprs.append(pl.col(col))
        elif have == pl.String and want.is_temporal():
            exprs.append(pl.col(col).str.to_datetime(strict=True).cast(want).alias(col))
        else:
            exprs.append(pl.col(col).cast(want, strict=True))
    return frame.select(exprs)


def _key(row: tuple[Any, ...], digits: int) -> tuple[Any, ...]:
    return tuple(round(v, digits) if isinstance(v, float) and math.isfinite(v) else v for v in row)


def _show(row: tuple[Any, ...], columns: list[str]) -> str:
    return json.dumps(dict(zip(columns, row, strict=True)), default=str)


def compare_rows(
    actual: pl.DataFrame,
    expected: list[dict[str, Any]],
    *,
    what: str,
    ordered: bool = False,
    subset: bool = False,
    tolerance: float = 1e-9,
) -> list[str]:
    """Problems found comparing ``actual`` with ``expected`` (empty: they agree).

    Only the columns the expected rows name are compared.

    Example:
        >>> compare_rows(pl.DataFrame({"a": [1, 2]}), [{"a": 1}], what="output 'o'")[0]
        "output 'o': 1 unexpected row"
    """
    columns = list(dict.fromkeys(k for row in expected for k in row))
    if not columns:
        columns = actual.columns
    missing_cols = [c for c in columns if c not in actual.columns]
    if missing_cols:
        return [
            f"{what}: no column {', '.join(map(repr, missing_cols))} "
            f"(it has {', '.join(actual.columns) or 'no columns'})"
        ]
    try:
        want = _typed(expected, actual, columns) if expected else actual.select(columns).head(0)
    except (pl.exceptions.PolarsError, ValueError, TypeError) as exc:
        return [f"{what}: the expected rows do not fit the output's types: {exc}"]
    got = actual.select(columns)
    digits = max(0, round(-math.log10(tolerance))) if tolerance > 0 else 15
    got_rows = [_key(r, digits) for r in got.rows()]
    want_rows = [_key(r, digits) for r in want.rows()]
    if ordered and not subset:
        for i, (g, w) in enumerate(zip(got_rows, want_rows, strict=False)):
            if g != w:
                return [
                    f"{what}: row {i + 1} differs",
                    f"  expected {_show(w, columns)}",
                    f"  actual   {_show(g, columns)}",
                ]
        if len(got_rows) != len(want_rows):
            return [f"{what}: {len(got_rows)} rows, expected {len(want_rows)}"]
        return []
    missing = Counter(want_rows) - Counter(got_rows)
    extra = Counter() if subset else Counter(got_rows) - Counter(want_rows)
    if not missing and not extra:
        return []
    parts = []
    if missing:
        n = sum(missing.values())
        parts.append(f"{n} expected row{'s' if n != 1 else ''} missing")
    if extra:
        n = sum(extra.values())
        parts.append(f"{n} unexpected row{'s' if n != 1 else ''}")
    lines = [f"{what}: {', '.join(parts)}"]
    for title, rows in (
        ("missing (expected, not produced)", missing),
        ("unexpected (produced, not expected)", extra),
    ):
        if rows:
            lines.append(f"  {title}:")
            listed = list(rows.elements())
            lines.extend(f"    {_show(r, columns)}" for r in listed[:_SHOW])
            if len(listed) > _SHOW:
                lines.append(f"    ... and {len(listed) - _SHOW} more")
    return lines


def compare_dead_letters(
    actual: list[dict[str, Any]], *, count: int | None, rows: list[dict[str, Any]] | None
) -> list[str]:
    """Problems found comparing the dead letters with the expected count or fields."""
    problems = []
    if count is not None and len(actual) != count:
        problems.append(f"dead letters: {len(actual)}, expected {count}")
        problems.extend(
            f"    {json.dumps({k: d.get(k) for k in ('code', 'step', 'reason')}, default=str)}"
            for d in actual[:_SHOW]
        )
    unmatched = list(actual)
    for want in rows or []:
        hit = next(
            (d for d in unmatched if all(str(d.get(k)) == str(v) for k, v in want.items())), None
        )
        if hit is None:
            problems.append(f"dead letters: none matches {json.dumps(want, default=str)}")
        else:
            unmatched.remove(hit)
    return problems
