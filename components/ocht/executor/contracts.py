"""Schema contracts: an input's frame brought to its expected columns before the steps.

An input with ``contract:`` has an *expected* schema: the contract's declared ``schema``,
else the schema last recorded for the input in the run store, else the one read when the
run is compiled. Compiling only reads the store: the schema to remember is handed back and
recorded when the run commits. What differs is handled by the mode:

- ``evolve``: new columns are kept, missing ones become null; the new schema is recorded;
- ``freeze``: any difference fails the run (:class:`SchemaContractError`, ``schema-contract``)
  before anything is written: at compile time, and per micro-batch in stream mode;
- ``discard_column``: new columns are dropped, missing ones added as null, retyped ones cast
  back (a value that does not fit becomes null);
- ``discard_row``: as ``discard_column``, but a row with a value that does not fit its
  expected type goes to the dead letters (code ``schema-contract``) instead.

Everything here is a lazy Polars expression; nothing is collected.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import polars as pl

from ocht.errors import ExecutionError, InvalidPipeline
from ocht.pipeline_model import SchemaContract
from ocht.registry import RunContext
from ocht.transform import parse_dtype

if TYPE_CHECKING:
    from ocht.executor.services import RunStore

#: the dead-letter code of rows refused by a ``discard_row`` contract (and of freeze errors)
CONTRACT_CODE = "schema-contract"
_REASON = "__ocht_contract_reason"


class SchemaContractError(ExecutionError):
    """An input's columns broke its ``freeze`` contract."""

    code = CONTRACT_CODE


def contract_of(spec: Any) -> SchemaContract | None:
    """The contract of an input spec, or ``None``."""
    found = getattr(spec, "contract", None)
    return found if isinstance(found, SchemaContract) else None


def rejects_key(name: str) -> str:
    """The frame name under which an input's ``discard_row`` rejects are kept."""
    return f"contract:{name}"


def schema_diff(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> list[str]:
    """What changed, one line per column: ``+ col (type)``, ``- col``, ``~ col: was X, now Y``.

    Example:
        >>> schema_diff({"a": pl.Int64(), "b": pl.String()}, {"a": pl.String(), "c": pl.Float64()})
        ['+ c (float64)', '- b', '~ a: was int64, now string']
    """
    exp, act = expected, actual
    lines = [f"+ {c} ({_type_name(t)})" for c, t in act.items() if c not in exp]
    lines += [f"- {c}" for c in exp if c not in act]
    lines += [
        f"~ {c}: was {_type_name(t)}, now {_type_name(act[c])}"
        for c, t in exp.items()
        if c in act and act[c] != t
    ]
    return lines


def planned_schema(
    name: str,
    contract: SchemaContract,
    observed: pl.Schema,
    context: RunContext,
    store: RunStore | None = None,
) -> tuple[pl.Schema, dict[str, str] | None]:
    """The schema the steps see for input ``name``, checked against its contract, and
    the schema to record in the store when the run commits (``None``: nothing).

    Called when the plan is compiled; it reads the store but writes nothing. A
    ``freeze`` contract whose expected schema differs from ``observed`` fails here,
    before any data is read. The schema is recorded always for ``evolve``, else only
    the first time.

    Raises:
        SchemaContractError: a ``freeze`` contract was broken.
        InvalidPipeline: a declared type is not a type name.
    """
    stored = _stored(name, context, store)
    expected = _expected(name, contract, observed, stored)
    target = _target(contract, expected, observed)
    if contract.mode == "freeze":
        check_frozen(name, expected, observed)
    if store is None or (contract.mode != "evolve" and stored is not None):
        return target, None
    return target, {c: _type_name(t) for c, t in target.items()}


def _expected(
    name: str, contract: SchemaContract, observed: pl.Schema, stored: pl.Schema | None
) -> pl.Schema:
    """Declared, else last recorded in the store, else ``observed``."""
    if contract.schema_ is not None:
        path = f"inputs.{name}.contract.schema"
        return pl.Schema(
            {c: parse_dtype(t, path=f"{path}.{c}") for c, t in contract.schema_.items()}
        )
    return stored if stored is not None else observed


def check_frozen(name: str, expected: pl.Schema, actual: pl.Schema) -> None:
    """Raise :class:`SchemaContractError` with the diff when ``actual`` differs."""
    diff = schema_diff(dict(expected), dict(actual))
    if diff:
        raise SchemaContractError(
            f"input '{name}' broke its frozen schema:\n  " + "\n  ".join(diff),
            hint="fix the data, update `contract.schema`, or use mode evolve/discard_column",
            input=name,
            diff=diff,
        )


def enforce(
    frame: pl.LazyFrame, name: str, contract: SchemaContract, target: pl.Schema
) -> tuple[pl.LazyFrame, pl.LazyFrame | None]:
    """``frame`` brought to ``target`` by the contract; and its rejected rows, if any.

    Args:
        frame: the input as read (a whole batch input or one micro-batch).
        name: the input's name, for messages.
        contract: the input's contract.
        target: the schema from :func:`planned_schema`.

    Returns:
        The frame the steps read, and (``discard_row`` with retyped columns only) the
        refused rows as the original columns plus ``reason`` and ``code``.

    Raises:
        SchemaContractError: a ``freeze`` contract was broken.
    """
    actual = frame.collect_schema()
    if contract.mode == "freeze":
        check_frozen(name, target, actual)
        return frame, None
    if contract.mode == "evolve":
        missing = [pl.lit(None, dtype=t).alias(c) for c, t in target.items() if c not in actual]
        return (frame.with_columns(missing) if missing else frame), None
    shaped = [_shape(c, t, actual) for c, t in target.items()]
    retyped = [c for c, t in target.items() if c in actual and actual[c] != t]
    if contract.mode == "discard_column" or not retyped:
        return frame.select(shaped), None
    # the first column whose value does not fit names the reason
    reasons = [
        pl.when(pl.col(c).is_not_null() & pl.col(c).cast(target[c], strict=False).is_null())
        .then(pl.lit(f"column '{c}': value does not fit {_type_name(target[c])}"))
        .otherwise(None)
        for c in retyped
    ]
    marked = frame.with_columns(pl.coalesce(reasons).alias(_REASON)).cache()
    kept = marked.filter(pl.col(_REASON).is_null()).select(shaped)
    rejected = marked.filter(pl.col(_REASON).is_not_null()).select(
        pl.struct(list(actual.names())).struct.json_encode().alias("record"),
        pl.col(_REASON).alias("reason"),
        pl.lit(CONTRACT_CODE).alias("code"),
    )
    return kept, rejected


def _shape(column: str, dtype: pl.DataType, actual: pl.Schema) -> pl.Expr:
    if column not in actual:
        return pl.lit(None, dtype=dtype).alias(column)
    if actual[column] == dtype:
        return pl.col(column)
    return pl.col(column).cast(dtype, strict=False)


def _target(contract: SchemaContract, expected: pl.Schema, observed: pl.Schema) -> pl.Schema:
    if contract.mode != "evolve":
        return expected
    merged = dict(expected)
    merged.update(observed)  # a retyped column takes its new type
    return pl.Schema(merged)


def _stored(name: str, context: RunContext, store: RunStore | None) -> pl.Schema | None:
    found = store.last_schema(context.pipeline, f"input:{name}") if store is not None else None
    if found is None:
        return None
    try:
        return pl.Schema({c: parse_dtype(t) for c, t in found.columns.items()})
    except InvalidPipeline:
        return None  # a type name this version cannot read: fall back to the data's


def _type_name(dtype: pl.DataType) -> str:
    """A name :func:`~ocht.transform.parse_dtype` reads back."""
    if isinstance(dtype, pl.Datetime):
        zone = f", {dtype.time_zone}" if dtype.time_zone else ""
        return f"datetime[{dtype.time_unit}{zone}]"
    if isinstance(dtype, pl.Duration):
        return f"duration[{dtype.time_unit}]"
    if isinstance(dtype, pl.Decimal):
        return f"decimal({dtype.precision}, {dtype.scale})"
    if isinstance(dtype, pl.List):
        inner = dtype.inner
        return f"list[{_type_name(inner if isinstance(inner, pl.DataType) else inner())}]"
    return str(dtype).lower()
