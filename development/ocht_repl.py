"""REPL helpers: every brick at hand, plus quick ways to try a pipeline on inline rows.

Start it with ``uv run python -i development/ocht_repl.py``, then::

    >>> df = test_pipeline("examples/orders_clean.yaml",
    ...                    [{"order_id": 1, "customer_id": 7, "country": "DE",
    ...                      "amount": 40.0, "currency": "EUR",
    ...                      "ts": "2024-03-01T10:00:00", "status": "paid"}])
    >>> p = reload_pipeline("examples/orders_clean.yaml")
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import polars as pl

from ocht import (  # noqa: F401 - the REPL wants every brick at hand
    config,
    connector_files,
    errors,
    executor,
    observability,
    pipeline_model,
    registry,
    scenarios,
    testkit,
    transform,
)
from ocht.config import LoadedPipeline, load_pipeline

_last: dict[str, Any] = {}


def reload_pipeline(path: str | Path, **kwargs: Any) -> LoadedPipeline:
    """Load (or load again after an edit) a pipeline file; keyword arguments as
    :func:`ocht.config.load_pipeline` (``profile``, ``variables``)."""
    loaded = load_pipeline(path, **kwargs)
    _last["pipeline"] = loaded
    return loaded


def test_pipeline(
    source: str | Path | Mapping[str, Any],
    rows: list[dict[str, Any]] | Mapping[str, list[dict[str, Any]]],
    *,
    output: str | None = None,
    dead_letters: bool = False,
    **kwargs: Any,
) -> pl.DataFrame:
    """Run a pipeline over inline rows as ``ocht test`` does, and return an output.

    The rows meet each input's own reader and options (types, ``on_bad_lines``), so a bad
    value is dead-lettered exactly as in a real run; no real file, database or broker is
    touched.

    Args:
        source: a pipeline file or dict.
        rows: rows for the only input, or ``{input name: rows}``.
        output: which output to return (default: the first).
        dead_letters: return the dead letters instead of an output.
        **kwargs: ``profile``, ``variables``.
    """
    inputs = (
        rows
        if isinstance(rows, Mapping)
        else {next(iter(load_pipeline(source, **kwargs).pipeline.inputs)): rows}
    )
    played = scenarios.play(
        source, inputs, variables=kwargs.get("variables"), profile=kwargs.get("profile")
    )
    _last["result"] = played.result
    if dead_letters:
        return pl.DataFrame(played.dead_letters)
    return played.outputs[output or next(iter(played.outputs))]


if __name__ == "__main__":
    print(
        "ocht REPL: bricks imported; try test_pipeline(path_or_dict, rows), reload_pipeline(path)"
    )
