"""Malformed input files: the error names the file and the line (or the run goes on)."""

from __future__ import annotations

import polars as pl
import pytest

from ocht.connector_files import (
    CsvSource,
    JsonSource,
    MalformedRecord,
    NdjsonSource,
    explain_csv_error,
    explain_error,
)
from ocht.errors import OchtError
from ocht.pipeline_model import CsvConnector, JsonConnector, NdjsonConnector
from ocht.registry import RunContext
from ocht.testkit import Workspace


def csv_spec(path: str = "data.csv", **options: object) -> CsvConnector:
    return CsvConnector.model_validate({"type": "csv", "path": path, **options})


def failure(spec: CsvConnector | NdjsonConnector | JsonConnector, ctx: RunContext) -> OchtError:
    """Collect the input, as the executor would, and explain a Polars error; a CSV input
    checks its rows itself and raises its own error."""
    cls = {"csv": CsvSource, "ndjson": NdjsonSource, "json": JsonSource}[spec.type]
    source = cls(spec, name="in", context=ctx)
    with pytest.raises((pl.exceptions.PolarsError, OchtError)) as info:
        source.scan().collect(engine="streaming")
    if isinstance(info.value, OchtError):
        return info.value
    explained = explain_error(info.value, spec, ctx)
    assert explained is not None, info.value
    return explained


def test_row_with_extra_fields_names_file_and_line(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", 'id,note\n1,"two\nlines"\n2,ok\n3,oops,extra\n4,fine\n')
    err = failure(csv_spec(), ctx)
    assert isinstance(err, MalformedRecord)
    assert err.code == "malformed-record"
    assert err.line == 5  # the quoted field spans lines 2-3
    assert err.file == str(workspace.path("data.csv"))
    assert "data.csv:5" in err.message
    assert err.to_dict()["expected"] == 2
    assert "on_bad_lines" in (err.hint or "")


def test_line_counts_comments_and_skipped_rows(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "banner\n# c\na,b\n# c\n1,2\n3,4,5\n")
    err = failure(csv_spec(skip_rows=1, comment_prefix="#"), ctx)
    assert err.to_dict()["line"] == 6


def test_the_faulty_file_of_a_glob_is_named(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("in/a.csv", "x,y\n1,2\n")
    workspace.write_text("in/b.csv", "x,y\n1,2\n3,4\n5,6,7\n")
    err = failure(csv_spec("in/*.csv"), ctx)
    assert err.to_dict()["file"] == str(workspace.path("in/b.csv"))
    assert err.to_dict()["line"] == 4


def test_value_that_does_not_parse_names_the_line(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "id,n\n1,2\n2,3\n3,three\n")
    err = failure(csv_spec(schema_overrides={"n": "int"}), ctx)
    assert err.code == "malformed-record"
    assert err.to_dict()["line"] == 4
    assert err.to_dict()["column"] == "n"


def test_text_that_is_not_utf8_points_to_encoding(workspace: Workspace, ctx: RunContext) -> None:
    workspace.path("data.csv").write_bytes("name\nok\nJos\u00e9\n".encode("latin-1"))
    err = failure(csv_spec(), ctx)
    assert err.to_dict()["line"] == 3
    assert "encoding" in (err.hint or "")


def test_non_utf8_file_with_extra_fields_counts_lines_in_the_original(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("data.csv", "a,b\nJosé,1\nÅsa,2,3\n", encoding="latin-1")
    err = failure(csv_spec(encoding="latin-1"), ctx)
    assert err.to_dict()["line"] == 3


def test_schema_names_not_in_the_header(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "id,name\n1,a\n")
    err = failure(csv_spec(schema={"id": "int", "nmae": "str"}), ctx)
    assert err.code == "schema-mismatch"
    assert "nmae" in err.message


def test_on_bad_lines_skip_drops_bad_rows_and_counts_them(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("data.csv", "id,n\n1,2\n2,3,extra\n3,three\n4,5\n")
    spec = csv_spec(on_bad_lines="skip", schema_overrides={"n": "int"})
    source = CsvSource(spec, name="in", context=ctx)
    got = source.scan().collect()
    assert got.to_dicts() == [{"id": 1, "n": 2}, {"id": 4, "n": 5}]
    assert source.skipped == 2


def test_unrelated_errors_are_not_explained(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a\n1\n")
    assert explain_csv_error(RuntimeError("disk on fire"), csv_spec(), ctx) is None
    assert explain_error(ValueError("x"), object(), ctx) is None


def test_ndjson_line_that_is_not_json(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.ndjson", '{"a": 1}\n\n{"a": 2,\n{"a": 3}\n')
    err = failure(NdjsonConnector(type="ndjson", path="data.ndjson"), ctx)
    assert err.code == "malformed-record"
    assert err.to_dict()["line"] == 3


def test_json_document_that_does_not_parse(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.json", '[\n  {"a": 1},\n  {"a": 2,,}\n]\n')
    err = failure(JsonConnector(type="json", path="data.json"), ctx)
    assert err.code == "malformed-record"
    assert err.to_dict()["line"] == 3


def test_the_source_explains_its_own_errors(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a,b\n1,2\n3,4,5\n")
    src = CsvSource(csv_spec(), name="in", context=ctx)
    with pytest.raises(pl.exceptions.ComputeError) as info:
        src.scan().collect()
    err = src.explain_error(info.value)
    assert err is not None
    assert err.to_dict()["line"] == 3


def test_a_short_row_fails_on_the_fast_path_too(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a,b\n1,2\n3\n4,5\n")
    src = CsvSource(csv_spec(), name="in", context=ctx)
    with pytest.raises(pl.exceptions.PolarsError) as info:
        src.scan().collect()
    err = src.explain_error(info.value)
    assert isinstance(err, MalformedRecord)
    assert (err.line, err.details["found"]) == (3, 1)
