"""Row counters placed between plan nodes, cheap enough to leave on.

A counter is a streamable ``map_batches`` that only adds ``df.height`` to a total. It
stops predicates from being pushed through it (so the count is of the rows that really
flowed there), but lets projections through (so unused columns are still not read).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import polars as pl


class Counters:
    """Thread-safe named row totals, with an optional progress callback for inputs."""

    def __init__(self, on_input: Callable[[int], None] | None = None) -> None:
        self._lock = threading.Lock()
        self._totals: dict[str, int] = {}
        self._inputs: set[str] = set()
        self._on_input = on_input

    def wrap(
        self,
        name: str,
        frame: pl.LazyFrame,
        *,
        is_input: bool = False,
        tap: Callable[[pl.DataFrame], None] | None = None,
    ) -> pl.LazyFrame:
        """``frame`` with a counter named ``name`` after it; ``tap`` also sees each batch
        (the trace's samples ride the counter rather than adding a node to the plan)."""
        with self._lock:
            self._totals.setdefault(name, 0)
            if is_input:
                self._inputs.add(name)

        def count(df: pl.DataFrame) -> pl.DataFrame:
            if tap is not None:
                tap(df)
            with self._lock:
                self._totals[name] += df.height
                read = sum(self._totals[n] for n in self._inputs) if is_input else 0
            if is_input and self._on_input is not None:
                self._on_input(read)
            return df

        return frame.map_batches(
            count,
            streamable=True,
            projection_pushdown=True,
            predicate_pushdown=False,
            slice_pushdown=False,
        )

    def get(self, name: str) -> int:
        """The total for ``name`` (0 if nothing flowed)."""
        with self._lock:
            return self._totals.get(name, 0)
