"""Alembic, run from code: the migration scripts ship inside this brick."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "ocht_alembic_version"
_PG_LOCK = 0x0C47_5354  # any constant: serialises concurrent upgrades on one server


def config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at the brick's migrations (no ``alembic.ini``)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision shipped."""
    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None
    return found


def current(engine: sa.Engine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` in one transaction."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        command.upgrade(config(conn), revision)


def revision(message: str) -> None:  # pragma: no cover - a development helper
    """Write a new, empty revision file into the brick's ``migrations/versions``."""
    command.revision(config(), message=message)
