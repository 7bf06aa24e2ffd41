"""Bad inputs end to end on real files: a stable code, and nothing written."""

import pytest

from ocht.errors import OchtError
from ocht.testkit import run_pipeline


def two_outputs(workspace, csv_text, *, second_path="out/b.parquet"):
    workspace.write_text("in.csv", csv_text)
    return workspace.write_pipeline(
        {
            "name": "bad",
            "inputs": {"i": {"type": "csv", "path": "in.csv"}},
            "steps": [{"kind": "derive", "columns": {"double": "a * 2"}}],
            "outputs": {
                "a": {"type": "parquet", "path": "out/a.parquet"},
                "b": {"type": "csv", "path": second_path},
            },
        }
    )


def test_malformed_csv_row_names_the_line_and_writes_nothing(workspace):
    rows = "a,b\n" + "".join(f"{i},x\n" for i in range(50)) + "7,y,extra\n"
    path = two_outputs(workspace, rows)
    with pytest.raises(OchtError) as info:
        run_pipeline(path, home=workspace.path(".ocht"))
    assert info.value.code == "malformed-record"
    assert ":52" in info.value.message  # the header is line 1
    assert workspace.files("out/**/*") == []


def test_unwritable_output_fails_before_reading_and_writes_nothing(workspace):
    workspace.write_text("blocker", "a file where a folder should be")
    path = two_outputs(workspace, "a,b\n1,x\n", second_path="blocker/b.csv")
    with pytest.raises(OchtError) as info:
        run_pipeline(path, home=workspace.path(".ocht"))
    assert info.value.code == "output-write-failed"
    assert workspace.files("out/**/*") == []


def test_failed_run_keeps_the_previous_output(workspace):
    path = two_outputs(workspace, "a,b\n1,x\n2,y\n")
    run_pipeline(path, home=workspace.path(".ocht"))
    before = workspace.path("out/a.parquet").read_bytes()
    workspace.write_text("in.csv", "a,b\n1,x\n2,y,z\n")
    with pytest.raises(OchtError):
        run_pipeline(path, home=workspace.path(".ocht"))
    assert workspace.path("out/a.parquet").read_bytes() == before
    assert sorted(workspace.files("out/*")) == ["out/a.parquet", "out/b.parquet"]


def test_missing_input_file_suggests_the_near_name(workspace):
    workspace.write_text("orders.csv", "a\n1\n")
    path = workspace.write_pipeline(
        {
            "name": "m",
            "inputs": {"i": {"type": "csv", "path": "order.csv"}},
            "outputs": {"o": {"type": "parquet", "path": "out/o.parquet"}},
        }
    )
    with pytest.raises(OchtError) as info:
        run_pipeline(path)
    assert info.value.code == "source-unreachable"
    assert "orders.csv" in (info.value.hint or "") + info.value.message


def test_header_only_input_runs_and_writes_an_empty_output(workspace):
    import polars as pl

    workspace.write_text("in.csv", "a,b\n")
    path = workspace.write_pipeline(
        {
            "name": "empty",
            # no rows to infer types from: the declared schema gives them
            "inputs": {
                "i": {"type": "csv", "path": "in.csv", "schema": {"a": "int64", "b": "string"}}
            },
            "steps": [
                {"kind": "derive", "columns": {"double": "a * 2"}},
                {"kind": "aggregate", "by": ["b"], "aggs": {"n": "count(*)"}},
            ],
            "outputs": {"o": {"type": "parquet", "path": "out/o.parquet"}},
        }
    )
    result = run_pipeline(path, home=workspace.path(".ocht"))
    assert result.inputs == {"i": 0} and result.outputs[0].rows == 0
    out = pl.read_parquet(workspace.path("out/o.parquet"))
    assert out.height == 0 and out.columns == ["b", "n"]


def test_header_only_input_without_types_names_the_expression(workspace):
    path = two_outputs(workspace, "a,b\n")
    with pytest.raises(OchtError) as info:
        run_pipeline(path, home=workspace.path(".ocht"))
    assert info.value.code == "invalid-expression"
    assert workspace.files("out/**/*") == []


def test_empty_file_is_a_clear_error(workspace):
    path = two_outputs(workspace, "")
    with pytest.raises(OchtError) as info:
        run_pipeline(path, home=workspace.path(".ocht"))
    assert info.value.code == "empty-input"
    assert workspace.files("out/**/*") == []
