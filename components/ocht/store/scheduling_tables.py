"""Tables for schedules, queued runs (jobs), backfills and each run's origin.

They share :data:`ocht.store.tables.metadata`, so the migration test sees them too.
"""

from __future__ import annotations

import sqlalchemy as sa

from ocht.store.tables import Json, metadata

schedules = sa.Table(
    "ocht_schedules",
    metadata,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("spec", Json, nullable=False),
    sa.Column("paused", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("last_fire_at", sa.DateTime(timezone=True)),
)

jobs = sa.Table(
    "ocht_jobs",
    metadata,
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
    sa.Index("ix_ocht_jobs_status", "status", "not_before"),
    sa.Index("ix_ocht_jobs_schedule", "schedule"),
    sa.Index("ix_ocht_jobs_backfill", "backfill", "period_key"),
)

backfills = sa.Table(
    "ocht_backfills",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("pipeline", sa.String(200), nullable=False),
    sa.Column("spec", Json, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

run_origins = sa.Table(
    "ocht_run_origins",
    metadata,
    sa.Column("run_id", sa.String(64), primary_key=True),
    sa.Column("job_id", sa.String(200), nullable=False, index=True),
    sa.Column("schedule", sa.String(200)),
    sa.Column("backfill", sa.String(64)),
    sa.Column("period_key", sa.String(64)),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("worker", sa.String(255), nullable=False),
    sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ended_at", sa.DateTime(timezone=True)),
    sa.Column("status", sa.String(16), nullable=False),
)
