from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ocht.connector_files import CsvSink, CsvSource, MalformedRecord
from ocht.errors import InvalidPipeline
from ocht.pipeline_model import CsvConnector
from ocht.registry import RunContext
from ocht.testkit import Workspace, frame


def csv_spec(path: str = "data.csv", **options: object) -> CsvConnector:
    return CsvConnector.model_validate({"type": "csv", "path": path, **options})


def source(ctx: RunContext, path: str = "data.csv", **options: object) -> CsvSource:
    return CsvSource(csv_spec(path, **options), name="in", context=ctx)


TYPED = frame(
    [
        {
            "id": 1,
            "price": 1.5,
            "name": "apple",
            "ok": True,
            "day": date(2024, 1, 31),
            "at": datetime(2024, 1, 31, 10, 5, 1),
        },
        {
            "id": None,
            "price": 2.0,
            "name": None,
            "ok": False,
            "day": None,
            "at": datetime(2024, 2, 1),
        },
        {
            "id": 3,
            "price": None,
            "name": "pear, ripe",
            "ok": None,
            "day": date(2023, 12, 1),
            "at": None,
        },
    ]
)


def test_round_trip_keeps_types_and_nulls(ctx: RunContext, write_out: Callable[..., Path]) -> None:
    write_out(CsvSink, csv_spec("out/typed.csv"), TYPED)
    got = source(ctx, "out/typed.csv").scan().collect()
    assert got.schema == pl.Schema(
        {
            "id": pl.Int64(),
            "price": pl.Float64(),
            "name": pl.String(),
            "ok": pl.Boolean(),
            "day": pl.Date(),
            "at": pl.Datetime("us"),
        }
    )
    assert_frame_equal(got, TYPED)


def test_scan_is_lazy(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a\n1\n")
    lf = source(ctx).scan()
    workspace.write_text("data.csv", "a\n1\n2\n")  # read at collect time, not at scan
    assert isinstance(lf, pl.LazyFrame)
    assert lf.collect()["a"].to_list() == [1, 2]


def test_glob_reads_every_match_as_one_input(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data/2024-01.csv", "id,v\n1,a\n")
    workspace.write_text("data/2024-02.csv", "id,v\n2,b\n3,c\n")
    workspace.write_text("data/notes.txt", "not csv")
    got = source(ctx, "data/*.csv").scan().collect()
    assert got["id"].to_list() == [1, 2, 3]


def test_recursive_glob(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data/a/x.csv", "id\n1\n")
    workspace.write_text("data/b/c/y.csv", "id\n2\n")
    assert source(ctx, "data/**/*.csv").scan().collect()["id"].to_list() == [1, 2]


def test_directory_reads_its_csv_files_sorted(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("in/b.csv", "id\n2\n")
    workspace.write_text("in/a.csv", "id\n1\n")
    workspace.write_text("in/.hidden.csv", "id\n99\n")
    workspace.write_text("in/readme.md", "# not data")
    workspace.write_text("in/sub/c.csv", "id\n3\n")
    assert source(ctx, "in").scan().collect()["id"].to_list() == [1, 2]


@pytest.mark.parametrize(
    ("encoding", "text"),
    [
        ("latin-1", "name,city\nJosé,Zürich\nÅsa,Malmö\n"),
        ("cp1252", "name,price\n€uro “quoted”,5\nœuvre,6\n"),
        ("utf-16", "name,city\nJosé,Zürich\n"),
    ],
)
def test_non_utf8_encodings_are_transcoded(
    workspace: Workspace, ctx: RunContext, encoding: str, text: str
) -> None:
    workspace.write_text("data.csv", text, encoding=encoding)
    src = source(ctx, encoding=encoding)
    expected = pl.read_csv(text.encode("utf-8"))
    assert_frame_equal(src.scan().collect(), expected)
    copies = list((ctx.run_dir / "tmp").rglob("*.csv"))
    assert len(copies) == 1  # a UTF-8 copy under the run's folder ...
    src.close()
    assert not list((ctx.run_dir / "tmp").rglob("*.csv"))  # ... removed on close


def test_schema_of_a_non_utf8_file_reads_only_a_sample(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("data.csv", "name,n\nJosé,1\n", encoding="latin-1")
    assert source(ctx, encoding="latin-1").schema() == pl.Schema(
        {"name": pl.String(), "n": pl.Int64()}
    )
    assert not (ctx.run_dir / "tmp").exists() or not list((ctx.run_dir / "tmp").rglob("*.csv"))


def test_bytes_invalid_in_the_declared_encoding_name_the_line(
    workspace: Workspace, ctx: RunContext
) -> None:
    # 0x81 has no meaning in cp1252
    workspace.path("data.csv").write_bytes(b"a,b\n1,x\n2,\x81\n")
    with pytest.raises(MalformedRecord) as info:
        source(ctx, encoding="cp1252").scan()
    assert info.value.code == "malformed-record"
    assert info.value.line == 3
    assert "encoding" in (info.value.hint or "")


def test_unknown_encoding_is_refused(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a\n1\n")
    with pytest.raises(InvalidPipeline) as info:
        source(ctx, encoding="klingon")
    assert info.value.code == "unknown-encoding"


def test_utf8_lossy_replaces_bad_bytes(workspace: Workspace, ctx: RunContext) -> None:
    workspace.path("data.csv").write_bytes(b"a\nok\nbad\xff\n")
    got = source(ctx, encoding="utf8-lossy").scan().collect()
    assert got["a"].to_list() == ["ok", "bad\ufffd"]


def test_null_markers(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a,b\n1,NA\n-,x\n3,\n")
    got = source(ctx, null_values=["NA", "-"]).scan().collect()
    assert got.to_dicts() == [{"a": 1, "b": None}, {"a": None, "b": "x"}, {"a": 3, "b": None}]
    assert got.schema["a"] == pl.Int64


def test_full_schema_skips_inference(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "zip,amount,day\n01234,5,2024-01-02\n")
    src = source(ctx, schema={"zip": "str", "amount": "decimal(10,2)", "day": "date"})
    expected = pl.Schema({"zip": pl.String(), "amount": pl.Decimal(10, 2), "day": pl.Date()})
    assert src.schema() == expected
    got = src.scan().collect()
    assert got.schema == expected
    assert got["zip"].to_list() == ["01234"]


def test_schema_overrides_change_only_the_named_columns(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("data.csv", "zip,n,at\n01234,5,2024-01-02 03:04:05\n")
    src = source(ctx, schema_overrides={"zip": "string", "n": "float32", "at": "datetime[ms, UTC]"})
    got = src.scan().collect()
    assert got.schema == pl.Schema(
        {"zip": pl.String(), "n": pl.Float32(), "at": pl.Datetime("ms", "UTC")}
    )
    assert got["zip"].item() == "01234"
    assert src.schema() == got.schema


def test_unknown_type_name_is_refused(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a\n1\n")
    with pytest.raises(InvalidPipeline) as info:
        source(ctx, schema_overrides={"a": "integr"}).scan()
    assert info.value.code == "invalid-type"
    assert info.value.issues[0].path == "inputs.in.schema_overrides.a"


def test_header_false(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "1,a\n2,b\n")
    got = source(ctx, header=False).scan().collect()
    assert got.columns == ["column_0", "column_1"]  # Polars 2 counts from 0
    assert got.height == 2
    named = source(ctx, header=False, schema={"id": "int", "v": "str"}).scan().collect()
    assert named.to_dicts() == [{"id": 1, "v": "a"}, {"id": 2, "v": "b"}]


def test_delimiter_quote_skip_rows_and_comments(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "exported by tool\nid;note\n# a comment\n1;'a;b'\n2;c\n")
    got = (
        source(ctx, delimiter=";", quote_char="'", skip_rows=1, comment_prefix="#").scan().collect()
    )
    assert got.to_dicts() == [{"id": 1, "note": "a;b"}, {"id": 2, "note": "c"}]


def test_infer_schema_length_zero_reads_text(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "a,b\n1,2024-01-01\n")
    got = source(ctx, infer_schema_length=0).scan().collect()
    assert got.schema == pl.Schema({"a": pl.String(), "b": pl.String()})


def test_try_parse_dates_off_keeps_strings(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("data.csv", "d\n2024-01-01\n")
    assert source(ctx, try_parse_dates=False).schema() == pl.Schema({"d": pl.String()})
    assert source(ctx).schema() == pl.Schema({"d": pl.Date()})
