"""Tables of the catalog served over HTTP: tenants, pipelines and their versions, API keys,
and run requests (who asked for a run, in which tenant, of which version).

They share :data:`ocht.store.tables.metadata`, so the migrations test compares them too.
"""

from __future__ import annotations

import sqlalchemy as sa

from ocht.store.tables import Json, metadata

tenants = sa.Table(
    "ocht_tenants",
    metadata,
    sa.Column("tenant", sa.String(100), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
)

pipelines = sa.Table(
    "ocht_pipelines",
    metadata,
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

pipeline_versions = sa.Table(
    "ocht_pipeline_versions",
    metadata,
    sa.Column("pipeline_id", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("document", Json, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.String(200)),
)

api_keys = sa.Table(
    "ocht_api_keys",
    metadata,
    sa.Column("key_id", sa.String(32), primary_key=True),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False, server_default=""),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("tenant", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

run_requests = sa.Table(
    "ocht_run_requests",
    metadata,
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
    sa.Index("ix_ocht_run_requests_tenant", "tenant", "submitted_at"),
    sa.Index("ix_ocht_run_requests_pipeline", "pipeline_id"),
)
