"""A corpus of bad lines under every ``on_bad_lines`` mode, with exact counts.

Each case is a real file; ``skip`` must drop exactly the bad rows and count them,
``dead_letter`` must send exactly them out (code and ``file:line``), and ``fail`` must stop
at the first one, naming file and line.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import polars as pl
import pytest

from ocht.connector_files import CsvSource, MalformedRecord, NdjsonSource, explain_error
from ocht.errors import OchtError
from ocht.pipeline_model import CsvConnector, NdjsonConnector
from ocht.registry import RunContext
from ocht.testkit import Workspace

GOOD = 120


def good_rows(start: int = 0, n: int = GOOD) -> list[str]:
    return [f"{i},name {i},{i}.25,2024-03-01 12:{i % 60:02d}:05" for i in range(start, start + n)]


def write_plain(workspace: Workspace) -> Path:
    """No quotes: a BOM, comments, blank lines, and one of each bad row after the
    inference window (100 rows)."""
    rows = good_rows()
    rows[3:3] = ["# a comment, with, commas", ""]
    rows += [
        "900,short,1.5",  # too few fields
        "901,long,1.5,2024-03-01 00:00:00,extra",  # too many
        "902,stray,abc,2024-03-01 00:00:00",  # a number column holding text
        "903,bad ts,1.5,2024-13-45 00:00:00",  # a timestamp that does not parse
        "904,bad ts 2,1.5,yesterday",
    ]
    rows += good_rows(GOOD, 5)
    text = "\ufeffid,name,amount,ts\n" + "\n".join(rows) + "\n"
    return workspace.write_text("plain.csv", text)


PLAIN_BAD = {  # line -> code (header is line 1; the comment and the blank line count)
    124: "malformed-line",
    125: "malformed-line",
    126: "type-mismatch",
    127: "type-mismatch",
    128: "type-mismatch",
}


def spec(path: str, mode: str, **options: object) -> CsvConnector:
    return CsvConnector.model_validate(
        {
            "type": "csv",
            "path": path,
            "on_bad_lines": mode,
            "comment_prefix": "#",
            "infer_schema_length": 100,
            **options,
        }
    )


def source(ctx: RunContext, path: str, mode: str, **options: object) -> CsvSource:
    return CsvSource(spec(path, mode, **options), name="in", context=ctx)


def failure(src: CsvSource) -> OchtError:
    """The run's error, as the executor gives it: the source's own, or Polars' explained."""
    with pytest.raises((pl.exceptions.PolarsError, OchtError)) as info:
        src.scan().collect(engine="streaming")
    if isinstance(info.value, OchtError):
        return info.value
    explained = src.explain_error(info.value)
    assert explained is not None, info.value
    return explained


def test_types_are_inferred_from_the_sample_with_the_timestamp_format(
    workspace: Workspace, ctx: RunContext
) -> None:
    write_plain(workspace)
    src = source(ctx, "plain.csv", "skip")
    assert src.schema() == pl.Schema(
        {"id": pl.Int64, "name": pl.String, "amount": pl.Float64, "ts": pl.Datetime("us")}
    )
    assert src.columns().formats == {"ts": "%Y-%m-%d %H:%M:%S"}


def test_skip_drops_exactly_the_bad_rows_and_counts_them(
    workspace: Workspace, ctx: RunContext
) -> None:
    write_plain(workspace)
    src = source(ctx, "plain.csv", "skip")
    got = src.scan().collect(engine="streaming")
    assert got.height == GOOD + 5
    assert src.skipped == len(PLAIN_BAD)
    assert got["id"].to_list() == list(range(GOOD + 5))
    assert got["ts"].null_count() == 0 and got["amount"].null_count() == 0


def test_dead_letter_sends_exactly_the_bad_rows(workspace: Workspace, ctx: RunContext) -> None:
    write_plain(workspace)
    src = source(ctx, "plain.csv", "dead_letter")
    good, dead = pl.collect_all([src.scan(), src.dead_letters()], engine="streaming")
    assert good.height == GOOD + 5
    assert dict(zip(dead["position"], dead["code"], strict=True)) == {
        f"plain.csv:{line}": code for line, code in PLAIN_BAD.items()
    }
    reasons = dead["reason"].to_list()
    assert reasons[0] == "expected 4 fields, found 3"
    assert reasons[1] == "expected 4 fields, found 5"
    assert reasons[2] == "column 'amount' holds 'abc', which is not float64"
    assert reasons[3] == "column 'ts' holds '2024-13-45 00:00:00', which is not %Y-%m-%d %H:%M:%S"
    assert dead["record"][0] == "900,short,1.5"


def test_fail_stops_at_the_first_bad_row_naming_file_and_line(
    workspace: Workspace, ctx: RunContext
) -> None:
    write_plain(workspace)
    err = failure(source(ctx, "plain.csv", "fail"))
    assert isinstance(err, MalformedRecord)
    assert err.line == 124
    assert err.file == str(workspace.path("plain.csv"))
    assert err.details["expected"] == 4 and err.details["found"] == 3


def test_fail_names_a_stray_value_after_the_sample(workspace: Workspace, ctx: RunContext) -> None:
    rows = good_rows() + ["902,stray,abc,2024-03-01 00:00:00"] + good_rows(GOOD, 3)
    workspace.write_text("stray.csv", "id,name,amount,ts\n" + "\n".join(rows) + "\n")
    err = failure(source(ctx, "stray.csv", "fail"))
    assert isinstance(err, MalformedRecord)
    assert err.line == GOOD + 2
    assert err.details["column"] == "amount"
    assert "'abc'" in err.message


def test_fail_names_a_bad_timestamp_after_the_sample(workspace: Workspace, ctx: RunContext) -> None:
    rows = good_rows() + ["903,bad ts,1.5,2024-03-01 25:00:00"] + good_rows(GOOD, 3)
    workspace.write_text("ts.csv", "id,name,amount,ts\n" + "\n".join(rows) + "\n")
    err = failure(source(ctx, "ts.csv", "fail"))
    assert isinstance(err, MalformedRecord)
    assert (err.line, err.details.get("column")) == (GOOD + 2, "ts"), err.to_dict()


def test_fail_names_a_long_row(workspace: Workspace, ctx: RunContext) -> None:
    rows = good_rows() + ["901,long,1.5,2024-03-01 00:00:00,extra"]
    workspace.write_text("long.csv", "id,name,amount,ts\n" + "\n".join(rows) + "\n")
    err = failure(source(ctx, "long.csv", "fail"))
    assert isinstance(err, MalformedRecord) and err.line == GOOD + 2


QUOTED = 'id,name,n\n1,"a, b",1\n2,"say ""hi""",2\n3,c\n4,d,4,extra\n\n5,"e",five\n6,f,6\n# c,"x"\n7,g,7\n'


@pytest.mark.parametrize(
    ("mode", "rows", "bad"),
    [("skip", 4, 3), ("dead_letter", 4, 3)],
)
def test_quoted_fields_with_short_long_and_bad_rows(
    workspace: Workspace, ctx: RunContext, mode: str, rows: int, bad: int
) -> None:
    workspace.write_text("q.csv", QUOTED)
    src = source(ctx, "q.csv", mode, schema_overrides={"n": "int64"})
    got = src.scan().collect(engine="streaming")
    assert got.height == rows
    assert got.filter(pl.col("id") <= 2)["name"].to_list() == ["a, b", 'say "hi"']
    if mode == "skip":
        assert src.skipped == bad
    else:
        dead = src.dead_letters()
        assert dead is not None
        out = dead.collect()
        assert out["position"].to_list() == ["q.csv:4", "q.csv:5", "q.csv:7"]
        assert Counter(out["code"]) == {"malformed-line": 2, "type-mismatch": 1}


def test_quoted_file_fail_names_the_short_row(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("q.csv", QUOTED)
    with pytest.raises(MalformedRecord) as info:
        source(ctx, "q.csv", "fail", schema_overrides={"n": "int64"}).scan().collect()
    assert info.value.line == 4


MULTI = 'id,name,n\n1,"multi\nline",1\n2,b,2,extra\n3,c,x\n4,"d\n\nd",4\n5,e,5\n'


def test_a_field_spanning_lines_is_read_and_bad_rows_keep_their_lines(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("m.csv", MULTI)
    src = source(ctx, "m.csv", "dead_letter", schema_overrides={"n": "int64"})
    good, dead = pl.collect_all([src.scan(), src.dead_letters()])
    assert good["name"].to_list() == ["multi\nline", "d\n\nd", "e"]
    assert dead["position"].to_list() == ["m.csv:4", "m.csv:5"]
    skip = source(ctx, "m.csv", "skip", schema_overrides={"n": "int64"})
    assert skip.scan().collect().height == 3 and skip.skipped == 2
    with pytest.raises(MalformedRecord) as info:
        source(ctx, "m.csv", "fail", schema_overrides={"n": "int64"}).scan().collect()
    assert info.value.line == 4


@pytest.mark.parametrize("mode", ["fail", "skip", "dead_letter"])
def test_an_unclosed_quote_names_its_line_in_every_mode(
    workspace: Workspace, ctx: RunContext, mode: str
) -> None:
    workspace.write_text("u.csv", 'id,name\n1,a\n2,"open\n3,c\n')
    src = source(ctx, "u.csv", mode)
    with pytest.raises((pl.exceptions.PolarsError, OchtError)) as info:
        pl.collect_all([src.scan(), *([src.dead_letters()] if mode == "dead_letter" else [])])
    err = (
        info.value
        if isinstance(info.value, OchtError)
        else explain_error(info.value, src.spec, ctx)
    )
    assert isinstance(err, MalformedRecord)
    assert err.line == 3 and "never closed" in err.message


def test_bad_encoding_is_a_bad_row_or_a_named_failure(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.path("e.csv").write_bytes(b"id,name\n1,ok\n2,Jos\xe9\n3,ok\n")
    skip = source(ctx, "e.csv", "skip")
    assert skip.scan().collect()["id"].to_list() == [1, 3] and skip.skipped == 1
    dead = source(ctx, "e.csv", "dead_letter")
    out = dead.dead_letters()
    assert out is not None
    assert out.collect().select("code", "position").row(0) == ("bad-encoding", "e.csv:3")
    fail = source(ctx, "e.csv", "fail")
    with pytest.raises(pl.exceptions.PolarsError) as info:
        fail.scan().collect()
    err = fail.explain_error(info.value)
    assert isinstance(err, MalformedRecord) and err.line == 3


@pytest.mark.parametrize("mode", ["fail", "skip", "dead_letter"])
def test_bom_and_comments_are_the_same_in_every_mode(
    workspace: Workspace, ctx: RunContext, mode: str
) -> None:
    workspace.write_text("b.csv", "\ufeffid,v\n# note\n1,a\n#2,b\n3,c\n")
    src = source(ctx, "b.csv", mode)
    assert src.schema().names() == ["id", "v"]
    assert src.scan().collect().to_dicts() == [{"id": 1, "v": "a"}, {"id": 3, "v": "c"}]
    dead = src.dead_letters()
    assert dead is None or dead.collect().height == 0


def test_limit_limits_the_scan_of_bad_lines_too(workspace: Workspace, ctx: RunContext) -> None:
    write_plain(workspace)
    src = source(ctx, "plain.csv", "dead_letter")
    src.limit_scan(50)
    good, dead = pl.collect_all([src.scan(), src.dead_letters()])
    assert good.height == 50 and dead.height == 0


def test_iso_timestamps_with_fractions_are_detected(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text(
        "iso.csv", "ts,d\n2024-03-01T12:34:56.123456,2024-03-01\n2024-03-02T00:00:00.5,2024-03-02\n"
    )
    src = source(ctx, "iso.csv", "fail")
    assert src.columns().formats == {"ts": "%Y-%m-%dT%H:%M:%S%.f", "d": "%Y-%m-%d"}
    got = src.scan().collect()
    assert got.schema == pl.Schema({"ts": pl.Datetime("us"), "d": pl.Date})
    assert str(got["ts"][0]) == "2024-03-01 12:34:56.123456"


def test_try_parse_dates_off_keeps_text(workspace: Workspace, ctx: RunContext) -> None:
    workspace.write_text("t.csv", "ts\n2024-03-01 12:34:56\n")
    src = source(ctx, "t.csv", "fail", try_parse_dates=False)
    assert src.schema() == pl.Schema({"ts": pl.String})


def test_a_declared_format_is_honoured_and_misfits_are_bad_values(
    workspace: Workspace, ctx: RunContext
) -> None:
    workspace.write_text("f.csv", "id,ts\n1,01/03/2024 12:34\n2,13/03/2024 00:00\n3,2024-03-01\n")
    declared = {"ts": "datetime('%d/%m/%Y %H:%M')"}
    src = source(ctx, "f.csv", "dead_letter", schema_overrides=declared)
    good, dead = pl.collect_all([src.scan(), src.dead_letters()])
    assert [str(v) for v in good["ts"]] == ["2024-03-01 12:34:00", "2024-03-13 00:00:00"]
    assert dead["reason"].to_list() == [
        "column 'ts' holds '2024-03-01', which is not %d/%m/%Y %H:%M"
    ]
    full = source(ctx, "f.csv", "skip", schema={"id": "int64", "ts": "date('%d/%m/%Y %H:%M')"})
    assert full.scan().collect()["ts"].dtype == pl.Date


def test_ndjson_timestamps_are_detected_and_declared_formats_honoured(
    workspace: Workspace, ctx: RunContext
) -> None:
    lines = [f'{{"id": {i}, "ts": "2024-03-01T12:00:0{i}.25"}}' for i in range(3)]
    workspace.write_text("e.ndjson", "\n".join(lines) + '\n{"id": 9, "ts": "soon"}\n')
    # the sample (3 lines) sees only timestamps; the fourth line does not fit
    src = NdjsonSource(
        NdjsonConnector(type="ndjson", path="e.ndjson", infer_schema_length=3),
        name="e",
        context=ctx,
    )
    assert src.schema()["ts"] == pl.Datetime("us")
    with pytest.raises(MalformedRecord) as info:
        src.scan().collect()
    assert info.value.line == 4 and info.value.details["column"] == "ts"
    dl = NdjsonSource(
        NdjsonConnector(
            type="ndjson", path="e.ndjson", on_bad_lines="dead_letter", infer_schema_length=3
        ),
        name="e",
        context=ctx,
    )
    good, dead = pl.collect_all([dl.scan(), dl.dead_letters()])
    assert good.height == 3 and good["ts"].dtype == pl.Datetime("us")
    assert dead["code"].to_list() == ["type-mismatch"]
    declared = NdjsonSource(
        NdjsonConnector.model_validate(
            {"type": "ndjson", "path": "d.ndjson", "schema": {"d": "date('%d.%m.%Y')"}}
        ),
        name="d",
        context=ctx,
    )
    workspace.write_text("d.ndjson", '{"d": "01.03.2024"}\n')
    assert str(declared.scan().collect()["d"][0]) == "2024-03-01"
