"""Hypothesis strategies for frames and pipelines, for property tests of steps and runs.

``frames()`` draws small Polars frames over the common types, nulls included;
``pipelines(schema)`` draws valid pipelines (filters, derives, checks, dedupes, selects)
over a frame of that schema, so a property ("a batch and a stream run agree", "the
accounting balances") can be checked on many shapes::

    from hypothesis import given
    from ocht.testkit.strategies import frames, pipelines

    @given(data=st.data())
    def test_accounting(data):
        rows = data.draw(frames())
        spec = data.draw(pipelines(rows.schema, rows=rows.to_dicts()))
        ...

The pipelines read an input named ``i`` of the ``memory`` connector (register a
:class:`~ocht.testkit.MemoryConnector`) and write output ``o`` to it; pass ``input`` and
``output`` specs to use others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import polars as pl
from hypothesis import strategies as st

from ocht.transform import dtype_name

#: the column types :func:`frames` draws, with a strategy for their values
_VALUES: dict[str, tuple[pl.DataType, st.SearchStrategy[Any]]] = {
    "int": (pl.Int64(), st.integers(-1_000, 1_000)),
    "float": (pl.Float64(), st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)),
    "text": (pl.String(), st.text("abcxyz é", max_size=6)),
    "flag": (pl.Boolean(), st.booleans()),
    "day": (pl.Date(), st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31))),
    "at": (
        pl.Datetime("us"),
        st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 12, 31)),
    ),
}

_NUMERIC = (pl.Int64(), pl.Float64())


@st.composite
def frames(
    draw: st.DrawFn,
    *,
    columns: tuple[str, ...] = tuple(_VALUES),
    min_rows: int = 0,
    max_rows: int = 40,
    nulls: bool = True,
) -> pl.DataFrame:
    """A frame with an ``id`` column (1, 2, ...) and the named kinds of column.

    Args:
        columns: kinds among ``int``, ``float``, ``text``, ``flag``, ``day``, ``at``
            (each becomes a column of that name).
        min_rows: fewest rows.
        max_rows: most rows.
        nulls: whether values may be null.
    """
    n = draw(st.integers(min_rows, max_rows))
    data: dict[str, pl.Series] = {"id": pl.Series("id", range(1, n + 1), dtype=pl.Int64)}
    for kind in columns:
        dtype, values = _VALUES[kind]
        value = st.one_of(st.none(), values) if nulls else values
        data[kind] = pl.Series(kind, draw(st.lists(value, min_size=n, max_size=n)), dtype=dtype)
    return pl.DataFrame(data)


@st.composite
def pipelines(
    draw: st.DrawFn,
    schema: Mapping[str, pl.DataType],
    *,
    rows: list[dict[str, Any]] | None = None,
    input: dict[str, Any] | None = None,
    output: dict[str, Any] | None = None,
    max_steps: int = 4,
) -> dict[str, Any]:
    """A valid pipeline over an input of ``schema``: 1 to ``max_steps`` row-level steps.

    Args:
        schema: the input's columns (``frames().schema``).
        rows: the memory input's rows (ignored with ``input``).
        input: the input spec (default: ``memory`` with ``rows``).
        output: the output spec (default: ``memory``, key ``o``).
        max_steps: most steps.
    """
    cols = dict(schema)
    steps: list[dict[str, Any]] = []
    for i in range(draw(st.integers(1, max_steps))):
        numeric = [c for c, t in cols.items() if t in _NUMERIC]
        kind = draw(st.sampled_from(["filter", "derive", "check", "dedupe", "select"]))
        if kind == "filter" and numeric:
            col = draw(st.sampled_from(numeric))
            op = draw(st.sampled_from([">", "<", ">=", "<=", "=", "<>"]))
            steps.append({"kind": "filter", "where": f"{col} {op} {draw(st.integers(-50, 50))}"})
        elif kind == "derive" and numeric:
            col = draw(st.sampled_from(numeric))
            name = f"d{i}"
            steps.append(
                {"kind": "derive", "columns": {name: f"{col} * {draw(st.integers(-3, 3))}"}}
            )
            cols[name] = cols[col]
        elif kind == "check":
            col = draw(st.sampled_from(sorted(cols)))
            action = draw(st.sampled_from(["dead_letter", "warn"]))
            steps.append(
                {
                    "kind": "check",
                    "id": f"check{i}",
                    "checks": [{"type": "not_null", "column": col, "action": action}],
                }
            )
        elif kind == "dedupe":
            keys = draw(
                st.lists(st.sampled_from(sorted(cols)), min_size=1, max_size=2, unique=True)
            )
            steps.append(
                {"kind": "dedupe", "keys": keys, "keep": draw(st.sampled_from(["first", "last"]))}
            )
        else:
            keep = [
                "id",
                *draw(st.lists(st.sampled_from(sorted(set(cols) - {"id"}) or ["id"]), unique=True)),
            ]
            keep = list(dict.fromkeys(keep))
            steps.append({"kind": "select", "columns": keep})
            cols = {c: cols[c] for c in keep}
    return {
        "name": "drawn",
        "inputs": {
            "i": input
            or {
                "type": "memory",
                "rows": rows or [],
                "schema": {c: dtype_name(t) for c, t in schema.items()},
            }
        },
        "steps": steps,
        "outputs": {"o": output or {"type": "memory", "key": "o"}},
    }
