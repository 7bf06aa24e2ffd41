"""per-partition stream checkpoints: offset, cluster id and operator state

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ocht_stream_checkpoints",
        sa.Column("pipeline", sa.String(200), primary_key=True),
        sa.Column("group_id", sa.String(255), primary_key=True),
        sa.Column("topic", sa.String(255), primary_key=True),
        sa.Column("partition", sa.Integer, primary_key=True),
        sa.Column("cluster_id", sa.String(255), nullable=False, server_default=""),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("state", sa.LargeBinary),
        sa.Column("run_id", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ocht_stream_checkpoints")
