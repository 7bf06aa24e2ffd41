"""The ``sql`` connector spec: a table or a query in a SQL database (SQLAlchemy URL).

Used as an input (``table`` or ``query``, optionally incremental by a ``cursor`` column)
and as an output (``table``, written by ``mode``: append, replace or upsert).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ocht.pipeline_model.connectors import ConnectorBase

#: ``90s``, ``15m``, ``2h``, ``1d``, ``1w`` and sums of them (``1h30m``).
DURATION_PATTERN = r"^(\d+(us|ms|s|m|h|d|w))+$"


class SqlConnector(ConnectorBase):
    """A table or query in a SQL database reached through SQLAlchemy.

    Example:
        >>> SqlConnector(type="sql", url="sqlite:///shop.db", table="orders").chunk_size
        50000
    """

    type: Literal["sql"]
    url: str = Field(
        min_length=1,
        description="SQLAlchemy URL, e.g. `postgresql://user:${env:PGPASSWORD}@host/db` or "
        "`sqlite:///data/shop.db`. The password is never logged or stored.",
    )
    table: str | None = Field(
        default=None,
        min_length=1,
        description="Table to read (inputs: this or `query`) or to write (outputs: required).",
    )
    query: str | None = Field(
        default=None,
        min_length=1,
        description="Inputs only: a SELECT whose rows are the input (instead of `table`). "
        "Put values in `params` and write `:name` where they go, rather than `${...}` in "
        "the text.",
    )
    params: dict[str, str | int | float | bool | None] | None = Field(
        default=None,
        description="Inputs with `query`: values bound to its `:name` placeholders. They go "
        "to the database apart from the SQL text (never spliced into it), so a value from "
        "`${env:...}` cannot change the statement, and the database's logs show no value: "
        "`query: SELECT * FROM orders WHERE tenant = :tenant` with "
        "`params: {tenant: '${env:TENANT}'}`. A query with params reads through the "
        "driver's cursor (PostgreSQL's COPY takes no bound values).",
    )
    schema_: str | None = Field(
        default=None,
        alias="schema",
        min_length=1,
        description="Database schema (namespace) of `table`, e.g. `public`.",
    )
    chunk_size: int = Field(
        default=50_000, ge=1, description="Rows fetched per chunk (bounds memory)."
    )
    cursor: str | None = Field(
        default=None,
        min_length=1,
        description="Inputs: incremental load by this column (a high-water mark kept in the "
        "store); the next run reads rows with `cursor >= last value - lookback`.",
    )
    lookback: int | float | str | None = Field(
        default=None,
        description="Inputs: subtracted from the stored cursor before reading, to pick up late "
        "rows: a number (numeric cursors; seconds for date/time cursors) or a duration "
        "such as `15m`, `2h`, `1d`, `1h30m` (date/time cursors).",
    )
    primary_key: list[str] | None = Field(
        default=None,
        min_length=1,
        description="Key columns: rows at the last cursor value already loaded are skipped by "
        "key (inputs); `upsert` matches on it and new tables get it as PRIMARY KEY (outputs).",
    )
    mode: Literal["append", "replace", "upsert"] = Field(
        default="append",
        description="Outputs: `append` rows, `replace` the table's rows (one transaction), or "
        "`upsert` by `primary_key` (idempotent).",
    )
    on_schema_drift: Literal["evolve", "freeze", "warn"] = Field(
        default="evolve",
        description="Outputs: when the data's columns differ from the table's. `evolve` adds "
        "new columns and writes nulls for missing ones; `freeze` fails before writing, "
        "with a diff; `warn` logs the diff and writes the columns the table has. A changed "
        "type is never altered: values are cast to the table's type (the run fails if one "
        "does not fit) under `evolve` and `warn`.",
    )
    create: bool = Field(
        default=True, description="Outputs: create the table from the data's schema if missing."
    )
    fast_path: bool = Field(
        default=True,
        description="Use the driver's bulk path when there is one (PostgreSQL COPY).",
    )

    @field_validator("primary_key", mode="before")
    @classmethod
    def _one_key(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("lookback")
    @classmethod
    def _lookback(cls, value: int | float | str | None) -> int | float | str | None:
        if isinstance(value, bool):
            raise ValueError("lookback must be a number or a duration such as `2h`")
        if isinstance(value, int | float) and value < 0:
            raise ValueError("lookback must not be negative")
        if isinstance(value, str) and not re.match(DURATION_PATTERN, value.strip()):
            raise ValueError(
                f"lookback {value!r} is not a duration (use e.g. `90s`, `15m`, `2h`, `1d`)"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SqlConnector:
        if self.table is not None and self.query is not None:
            raise ValueError("give either `table` or `query`, not both")
        if self.table is None and self.query is None:
            raise ValueError("give a `table` (or, for inputs, a `query`)")
        if self.mode == "upsert" and not self.primary_key:
            raise ValueError("mode `upsert` needs `primary_key`")
        if self.lookback is not None and self.cursor is None:
            raise ValueError("`lookback` needs a `cursor` column")
        if self.params is not None:
            if self.query is None:
                raise ValueError("`params` are bound to a `query`: give a `query`")
            bad = [k for k in self.params if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", k)]
            if bad:
                raise ValueError(
                    f"param name(s) {', '.join(map(repr, bad))} are not placeholders: use "
                    "letters, digits and `_`, as in `:tenant`"
                )
            missing = [k for k in self.params if not re.search(rf"(?<![:\w]):{k}\b", self.query)]
            if missing:
                raise ValueError(
                    f"param(s) {', '.join(missing)} do not appear in the query "
                    f"(write :{missing[0]} where the value goes)"
                )
        return self
