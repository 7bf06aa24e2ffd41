"""scheduling: schedules, queued runs (jobs), backfills, run origins

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ocht_schedules",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("spec", Json, nullable=False),
        sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_fire_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "ocht_jobs",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("request", Json, nullable=False),
        sa.Column("schedule", sa.String(200)),
        sa.Column("backfill", sa.String(64)),
        sa.Column("period_key", sa.String(64)),
        sa.Column("period", Json),
        sa.Column("fire_at", sa.DateTime(timezone=True)),
        sa.Column("lock", sa.String(200)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("max_attempts", sa.Integer, nullable=False, server_default="1"),
        sa.Column("backoff_s", sa.Float, nullable=False, server_default="0"),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("worker", sa.String(255)),
        sa.Column("run_id", sa.String(64)),
        sa.Column("queue_ref", sa.BigInteger),
        sa.Column("error_code", sa.String(100)),
        sa.Column("error_message", sa.Text),
    )
    op.create_index("ix_ocht_jobs_status", "ocht_jobs", ["status", "not_before"])
    op.create_index("ix_ocht_jobs_schedule", "ocht_jobs", ["schedule"])
    op.create_index("ix_ocht_jobs_backfill", "ocht_jobs", ["backfill", "period_key"])
    op.create_table(
        "ocht_backfills",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("spec", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ocht_run_origins",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("job_id", sa.String(200), nullable=False),
        sa.Column("schedule", sa.String(200)),
        sa.Column("backfill", sa.String(64)),
        sa.Column("period_key", sa.String(64)),
        sa.Column("attempt", sa.Integer, nullable=False),
        sa.Column("worker", sa.String(255), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index("ix_ocht_run_origins_job_id", "ocht_run_origins", ["job_id"])


def downgrade() -> None:
    op.drop_index("ix_ocht_run_origins_job_id", "ocht_run_origins")
    op.drop_table("ocht_run_origins")
    op.drop_table("ocht_backfills")
    op.drop_index("ix_ocht_jobs_backfill", "ocht_jobs")
    op.drop_index("ix_ocht_jobs_schedule", "ocht_jobs")
    op.drop_index("ix_ocht_jobs_status", "ocht_jobs")
    op.drop_table("ocht_jobs")
    op.drop_table("ocht_schedules")
