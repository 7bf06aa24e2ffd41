"""The run store on SQLite (always) and PostgreSQL (when a server answers)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

import ocht.store as store_brick
from ocht.store import (
    InvalidStoreValue,
    RunNotFound,
    Store,
    StoreUnavailable,
    redact_text,
)
from ocht.store import migrate as store_migrate


@pytest.fixture
def store(database_url: str) -> Store:
    s = Store(database_url)
    yield s
    s.close()


def _pipeline() -> str:
    return f"p_{uuid.uuid4().hex[:8]}"


def test_default_store_is_a_sqlite_file_under_dot_ocht(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("OCHT_STORE_URL", raising=False)
    with Store(base_dir=tmp_path) as s:
        s.start_run(pipeline="demo")
        assert s.url.startswith("sqlite")
    assert (tmp_path / ".ocht" / "ocht.db").is_file()


def test_env_var_overrides_default(tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "elsewhere.db"
    monkeypatch.setenv("OCHT_STORE_URL", f"sqlite:///{target}")
    with Store(base_dir=tmp_path / "project") as s:
        s.start_run(pipeline="demo")
    assert target.is_file()
    assert not (tmp_path / "project" / ".ocht").exists()


def test_migrations_run_on_open_and_match_the_models(database_url: str) -> None:
    with Store(database_url) as s:
        assert store_migrate.current(s.engine) == store_migrate.head()
        names = set(sa.inspect(s.engine).get_table_names())
        assert {
            "ocht_runs",
            "ocht_state",
            "ocht_checkpoints",
            "ocht_schema_history",
            "ocht_alembic_version",
        } <= names
        # the migration and the SQLAlchemy tables describe the same columns
        from ocht.store.tables import metadata

        insp = sa.inspect(s.engine)
        for table in metadata.sorted_tables:
            assert [c["name"] for c in insp.get_columns(table.name)] == list(table.c.keys())
    with Store(database_url) as again:  # a second open is a no-op upgrade
        assert store_migrate.current(again.engine) == store_migrate.head()


def test_migration_files_ship_inside_the_brick() -> None:
    folder = Path(store_brick.__file__).parent / "migrations"
    assert (folder / "env.py").is_file()
    assert (folder / "script.py.mako").is_file()
    assert list((folder / "versions").glob("v*.py"))


def test_manifest_written_at_start_and_read_back(store: Store) -> None:
    name = _pipeline()
    run = store.start_run(
        pipeline=name,
        content_hash="c0ffee",
        profile="dev",
        mode="batch",
        cursors_before={"src": {"value": 10}},
        extra={"resume": False},
    )
    assert run.status == "running"
    assert run.ended_at is None and run.seconds is None
    assert run.pid is not None and run.host
    done = store.finish_run(
        run.run_id,
        "succeeded",
        rows_read={"src": 10},
        rows_written={"dst": 9},
        step_rows={"filter_1": 9},
        dead_letters=1,
        cursors_after={"src": {"value": 20}},
    )
    again = store.run(run.run_id)
    assert again == done
    assert again.status == "succeeded"
    assert again.rows_read == {"src": 10}
    assert again.rows_written == {"dst": 9}
    assert again.step_rows == {"filter_1": 9}
    assert again.dead_letters == 1
    assert again.cursors_before == {"src": {"value": 10}}
    assert again.cursors_after == {"src": {"value": 20}}
    assert again.extra == {"resume": False}
    assert again.profile == "dev" and again.content_hash == "c0ffee"
    assert again.ended_at is not None and again.ended_at >= again.started_at
    assert again.to_dict()["started_at"].endswith("+00:00")


def test_failed_run_keeps_error_and_listing_filters(store: Store) -> None:
    name = _pipeline()
    ok = store.start_run(pipeline=name)
    store.finish_run(ok.run_id, "succeeded")
    bad = store.start_run(pipeline=name)
    store.finish_run(
        bad.run_id,
        "failed",
        error_code="source-unreachable",
        error_message="cannot reach the server",
    )
    other = store.start_run(pipeline=_pipeline())
    store.finish_run(other.run_id, "failed")

    assert [r.run_id for r in store.runs(pipeline=name)] == [bad.run_id, ok.run_id]
    failed = store.runs(pipeline=name, status="failed")
    assert [r.run_id for r in failed] == [bad.run_id]
    assert failed[0].error_code == "source-unreachable"
    assert len(store.runs(pipeline=name, limit=1)) == 1
    with pytest.raises(InvalidStoreValue):
        store.runs(status="exploded")


def test_run_lookup_by_prefix_and_missing(store: Store) -> None:
    run = store.start_run(pipeline=_pipeline(), run_id=f"abc{uuid.uuid4().hex}")
    assert store.run(run.run_id[:12]).run_id == run.run_id
    with pytest.raises(RunNotFound) as info:
        store.run("does-not-exist")
    assert info.value.code == "run-not-found"
    with pytest.raises(RunNotFound):
        store.finish_run("does-not-exist", "failed")
    with pytest.raises(InvalidStoreValue):
        store.finish_run(run.run_id, "running")  # type: ignore[arg-type]


def test_dead_process_is_marked_abandoned(store: Store) -> None:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # a pid that no longer runs
    name = _pipeline()
    run = store.start_run(pipeline=name)
    alive = store.start_run(pipeline=name)  # this process: alive
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE ocht_runs SET pid = :pid WHERE run_id = :id"),
            {"pid": proc.pid, "id": run.run_id},
        )
    marked = store.mark_abandoned()
    assert run.run_id in marked
    assert alive.run_id not in marked
    assert store.run(run.run_id).status == "abandoned"
    assert store.run(run.run_id).error_code == "abandoned"
    assert store.run(alive.run_id).status == "running"


def test_killed_run_shows_abandoned_on_next_start(database_url: str) -> None:
    name = _pipeline()
    code = (
        "import os, sys\n"
        "from ocht.store import Store\n"
        f"s = Store({database_url!r})\n"
        f"r = s.start_run(pipeline={name!r})\n"
        "print(r.run_id, flush=True)\n"
        "os._exit(9)  # killed: never finishes the run\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    run_id = out.stdout.strip()
    assert run_id, out.stderr
    with Store(database_url) as s:
        assert s.run(run_id).status == "running"  # nothing marked it yet
        s.start_run(pipeline=name)  # the next start notices
        assert s.run(run_id).status == "abandoned"


def test_state_set_get_reset(store: Store) -> None:
    name = _pipeline()
    assert store.get_state(name) == {}
    store.set_state(
        name,
        {"a": {"cursor": "ts", "value": "2024-01-01T00:00:00"}, "b": {"value": 3}},
        run_id="r1",
    )
    assert store.get_state(name) == {
        "a": {"cursor": "ts", "value": "2024-01-01T00:00:00"},
        "b": {"value": 3},
    }
    store.set_state(name, {"b": {"value": 4}, "a": None})
    assert store.get_state(name) == {"b": {"value": 4}}
    assert store.get_state(_pipeline()) == {}
    assert store.reset_state(name) == 1
    assert store.get_state(name) == {}
    with pytest.raises(InvalidStoreValue):
        store.set_state(name, {"x": object()})


def test_checkpoints(store: Store) -> None:
    name = _pipeline()
    assert store.load_checkpoint(name, "src") is None
    store.save_checkpoint(name, "src", {"chunk": 3, "files": ["a.csv"]}, run_id="r1")
    store.save_checkpoint(name, "src", {"chunk": 4, "files": ["a.csv"]}, run_id="r1")
    store.save_checkpoint(name, "other", {"chunk": 1})
    cp = store.load_checkpoint(name, "src")
    assert cp is not None
    assert cp.position == {"chunk": 4, "files": ["a.csv"]}
    assert cp.run_id == "r1"
    assert store.clear_checkpoints(name, "src") == 1
    assert store.load_checkpoint(name, "src") is None
    assert store.clear_checkpoints(name) == 1


def test_schema_history_records_changes_only(store: Store) -> None:
    name = _pipeline()
    assert store.last_schema(name, "dst") is None
    first = store.record_schema(name, "dst", {"id": "Int64", "name": "String"}, run_id="r1")
    same = store.record_schema(name, "dst", {"id": "Int64", "name": "String"}, run_id="r2")
    assert same == first
    second = store.record_schema(
        name, "dst", {"id": "Int64", "name": "String", "amount": "Float64"}, run_id="r3"
    )
    history = store.schema_history(name, "dst")
    assert [h.run_id for h in history] == ["r1", "r3"]
    assert store.last_schema(name, "dst") == second
    assert list(second.columns) == ["id", "name", "amount"]  # order kept
    assert first.columns_hash != second.columns_hash


def test_secrets_are_never_stored(store: Store) -> None:
    run = store.start_run(
        pipeline=_pipeline(), extra={"source": "postgresql://loader:hunter2@db:5432/shop"}
    )
    store.finish_run(
        run.run_id,
        "failed",
        error_code="source-unreachable",
        error_message="could not connect to postgresql://loader:hunter2@db/shop "
        "(host=db password=hunter2)",
    )
    store.set_state("p", {"src": {"url": "mysql://u:hunter2@h/db"}})
    with store.engine.connect() as conn:
        dump = [
            str(row)
            for t in ("ocht_runs", "ocht_state")
            for row in conn.execute(sa.text(f"SELECT * FROM {t}"))
        ]
    assert dump
    assert not any("hunter2" in row for row in dump)
    assert "postgresql://loader:***@db/shop" in store.run(run.run_id).error_message


def test_redact_text() -> None:
    assert (
        redact_text("postgresql+psycopg://u:p%40ss@h:5432/d")
        == "postgresql+psycopg://u:***@h:5432/d"
    )
    assert redact_text("host=h password=abc user=u") == "host=h password=*** user=u"
    assert redact_text("nothing secret here") == "nothing secret here"


def test_unreachable_store_fails_cleanly_without_password() -> None:
    with pytest.raises(StoreUnavailable) as info:
        Store("postgresql://ocht:topsecret@127.0.0.1:1/nowhere")
    assert info.value.code == "store-unavailable"
    assert "topsecret" not in str(info.value)
    assert "topsecret" not in repr(info.value.to_dict())
    assert "ocht:***@127.0.0.1:1" in str(info.value)


def test_store_on_postgres_is_shared_across_instances(postgres_url: str) -> None:
    name = _pipeline()
    with Store(postgres_url) as a, Store(postgres_url) as b:
        run = a.start_run(pipeline=name)
        a.set_state(name, {"src": {"value": 1}})
        assert b.run(run.run_id).status == "running"
        assert b.get_state(name) == {"src": {"value": 1}}
        assert a.url.startswith("postgresql+psycopg://")


def test_head_constant_matches_the_migration_scripts() -> None:
    # opening an up-to-date store skips Alembic by comparing with this constant
    assert store_migrate.head() == store_migrate.HEAD


def test_database_without_version_is_migrated_on_open(tmp_path: Path) -> None:
    with Store(base_dir=tmp_path) as s, s.engine.begin() as conn:
        for name in sa.inspect(conn).get_table_names():
            conn.execute(sa.text(f"DROP TABLE {name}"))
    with Store(base_dir=tmp_path) as again:
        assert store_migrate.current(again.engine) == store_migrate.HEAD
        assert again.runs() == []
