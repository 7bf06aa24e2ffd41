"""The schema contract of an input: what happens when its columns change.

Example:
    >>> SchemaContract.model_validate("freeze").mode
    'freeze'
    >>> SchemaContract.model_validate({"mode": "discard_row", "schema": {"id": "int64"}}).schema_
    {'id': 'int64'}
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ocht.pipeline_model.steps import Spec

ContractMode = Literal["evolve", "freeze", "discard_row", "discard_column"]


class SchemaContract(Spec):
    """An input's expected columns and what to do when the data differs.

    ``contract: freeze`` is short for ``contract: {mode: freeze}``.
    """

    mode: ContractMode = Field(
        description="evolve: accept new columns, missing ones become null; freeze: fail the "
        "run on any new, missing or retyped column; discard_column: drop new columns, add "
        "missing ones as null, cast retyped ones back; discard_row: like discard_column, and "
        "rows whose values do not fit the expected type go to the dead letters.",
    )
    schema_: dict[str, str] | None = Field(
        default=None,
        alias="schema",
        description="The expected columns and types, in order (default: the schema last "
        "recorded for this input in the store, else the one read when the run starts).",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"mode": value} if isinstance(value, str) else value
