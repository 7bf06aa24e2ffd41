"""Runs recorded in the store: manifests, incremental state across runs, failures."""

import sqlite3

import pytest

from ocht.errors import OchtError
from ocht.store import Store
from ocht.testkit import run_pipeline


@pytest.fixture
def store(tmp_path):
    with Store(base_dir=tmp_path) as s:
        yield s


@pytest.fixture
def source_db(tmp_path):
    path = tmp_path / "src.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, ts INTEGER, v TEXT)")
    con.commit()
    con.close()
    return path


def insert(db, rows):
    con = sqlite3.connect(db)
    con.executemany("INSERT INTO events VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()


def incremental(db, out):
    return {
        "name": "events_load",
        "inputs": {
            "events": {
                "type": "sql",
                "url": f"sqlite:///{db}",
                "table": "events",
                "cursor": "ts",
                "primary_key": ["id"],
            }
        },
        "outputs": {
            "out": {
                "type": "sql",
                "url": f"sqlite:///{out}",
                "table": "events_copy",
                "mode": "append",
            }
        },
    }


def test_incremental_loads_across_three_runs(store, source_db, tmp_path):
    out = tmp_path / "out.db"
    insert(source_db, [(1, 10, "a"), (2, 20, "b"), (3, 20, "c")])
    first = run_pipeline(incremental(source_db, out), store=store)
    assert first.inputs == {"events": 3}
    # new rows, two of them at the boundary cursor value 20
    insert(source_db, [(4, 20, "d"), (5, 30, "e")])
    second = run_pipeline(incremental(source_db, out), store=store)
    assert second.inputs == {"events": 2}
    third = run_pipeline(incremental(source_db, out), store=store)
    assert third.inputs == {"events": 0}
    con = sqlite3.connect(out)
    copied = [r[0] for r in con.execute("SELECT id FROM events_copy ORDER BY id")]
    con.close()
    assert copied == [1, 2, 3, 4, 5]  # none lost, none doubled
    runs = store.runs(pipeline="events_load")
    assert [r.status for r in runs] == ["succeeded"] * 3
    assert runs[0].cursors_before and runs[0].cursors_after
    refreshed = run_pipeline(incremental(source_db, out), store=store, full_refresh=True)
    assert refreshed.inputs == {"events": 5}


def test_manifest_has_counts_per_step(store, workspace):
    workspace.write_csv("in.csv", [{"a": 1}, {"a": 5}, {"a": 9}])
    path = workspace.write_pipeline(
        {
            "name": "counts",
            "inputs": {"i": {"type": "csv", "path": "in.csv"}},
            "steps": [{"kind": "filter", "where": "a > 2"}],
            "outputs": {"o": {"type": "parquet", "path": "o.parquet"}},
        }
    )
    result = run_pipeline(path, store=store)
    record = store.run(result.run_id)
    assert record.status == "succeeded"
    assert record.rows_read == {"i": 3} and record.rows_written == {"o": 2}
    assert record.step_rows == {"filter_1": 2}
    assert record.content_hash == result.content_hash
    assert record.extra["steps"][0]["rows_in"] == 3


def test_failed_run_is_recorded_and_state_does_not_move(store, source_db, tmp_path):
    insert(source_db, [(1, 10, "a")])
    spec = incremental(source_db, tmp_path / "out.db")
    spec["steps"] = [{"kind": "cast", "columns": {"v": "int64"}}]  # 'a' does not convert
    with pytest.raises(OchtError) as info:
        run_pipeline(spec, store=store)
    (record,) = store.runs(pipeline="events_load")
    assert record.status == "failed"
    assert record.error_code == info.value.code
    assert store.get_state("events_load") == {}


def test_password_never_reaches_the_store(store, workspace, monkeypatch):
    monkeypatch.setenv("OCHT_TEST_PW", "hunter2-secret")
    workspace.write_csv("in.csv", [{"a": 1}])
    path = workspace.write_pipeline(
        {
            "name": "secret",
            "inputs": {"i": {"type": "csv", "path": "in.csv"}},
            "outputs": {
                "o": {
                    "type": "sql",
                    "table": "t",
                    "url": "postgresql://u:${env:OCHT_TEST_PW}@127.0.0.1:1/x",
                }
            },
        }
    )
    with pytest.raises(OchtError) as info:
        run_pipeline(path, store=store)
    assert "hunter2-secret" not in str(info.value)
    for record in store.runs():
        assert "hunter2-secret" not in str(record.to_dict())
