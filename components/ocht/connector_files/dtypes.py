"""An input's declared ``schema`` (``{column: type name}``) as Polars types.

Type names are the pipeline's one vocabulary, read by :func:`ocht.transform.parse_dtype`
(the same names a ``cast`` step and a ``CAST`` in an expression take).
"""

from __future__ import annotations

import polars as pl

from ocht.transform import parse_dtype


def parse_schema(types: dict[str, str], *, where: str) -> dict[str, pl.DataType]:
    """Every column's type parsed.

    Raises:
        InvalidPipeline: ``invalid-type`` for a name that is not a type, naming the column's
            field and the nearest known type name.

    Example:
        >>> parse_schema({"id": "int64", "tags": "list[string]"}, where="inputs.i.schema")
        {'id': Int64, 'tags': List(String)}
    """
    return {column: parse_dtype(name, path=f"{where}.{column}") for column, name in types.items()}
