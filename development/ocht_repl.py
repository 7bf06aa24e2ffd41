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
    testkit,
    transform,
)
from ocht.config import LoadedPipeline, load_pipeline
from ocht.executor import Runner, RunRequest, RunResult, RunServices
from ocht.registry import Registry

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
    **kwargs: Any,
) -> pl.DataFrame:
    """Run a pipeline's steps over inline rows and return what an output would receive.

    Args:
        source: a pipeline file or dict.
        rows: rows for the only input, or ``{input name: rows}``.
        output: which output to return (default: the first).
        **kwargs: ``profile``, ``variables`` for loading.
    """
    loaded = load_pipeline(source, **kwargs)
    data = loaded.pipeline.model_dump(by_alias=True, exclude_none=True, exclude={"profiles"})
    per_input = rows if isinstance(rows, Mapping) else {next(iter(data["inputs"])): rows}
    schemas = _input_schemas(loaded)
    memory = testkit.MemoryConnector()
    for name in data["inputs"]:
        frame = pl.DataFrame(list(per_input.get(name, [])), infer_schema_length=None)
        memory.put_frame(f"repl-in:{name}", _like(frame, schemas.get(name)))
        data["inputs"][name] = {"type": "memory", "key": f"repl-in:{name}"}
    for name, spec in data["outputs"].items():
        data["outputs"][name] = {
            "type": "memory",
            "key": f"repl:{name}",
            **({"from": spec["from"]} if "from" in spec else {}),
        }
    data.pop("dead_letter", None)
    runner = Runner(RunServices(registry=Registry(connectors=[memory.connector])))
    result: RunResult = runner.run(RunRequest(data))
    _last["result"] = result
    return memory.recorded(f"repl:{output or next(iter(data['outputs']))}")


def _input_schemas(loaded: LoadedPipeline) -> dict[str, pl.Schema]:
    """The real inputs' schemas when they can be read (so inline rows get the same types)."""
    try:
        plan = Runner().compile(RunRequest(loaded))
    except errors.OchtError:
        return {}
    for source in plan.sources.values():
        source.close()
    return dict(plan.schemas)


def _like(frame: pl.DataFrame, schema: pl.Schema | None) -> pl.DataFrame:
    """Inline rows cast to the real input's types (text dates parsed), where they exist."""
    if schema is None:
        return frame
    exprs = []
    for name, dtype in schema.items():
        if name not in frame.columns or frame.schema[name] == dtype:
            continue
        col = pl.col(name)
        if frame.schema[name] == pl.String and dtype.is_temporal():
            exprs.append(
                (col.str.to_date() if dtype == pl.Date else col.str.to_datetime())
                .cast(dtype)
                .alias(name)
            )
        else:
            exprs.append(col.cast(dtype, strict=False))
    return frame.with_columns(exprs) if exprs else frame


if __name__ == "__main__":
    print(
        "ocht REPL: bricks imported; try test_pipeline(path_or_dict, rows), reload_pipeline(path)"
    )
