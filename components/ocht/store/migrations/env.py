"""Alembic environment for the store: always run programmatically on a given connection.

:func:`ocht.store.migrate.upgrade` puts an open SQLAlchemy connection in
``config.attributes["connection"]``; there is no ``alembic.ini`` and no offline mode.
To write a new revision during development::

    uv run python -c "from ocht.store.migrate import revision; revision('add x')"
"""

from __future__ import annotations

from alembic import context

# the modules below register their tables on the shared metadata
from ocht.store import catalog_tables, partitions, scheduling_tables  # noqa: F401
from ocht.store.tables import metadata

VERSION_TABLE = "ocht_alembic_version"

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reached through a misconfigured call
    raise RuntimeError("the ocht store runs its migrations on a connection it provides")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite needs batch mode
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
