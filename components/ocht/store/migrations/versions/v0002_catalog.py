"""catalog: tenants, pipelines and versions, API keys, run requests

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "ocht_tenants",
        sa.Column("tenant", sa.String(100), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ocht_pipelines",
        sa.Column("pipeline_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("latest_version", sa.Integer, nullable=False),
        sa.Column("active_version", sa.Integer),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("tenant", "name", name="uq_ocht_pipelines_tenant_name"),
    )
    op.create_table(
        "ocht_pipeline_versions",
        sa.Column("pipeline_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("document", Json, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(200)),
    )
    op.create_table(
        "ocht_api_keys",
        sa.Column("key_id", sa.String(32), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False, server_default=""),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "ocht_run_requests",
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("tenant", sa.String(100), nullable=False),
        sa.Column("pipeline_id", sa.String(64), nullable=False),
        sa.Column("pipeline", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("profile", sa.String(200)),
        sa.Column("variables", Json),
        sa.Column("sandbox", sa.String(1000)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by", sa.String(200)),
        sa.Column("rerun_of", sa.String(64)),
        sa.Column("error_code", sa.String(100)),
        sa.Column("error_message", sa.Text),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_ocht_run_requests_tenant", "ocht_run_requests", ["tenant", "submitted_at"])
    op.create_index("ix_ocht_run_requests_pipeline", "ocht_run_requests", ["pipeline_id"])


def downgrade() -> None:
    op.drop_index("ix_ocht_run_requests_pipeline", "ocht_run_requests")
    op.drop_index("ix_ocht_run_requests_tenant", "ocht_run_requests")
    op.drop_table("ocht_run_requests")
    op.drop_table("ocht_api_keys")
    op.drop_table("ocht_pipeline_versions")
    op.drop_table("ocht_pipelines")
    op.drop_table("ocht_tenants")
