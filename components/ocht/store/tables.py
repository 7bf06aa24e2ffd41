"""The store's tables (SQLAlchemy Core), prefixed ``ocht_`` so a shared database stays tidy.

The migrations in ``migrations/versions`` create exactly these; a test checks that they
agree.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

#: JSON everywhere, JSONB on PostgreSQL.


class _Json(sa.types.TypeDecorator[Any]):
    """JSON; JSONB on PostgreSQL (its dialect imported only when a PostgreSQL store is
    used, which keeps it off the start-up of every run on SQLite)."""

    impl = sa.JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(sa.JSON())


Json = _Json()

metadata = sa.MetaData()

runs = sa.Table(
    "ocht_runs",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("pipeline", sa.String(200), nullable=False, index=True),
    sa.Column("content_hash", sa.String(64), nullable=False, server_default=""),
    sa.Column("profile", sa.String(200)),
    sa.Column("mode", sa.String(16), nullable=False, server_default="batch"),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("pid", sa.Integer),
    sa.Column("host", sa.String(255)),
    sa.Column("rows_read", Json),
    sa.Column("rows_written", Json),
    sa.Column("step_rows", Json),
    sa.Column("dead_letters", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_code", sa.String(100)),
    sa.Column("error_message", sa.Text),
    sa.Column("cursors_before", Json),
    sa.Column("cursors_after", Json),
    sa.Column("extra", Json),
)

state = sa.Table(
    "ocht_state",
    metadata,
    sa.Column("pipeline", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

checkpoints = sa.Table(
    "ocht_checkpoints",
    metadata,
    sa.Column("pipeline", sa.String(200), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("position", Json, nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

schema_history = sa.Table(
    "ocht_schema_history",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("output", sa.String(200), nullable=False),
    sa.Column("columns", Json, nullable=False),
    sa.Column("columns_hash", sa.String(64), nullable=False),
    sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Index("ix_ocht_schema_history_output", "pipeline", "output", "id"),
)
