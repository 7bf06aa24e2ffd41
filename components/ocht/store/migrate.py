"""Alembic, run from code: the migration scripts ship inside this brick.

Alembic is imported only when a database is not at :data:`HEAD` already: opening an
up-to-date store (every run does) costs one query, not Alembic's import.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
VERSION_TABLE = "ocht_alembic_version"
#: The newest revision shipped (a test checks it against Alembic's own view of the scripts).
HEAD = "0004"
_PG_LOCK = 0x0C47_5354  # any constant: serialises concurrent upgrades on one server


def config(connection: sa.Connection | None = None) -> Config:
    """An Alembic config pointing at the brick's migrations (no ``alembic.ini``)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("path_separator", "os")
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    """The newest revision shipped, as Alembic reads the scripts."""
    from alembic.script import ScriptDirectory

    found = ScriptDirectory.from_config(config()).get_current_head()
    assert found is not None
    return found


def current(engine: sa.Engine) -> str | None:
    """The revision the database is at (``None`` before the first migration)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"version_table": VERSION_TABLE})
        return ctx.get_current_revision()


def upgrade(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` in one transaction."""
    if revision == "head" and _recorded(engine) == HEAD:
        return
    from alembic import command

    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
        command.upgrade(config(conn), revision)


def _recorded(engine: sa.Engine) -> str | None:
    """The version row, read with plain SQLAlchemy (``None`` if there is none yet)."""
    if not sa.inspect(engine).has_table(VERSION_TABLE):
        return None
    with engine.connect() as conn:
        row = conn.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).first()
    return str(row[0]) if row else None


def revision(message: str) -> None:  # pragma: no cover - a development helper
    """Write a new, empty revision file into the brick's ``migrations/versions``."""
    from alembic import command

    command.revision(config(), message=message)
