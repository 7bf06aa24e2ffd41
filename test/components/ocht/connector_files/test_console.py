from __future__ import annotations

import polars as pl
import pytest

from ocht.connector_files import ConsoleSink
from ocht.pipeline_model import ConsoleConnector
from ocht.registry import RunContext
from ocht.testkit import orders


def console(ctx: RunContext, rows: int = 20) -> ConsoleSink:
    return ConsoleSink(ConsoleConnector(type="console", rows=rows), name="preview", context=ctx)


def test_prints_the_first_rows_across_batches(
    ctx: RunContext, capsys: pytest.CaptureFixture[str]
) -> None:
    sink = console(ctx, rows=3)
    sink.open()
    assert sink.plan(orders(10).lazy()) is None  # batches, not a Polars sink node
    data = orders(10)
    sink.write(data.slice(0, 2))
    sink.write(data.slice(2, 5))
    sink.write(data.slice(7, 3))
    assert capsys.readouterr().out == ""  # nothing before commit
    sink.commit()
    out = capsys.readouterr().out
    assert "10 rows (showing 3)" in out
    assert "preview" in out
    for column in data.columns:
        assert column in out
    lines = [line for line in out.splitlines() if line.startswith("│")]
    assert [line.split("│")[1].strip() for line in lines] == ["1", "2", "3"]
    assert "i64" in out  # column types under the names


def test_nulls_and_markup_print_literally(
    ctx: RunContext, capsys: pytest.CaptureFixture[str]
) -> None:
    sink = console(ctx)
    sink.open()
    sink.write(pl.DataFrame({"[b]": ["[red]x[/red]", None]}))
    sink.commit()
    out = capsys.readouterr().out
    assert "[red]x[/red]" in out
    assert "[b]" in out
    assert "null" in out
    assert "2 rows (showing 2)" in out


def test_empty_result_and_single_row(ctx: RunContext, capsys: pytest.CaptureFixture[str]) -> None:
    sink = console(ctx)
    sink.open()
    sink.commit()
    assert "0 rows (showing 0)" in capsys.readouterr().out
    sink.open()
    sink.write(pl.DataFrame({"a": [1]}))
    sink.commit()
    assert "1 row (showing 1)" in capsys.readouterr().out


def test_abort_prints_nothing(ctx: RunContext, capsys: pytest.CaptureFixture[str]) -> None:
    sink = console(ctx)
    sink.open()
    sink.write(orders(5))
    sink.abort()
    assert capsys.readouterr().out == ""
