"""A SQLite store opened without Alembic has exactly the schema Alembic gives it.

The store creates a new SQLite file with the standard library (``ocht.store.sqlite_schema``)
and opens one already at the newest revision without Alembic; these tests create stores
both ways and compare them, open each with the other path, and read each one's rows
through the other.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from ocht.store import Store, sqlite_schema, tables
from ocht.store import migrate as store_migrate
from ocht.store.engine import create_engine


def _schema(path: Path) -> list[tuple[str, str, str, str | None]]:
    """Everything ``sqlite_master`` records (page numbers aside), and the version row."""
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        version = conn.execute("SELECT version_num FROM ocht_alembic_version").fetchall()
    return sorted(rows) + [("version", str(version), "", None)]


def _by_alembic(path: Path, revision: str = "head") -> None:
    """Run the migrations themselves (not the shortcut that skips them at head)."""
    engine = create_engine(sa.engine.URL.create("sqlite", database=str(path)))
    try:
        with engine.begin() as conn:
            command.upgrade(store_migrate.config(conn), revision)
    finally:
        engine.dispose()


def _by_fast_path(path: Path) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        assert sqlite_schema.ensure(conn) is True
    finally:
        conn.close()


def test_the_fast_path_creates_exactly_what_the_migrations_create(tmp_path: Path) -> None:
    _by_alembic(tmp_path / "alembic.db")
    _by_fast_path(tmp_path / "fast.db")
    with Store(f"sqlite:///{tmp_path / 'store.db'}"):
        pass
    alembic = _schema(tmp_path / "alembic.db")
    assert len(alembic) > 20  # every table and index, not an empty comparison
    assert _schema(tmp_path / "fast.db") == alembic
    assert _schema(tmp_path / "store.db") == alembic


def test_its_revision_is_the_head_of_the_migrations() -> None:
    assert sqlite_schema.REVISION == store_migrate.HEAD == store_migrate.head()


def test_a_store_made_by_the_fast_path_is_at_head_for_alembic(tmp_path: Path) -> None:
    path = tmp_path / "fast.db"
    _by_fast_path(path)
    before = _schema(path)
    engine = create_engine(sa.engine.URL.create("sqlite", database=str(path)))
    try:
        assert store_migrate.current(engine) == store_migrate.head()
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"version_table": store_migrate.VERSION_TABLE, "compare_type": True}
            )
            assert compare_metadata(ctx, tables.metadata) == []
    finally:
        engine.dispose()
    _by_alembic(path)  # Alembic's own upgrade finds nothing to do
    assert _schema(path) == before


def test_a_store_made_by_alembic_is_opened_as_it_is(tmp_path: Path) -> None:
    path = tmp_path / "alembic.db"
    _by_alembic(path)
    before = _schema(path)
    _by_fast_path(path)
    with Store(f"sqlite:///{path}") as store:
        run = store.start_run(pipeline="p")
        assert store.finish_run(run.run_id, "succeeded").status == "succeeded"
    assert _schema(path) == before


def test_an_older_revision_is_upgraded_by_alembic(tmp_path: Path) -> None:
    old, fresh = tmp_path / "old.db", tmp_path / "fresh.db"
    _by_alembic(old, "0003")
    conn = sqlite3.connect(old, isolation_level=None)
    try:
        assert sqlite_schema.ensure(conn) is False  # not for the fast path
    finally:
        conn.close()
    with Store(f"sqlite:///{old}") as store:
        store.start_run(pipeline="p")
    _by_alembic(fresh)
    assert _schema(old) == _schema(fresh)


def test_stores_opened_at_once_on_a_new_file_create_it_once(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            with Store(f"sqlite:///{path}") as store:
                store.start_run(pipeline="p")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=open_one) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    _by_alembic(tmp_path / "alembic.db")
    assert _schema(path) == _schema(tmp_path / "alembic.db")
    with Store(f"sqlite:///{path}") as store:
        assert len(store.runs()) == 4


def test_rows_written_by_either_path_read_the_same_through_the_other(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with Store(url) as store:
        run = store.start_run(pipeline="p", extra={"k": [1, "two"]})
        store.finish_run(run.run_id, "succeeded", rows_read={"src": 3})
        store.set_state("p", {"src": {"value": "2024-01-01"}})
        engine = store.engine  # SQLAlchemy, as the catalog and the scheduler read it
        with engine.connect() as conn:
            row = conn.execute(
                sa.select(tables.runs).where(tables.runs.c.run_id == run.run_id)
            ).one()
            state = conn.execute(sa.select(tables.state.c.value)).scalar_one()
        assert row.rows_read == {"src": 3}
        assert row.extra == {"k": [1, "two"]}
        assert row.started_at.replace(tzinfo=UTC) == store.run(run.run_id).started_at
        assert state == {"value": "2024-01-01"}
        written = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
        with engine.begin() as conn:
            conn.execute(
                tables.runs.insert().values(
                    run_id="by-sqlalchemy",
                    pipeline="q",
                    status="succeeded",
                    started_at=written,
                    ended_at=written,
                    rows_written={"out": 5},
                )
            )
        other = store.run("by-sqlalchemy")
    assert other.started_at == written and other.ended_at == written
    assert other.rows_written == {"out": 5}
    assert other.extra == {} and other.dead_letters == 0


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///:memory:"])
def test_an_in_memory_store_still_works_through_sqlalchemy(url: str) -> None:
    with Store(url) as store:
        run = store.start_run(pipeline="p", extra={"a": 1})
        done = store.finish_run(run.run_id, "failed", error_message="boom")
        assert done.extra == {"a": 1} and done.error_message == "boom"
        assert done.started_at.tzinfo is not None
