"""Resumable runs: a multi-file input read file by file, each file committed and recorded."""

import sqlite3

import pytest
import yaml

from ocht.config import load_pipeline
from ocht.errors import OchtError
from ocht.executor import ResumeUnsupported
from ocht.store import Store
from ocht.testkit import run_pipeline

GOOD_2 = "id,v\n3,c\n4,d\n"
BAD_2 = "id,v\n3,c\n4,d,extra,fields\n"


@pytest.fixture
def store(tmp_path):
    with Store(base_dir=tmp_path) as s:
        yield s


def write_inputs(folder, second=GOOD_2):
    folder.mkdir(exist_ok=True)
    (folder / "part1.csv").write_text("id,v\n1,a\n2,b\n")
    (folder / "part2.csv").write_text(second)
    (folder / "part3.csv").write_text("id,v\n5,e\n6,f\n")


def write_pipeline(tmp_path, output=None):
    out = output or {
        "type": "sql",
        "url": f"sqlite:///{tmp_path / 'out.db'}",
        "table": "items",
        "mode": "append",
    }
    doc = {
        "name": "load_parts",
        "inputs": {"parts": {"type": "csv", "path": "in/*.csv"}},
        "outputs": {"out": out},
    }
    path = tmp_path / "pipeline.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_pipeline(str(path))


def table(db):
    con = sqlite3.connect(db)
    try:
        return sorted(con.execute("SELECT id, v FROM items").fetchall())
    finally:
        con.close()


ALL_ROWS = [(1, "a"), (2, "b"), (3, "c"), (4, "d"), (5, "e"), (6, "f")]


def test_failed_chunk_keeps_earlier_files_and_resume_finishes_exactly_once(store, tmp_path):
    write_inputs(tmp_path / "in", second=BAD_2)
    loaded = write_pipeline(tmp_path)
    home = tmp_path / ".ocht"

    with pytest.raises(OchtError) as info:
        run_pipeline(loaded, store=store, resume=True, home=home)
    assert info.value.code == "malformed-record"
    assert table(tmp_path / "out.db") == [(1, "a"), (2, "b")]
    failed = store.runs(pipeline="load_parts")[0]
    assert failed.status == "partial"
    assert failed.rows_read == {"parts": 2}
    saved = store.load_checkpoint("load_parts", "input:parts")
    assert saved is not None and saved.position == {"done": ["in/part1.csv"]}

    write_inputs(tmp_path / "in")  # the file is fixed
    result = run_pipeline(
        load_pipeline(str(tmp_path / "pipeline.yaml")), store=store, resume=True, home=home
    )
    assert result.status == "succeeded"
    assert result.inputs == {"parts": 4}  # part1.csv was not read again
    assert result.outputs[0].rows == 4
    assert table(tmp_path / "out.db") == ALL_ROWS
    assert store.load_checkpoint("load_parts", "input:parts") is None
    assert store.run(result.run_id).status == "succeeded"
    assert store.run(result.run_id).rows_written == {"out": 4}


def test_first_chunk_failing_is_a_failed_run(store, tmp_path):
    write_inputs(tmp_path / "in")
    (tmp_path / "in" / "part1.csv").write_text("id,v\n1,a,x,y\n")
    with pytest.raises(OchtError):
        run_pipeline(write_pipeline(tmp_path), store=store, resume=True, home=tmp_path / ".ocht")
    assert store.runs(pipeline="load_parts")[0].status == "failed"
    assert store.load_checkpoint("load_parts", "input:parts") is None


def test_without_resume_the_checkpoint_is_dropped_and_every_file_read(store, tmp_path):
    write_inputs(tmp_path / "in")
    loaded = write_pipeline(tmp_path)
    store.save_checkpoint("load_parts", "input:parts", {"done": ["in/part1.csv"]})
    result = run_pipeline(loaded, store=store, home=tmp_path / ".ocht")
    assert result.inputs == {"parts": 6}
    assert table(tmp_path / "out.db") == ALL_ROWS
    assert store.load_checkpoint("load_parts", "input:parts") is None


def test_an_output_that_would_be_replaced_is_refused(store, tmp_path):
    write_inputs(tmp_path / "in")
    loaded = write_pipeline(tmp_path, output={"type": "parquet", "path": "out.parquet"})
    with pytest.raises(ResumeUnsupported) as info:
        run_pipeline(loaded, store=store, resume=True, home=tmp_path / ".ocht")
    assert info.value.code == "resume-unsupported"
    assert "out" in info.value.message and info.value.hint
    assert not (tmp_path / "out.parquet").exists()
    assert store.runs(pipeline="load_parts") == []


def test_sql_replace_output_is_refused(store, tmp_path):
    write_inputs(tmp_path / "in")
    out = {"type": "sql", "url": f"sqlite:///{tmp_path / 'o.db'}", "table": "t", "mode": "replace"}
    with pytest.raises(ResumeUnsupported, match="mode replace"):
        run_pipeline(
            write_pipeline(tmp_path, output=out), store=store, resume=True, home=tmp_path / ".ocht"
        )


def test_a_step_that_needs_all_rows_is_refused(store, tmp_path):
    write_inputs(tmp_path / "in")
    loaded = write_pipeline(tmp_path)
    spec = loaded.pipeline.model_dump(by_alias=True, exclude_none=True)
    spec["steps"] = [{"kind": "aggregate", "by": ["v"], "aggs": {"n": "count(*)"}}]
    path = tmp_path / "agg.yaml"
    path.write_text(yaml.safe_dump(spec))
    with pytest.raises(ResumeUnsupported) as info:
        run_pipeline(load_pipeline(str(path)), store=store, resume=True)
    assert info.value.code == "resume-unsupported"
    assert "aggregate" in info.value.message
    assert store.runs() == []


def test_a_failed_run_from_scratch_keeps_the_resume_point(store, tmp_path):
    write_inputs(tmp_path / "in", second=BAD_2)
    loaded = write_pipeline(tmp_path)
    store.save_checkpoint("load_parts", "input:parts", {"done": ["in/part1.csv"]})
    with pytest.raises(OchtError):
        run_pipeline(loaded, store=store, home=tmp_path / ".ocht")
    saved = store.load_checkpoint("load_parts", "input:parts")
    assert saved is not None and saved.position == {"done": ["in/part1.csv"]}
