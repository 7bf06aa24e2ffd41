"""Outputs commit together: transactions first, file renames last and only when every
transaction committed; two outputs writing one place, or an output over an input, are
refused before anything is read."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
import yaml

from ocht.errors import InvalidPipeline, OchtError
from ocht.executor import Runner, RunRequest, RunServices
from ocht.testkit import run_pipeline

ROWS = [{"id": 1, "amount": 5.0}, {"id": 2, "amount": 50.0}]


def test_a_failing_transaction_leaves_a_file_declared_before_it_untouched(
    registry, memory, tmp_path
):
    out = tmp_path / "out.csv"
    out.write_text("id,amount\n9,9.0\n")
    pipeline = {
        "name": "together",
        "inputs": {"i": {"type": "memory", "rows": ROWS}},
        "outputs": {
            "file": {"type": "csv", "path": str(out)},  # declared first, renamed last
            "table": {"type": "memory", "key": "t", "fail_commit": True},
        },
    }
    with pytest.raises(OchtError):
        run_pipeline(pipeline, registry=registry)
    assert out.read_text() == "id,amount\n9,9.0\n"
    assert not memory.was_committed("t")
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]  # no temporary left


def test_a_deferred_constraint_fails_before_any_output_commits(postgres_url, tmp_path):
    table = "deferred_ids"
    engine = sa.create_engine(postgres_url)
    with engine.begin() as conn:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
        conn.exec_driver_sql(
            f"CREATE TABLE {table} (id INTEGER, CONSTRAINT u UNIQUE (id) "
            "DEFERRABLE INITIALLY DEFERRED)"
        )
        conn.exec_driver_sql(f"INSERT INTO {table} VALUES (1)")
    out = tmp_path / "out.csv"
    out.write_text("id\n7\n")
    pipeline = {
        "name": "deferred",
        "inputs": {"i": {"type": "ndjson", "path": str(tmp_path / "in.ndjson")}},
        "outputs": {
            "file": {"type": "csv", "path": str(out)},
            "db": {"type": "sql", "url": postgres_url, "table": table, "mode": "append"},
        },
    }
    (tmp_path / "in.ndjson").write_text('{"id": 1}\n{"id": 2}\n')
    with pytest.raises(OchtError):
        run_pipeline(pipeline, home=tmp_path / "h")
    assert out.read_text() == "id\n7\n"
    with engine.connect() as conn:
        assert conn.exec_driver_sql(f"SELECT id FROM {table}").scalars().all() == [1]
    engine.dispose()


def test_two_outputs_with_one_path_are_refused(registry, tmp_path):
    pipeline = {
        "name": "dup",
        "inputs": {"i": {"type": "memory", "rows": ROWS}},
        "outputs": {
            "a": {"type": "csv", "path": str(tmp_path / "x.csv")},
            "b": {"type": "csv", "path": "x.csv"},  # the same file, relative to the pipeline
        },
    }
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(pipeline))
    issues = Runner(RunServices(registry=registry)).validate(RunRequest(str(path)))
    assert [(i.code, i.path) for i in issues] == [("duplicate-output-target", "outputs.b")]


def test_an_output_over_the_dead_letters_is_refused(registry, tmp_path):
    pipeline = {
        "name": "dup2",
        "inputs": {"i": {"type": "memory", "rows": ROWS}},
        "outputs": {"a": {"type": "ndjson", "path": str(tmp_path / "d.ndjson")}},
        "dead_letter": {"type": "ndjson", "path": str(tmp_path / "d.ndjson")},
    }
    codes = [i.code for i in Runner(RunServices(registry=registry)).validate(RunRequest(pipeline))]
    assert codes == ["duplicate-output-target"]


def test_two_outputs_into_one_table_are_refused(registry, tmp_path):
    url = f"sqlite:///{tmp_path / 'o.db'}"
    pipeline = {
        "name": "dup3",
        "inputs": {"i": {"type": "memory", "rows": ROWS}},
        "outputs": {
            "a": {"type": "sql", "url": url, "table": "t"},
            "b": {"type": "sql", "url": url, "table": "T", "mode": "replace"},
        },
    }
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(pipeline, registry=registry)
    assert [i.code for i in info.value.issues] == ["duplicate-output-target"]


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path):
    src = tmp_path / "orders.csv"
    src.write_text("id\n1\n2\n")
    pipeline = {
        "name": "self",
        "inputs": {"i": {"type": "csv", "path": str(src)}},
        "steps": [{"kind": "filter", "where": "id > 1"}],
        "outputs": {"o": {"type": "csv", "path": str(src)}},
    }
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(pipeline, home=tmp_path / "h")
    assert [(i.code, i.path) for i in info.value.issues] == [
        ("output-overwrites-input", "outputs.o")
    ]
    assert src.read_text() == "id\n1\n2\n"


def test_an_output_inside_a_globbed_input_is_refused(tmp_path):
    (tmp_path / "in").mkdir()
    for n in (1, 2):
        (tmp_path / "in" / f"p{n}.csv").write_text(f"id\n{n}\n")
    pipeline = {
        "name": "glob",
        "inputs": {"i": {"type": "csv", "path": str(tmp_path / "in" / "*.csv")}},
        "outputs": {"o": {"type": "csv", "path": str(tmp_path / "in" / "p2.csv")}},
    }
    issues = Runner().validate(RunRequest(pipeline))
    assert [i.code for i in issues] == ["output-overwrites-input"]


def test_reading_and_writing_one_table_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (id INTEGER)")
    engine.dispose()
    pipeline = {
        "name": "same",
        "inputs": {"i": {"type": "sql", "url": url, "table": "t"}},
        "outputs": {"o": {"type": "sql", "url": url, "table": "t", "mode": "append"}},
    }
    issues = Runner().validate(RunRequest(pipeline))
    assert [i.code for i in issues] == ["output-overwrites-input"]
