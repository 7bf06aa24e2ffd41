"""initial tables: runs, state, checkpoints, schema history

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ocht_runs",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False, server_default=""),
        sa.Column("profile", sa.String(200)),
        sa.Column("mode", sa.String(16), nullable=False, server_default="batch"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
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
    op.create_index("ix_ocht_runs_pipeline", "ocht_runs", ["pipeline"])
    op.create_index("ix_ocht_runs_status", "ocht_runs", ["status"])
    op.create_index("ix_ocht_runs_started_at", "ocht_runs", ["started_at"])
    op.create_table(
        "ocht_state",
        sa.Column("pipeline", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("value", Json, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ocht_checkpoints",
        sa.Column("pipeline", sa.String(200), primary_key=True),
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("position", Json, nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ocht_schema_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("output", sa.String(200), nullable=False),
        sa.Column("columns", Json, nullable=False),
        sa.Column("columns_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64)),
    )
    op.create_index(
        "ix_ocht_schema_history_output", "ocht_schema_history", ["pipeline", "output", "id"]
    )


def downgrade() -> None:
    op.drop_table("ocht_schema_history")
    op.drop_table("ocht_checkpoints")
    op.drop_table("ocht_state")
    op.drop_index("ix_ocht_runs_started_at", "ocht_runs")
    op.drop_index("ix_ocht_runs_status", "ocht_runs")
    op.drop_index("ix_ocht_runs_pipeline", "ocht_runs")
    op.drop_table("ocht_runs")
