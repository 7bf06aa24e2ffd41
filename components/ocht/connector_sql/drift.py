"""Schema drift at a SQL output: compare the data's columns with the table's, apply a policy.

=========  ==================  ============================  ===========================
policy     new column in data  column missing from data      changed type
=========  ==================  ============================  ===========================
evolve     ALTER TABLE ADD     not written (NULL / default)  cast to the table's type
warn       dropped, logged     not written, logged           cast, logged
freeze     fail before writing, with the diff (code ``schema-drift``)
=========  ==================  ============================  ===========================

A missing column that is NOT NULL without a default, or a cast that a value does not
survive, fails with ``schema-drift`` under every policy: nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from ocht.connector_sql.types import fits


@dataclass(frozen=True)
class TableColumn:
    """A column of the target table.

    Attributes:
        name: its name.
        sql_type: its declared type.
        dtype: the Polars dtype it reads back as.
        nullable: whether NULL is allowed.
        has_default: whether the database fills it when not written.
    """

    name: str
    sql_type: str
    dtype: pl.DataType
    nullable: bool = True
    has_default: bool = False


@dataclass(frozen=True)
class Drift:
    """How the data's columns differ from the table's."""

    new: list[tuple[str, pl.DataType]] = field(default_factory=list)
    missing: list[TableColumn] = field(default_factory=list)
    changed: list[tuple[str, pl.DataType, TableColumn]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.new or self.missing or self.changed)

    def lines(self) -> list[str]:
        """One line per difference: ``+ new``, ``- missing``, ``~ changed``."""
        out = [f"+ {name} ({dtype}): new in the data" for name, dtype in self.new]
        out += [f"- {c.name} ({c.sql_type}): in the table, not in the data" for c in self.missing]
        out += [
            f"~ {name}: table {c.sql_type} ({c.dtype}), data {dtype}"
            for name, dtype, c in self.changed
        ]
        return out


def compare(data: pl.Schema, table: list[TableColumn]) -> Drift:
    """The drift between the data's schema and the table's columns."""
    by_name = {c.name: c for c in table}
    new = [(n, d) for n, d in data.items() if n not in by_name]
    missing = [c for c in table if c.name not in data]
    changed = [
        (n, d, by_name[n])
        for n, d in data.items()
        if n in by_name and not fits(d, by_name[n].dtype)
    ]
    return Drift(new, missing, changed)
