"""Inferred schemas written back as pipeline YAML (``ocht schema infer``).

Example:
    >>> import polars as pl
    >>> type_names(pl.Schema({"id": pl.Int64, "at": pl.Datetime("us", "UTC")}))
    {'id': 'int64', 'at': 'datetime[us, UTC]'}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from ocht.errors import InvalidPipeline, Issue
from ocht.registry import Registry, RunContext, default_registry
from ocht.transform import dtype_name

#: file extension -> connector type
EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".json": "json",
}


def type_name(dtype: Any) -> str:
    """The pipeline spelling of a Polars type (:func:`ocht.transform.dtype_name`)."""
    return dtype_name(dtype)


def type_names(schema: pl.Schema) -> dict[str, str]:
    """``{column: type name}`` for every column, in order."""
    return {name: type_name(dtype) for name, dtype in schema.items()}


def infer_input(
    spec: dict[str, Any],
    *,
    name: str = "input",
    base_dir: Path | None = None,
    registry: Registry | None = None,
) -> dict[str, Any]:
    """The input ``spec`` with its ``schema`` filled from the data (header, footer, sample).

    Args:
        spec: an input as in a pipeline (``{type: csv, path: ...}``); a spec whose type
            is missing is guessed from the path's extension.
        name: the input's name, for messages.
        base_dir: relative paths resolve against it (default: the working directory).
        registry: where the connector is found.

    Raises:
        InvalidPipeline: the type cannot be guessed or the spec is invalid.
        OchtError: the input cannot be read.
    """
    spec = dict(spec)
    if "type" not in spec:
        suffix = Path(str(spec.get("path", ""))).suffix.lower()
        if suffix not in EXTENSIONS:
            msg = f"cannot tell the type of '{spec.get('path')}' from its extension"
            raise InvalidPipeline(
                msg,
                issues=[
                    Issue("invalid-value", msg, f"inputs.{name}", hint="give the input's `type`")
                ],
            )
        spec["type"] = EXTENSIONS[suffix]
    reg = registry or default_registry()
    conn = reg.connector(spec["type"], path=f"inputs.{name}.type")
    if conn.source is None:
        msg = f"a '{conn.name}' connector cannot be read"
        raise InvalidPipeline(
            msg, issues=[Issue("unsupported-connector", msg, f"inputs.{name}.type")]
        )
    model = conn.spec.model_validate({k: v for k, v in spec.items() if k != "schema"})
    context = RunContext(
        run_id="schema-infer", pipeline="schema-infer", base_dir=base_dir or Path.cwd()
    )
    source = conn.source(model, name=name, context=context)
    try:
        schema = source.schema()
    finally:
        source.close()
    out = {"type": spec["type"]}
    out.update((k, v) for k, v in spec.items() if k not in ("type", "schema_overrides"))
    out["schema"] = type_names(schema)
    return out
