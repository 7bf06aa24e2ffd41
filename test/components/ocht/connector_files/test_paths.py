"""Inputs that do not exist fail early, name the path and suggest a near file."""

from __future__ import annotations

import pytest

from ocht.connector_files import CsvSource, ParquetSource, resolve_inputs
from ocht.errors import SourceUnreachable
from ocht.pipeline_model import CsvConnector, ParquetConnector
from ocht.registry import RunContext
from ocht.testkit import Workspace


def test_missing_file_suggests_a_near_name(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data/orders.csv", "a\n1\n")
    src = CsvSource(CsvConnector(type="csv", path="data/ordres.csv"), name="in", context=ctx)
    with pytest.raises(SourceUnreachable) as info:
        src.scan()  # at scan time, before anything is collected
    err = info.value
    assert err.code == "source-unreachable"
    assert "data/ordres.csv" in err.message
    assert err.hint == "did you mean 'data/orders.csv'?"
    assert err.to_dict()["suggestion"] == "data/orders.csv"
    with pytest.raises(SourceUnreachable):
        src.schema()


def test_missing_file_without_a_near_name(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data/customers.csv", "a\n1\n")
    with pytest.raises(SourceUnreachable) as info:
        resolve_inputs("data/zzz.csv", ctx, (".csv",))
    assert "suggestion" not in info.value.to_dict()
    assert "did you mean" not in (info.value.hint or "")


def test_missing_folder_is_said(ctx: RunContext) -> None:
    with pytest.raises(SourceUnreachable) as info:
        resolve_inputs("nowhere/x.csv", ctx, (".csv",))
    assert info.value.hint == "the folder 'nowhere' does not exist"


def test_glob_matching_nothing(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data/orders.csv", "a\n1\n")
    with pytest.raises(SourceUnreachable) as info:
        resolve_inputs("data/*.cvs", ctx, (".csv",))
    assert "no file matches 'data/*.cvs'" in info.value.message
    assert info.value.hint == "did you mean 'data/*.csv'?"


def test_empty_directory(workspace: Workspace, ctx: RunContext) -> None:
    workspace.path("empty").mkdir()
    workspace.write_text("empty/readme.txt", "nothing here")
    src = ParquetSource(ParquetConnector(type="parquet", path="empty"), name="in", context=ctx)
    with pytest.raises(SourceUnreachable) as info:
        src.scan()
    assert "'empty'" in info.value.message
    assert ".parquet" in info.value.message


def test_absolute_and_home_paths(workspace: Workspace, ctx: RunContext) -> None:
    path = workspace.write_text("abs.csv", "a\n1\n")
    assert resolve_inputs(str(path), ctx, (".csv",)) == [path]
