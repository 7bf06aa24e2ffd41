"""Database fixtures: a throwaway PostgreSQL database when a server answers, else a skip.

The server is ``$OCHT_TEST_POSTGRES_URL`` or ``postgresql+psycopg://postgres@127.0.0.1:5432/test``
(then user ``root``). Each test session gets its own fresh database, dropped at the end, so
tests never see each other's tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_URL = "OCHT_TEST_POSTGRES_URL"
DEFAULT_URLS = (
    "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "postgresql+psycopg://root@127.0.0.1:5432/test",
)


def _server_url() -> tuple[str | None, str]:
    """The first URL that answers, or ``None`` and why not."""
    import sqlalchemy as sa

    urls = [os.environ[ENV_URL]] if os.environ.get(ENV_URL) else list(DEFAULT_URLS)
    reason = ""
    for url in urls:
        engine = sa.create_engine(url, connect_args={"connect_timeout": 3})
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return url, ""
        except Exception as exc:  # any failure means: no server for these tests
            reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        finally:
            engine.dispose()
    return None, reason


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """URL of a fresh PostgreSQL database for this session (skips when no server answers)."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    server, reason = _server_url()
    if server is None:
        where = f"${ENV_URL}" if os.environ.get(ENV_URL) else "127.0.0.1:5432"
        pytest.skip(f"PostgreSQL is not answering at {where} ({reason})")
    name = f"ocht_test_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        created = True
    except Exception:  # no CREATEDB right: share the server's database instead
        created = False
    url = make_url(server).set(database=name) if created else make_url(server)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        if created:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each test runs on a SQLite file and on PostgreSQL (skipped when no server answers)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url
