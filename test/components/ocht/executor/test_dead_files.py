"""Dead-letter files: the declared format, one file per run, record as a JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from ocht.executor import DEAD_LETTER_COLUMNS, check_accounting
from ocht.executor.dead_files import DeadLetterFile, run_path
from ocht.observability import add_secrets, forget_secrets
from ocht.registry import RunContext
from ocht.testkit import run_pipeline

CSV = "id,name,amount\n1,a,10\n2,b\n3,c,-5\n4,d,40\n"


def pipeline(folder: Path, fmt: str) -> Path:
    (folder / "in.csv").write_text(CSV)
    text = (
        "name: dl\ninputs:\n  src: {type: csv, path: in.csv, on_bad_lines: dead_letter}\n"
        "steps:\n  - kind: check\n    checks:\n"
        "      - {type: range, column: amount, min: 0, action: dead_letter}\n"
        "outputs:\n  out: {type: csv, path: out/o.csv}\n"
        f"dead_letter: {{type: {fmt}, path: out/dead.{fmt}}}\n"
    )
    path = folder / "p.yaml"
    path.write_text(text)
    return path


def read(path: Path, fmt: str) -> list[dict]:
    if fmt == "parquet":
        return pl.read_parquet(path).to_dicts()
    if fmt == "csv":
        return pl.read_csv(path).to_dicts()
    if fmt == "json":
        return json.loads(path.read_text())
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet"])
def test_declared_format_one_file_per_run(tmp_path: Path, fmt: str) -> None:
    p = pipeline(tmp_path, fmt)
    first = run_pipeline(p, home=tmp_path / ".ocht")
    second = run_pipeline(p, home=tmp_path / ".ocht")
    check_accounting(first)
    files = sorted((tmp_path / "out").glob(f"dead.*.{fmt}"))
    assert [f.name for f in files] == sorted(
        [f"dead.{first.run_id}.{fmt}", f"dead.{second.run_id}.{fmt}"]
    )  # the second run replaced nothing
    assert not (tmp_path / "out" / f"dead.{fmt}").exists()
    assert not [f for f in (tmp_path / "out").iterdir() if f.name.startswith(".")]
    rows = read(files[0], fmt)
    assert len(rows) == first.dead_letters == 2
    assert list(rows[0]) == list(DEAD_LETTER_COLUMNS)
    by_code = {r["code"]: r for r in rows}
    check = by_code["check-failed"]
    record = check["record"] if fmt in ("ndjson", "json") else json.loads(check["record"])
    assert record == {"id": 3, "name": "c", "amount": -5}  # an object, not a string
    assert check["reason"] == "outside [0, inf] (amount=-5)"
    raw = by_code["malformed-line"]
    assert raw["position"] == "in.csv:3"
    raw_record = raw["record"] if fmt in ("ndjson", "json") else json.loads(raw["record"])
    assert raw_record == "2,b"  # a line that could not be parsed stays the raw line


def test_a_failed_run_leaves_no_dead_letter_file(tmp_path: Path) -> None:
    p = pipeline(tmp_path, "ndjson")
    text = p.read_text().replace(
        "action: dead_letter}",
        "action: dead_letter}\n      - {type: not_null, columns: [name], action: fail}",
    )
    p.write_text(text.replace("1,a,10", "1,,10"))
    (tmp_path / "in.csv").write_text(CSV.replace("1,a,10", "1,,10"))
    with pytest.raises(Exception, match="check"):
        run_pipeline(p, home=tmp_path / ".ocht")
    out = tmp_path / "out"
    assert not out.exists() or list(out.iterdir()) == []


def test_secrets_are_masked_in_reasons(tmp_path: Path) -> None:
    forget_secrets()
    add_secrets({"s3cr3tV4l"})
    try:
        (tmp_path / "in.csv").write_text("id,name\n1,a\n")
        p = tmp_path / "p.yaml"
        p.write_text(
            "name: s\ninputs:\n  src: {type: csv, path: in.csv}\nsteps:\n  - kind: check\n"
            "    checks:\n      - {type: accepted_values, column: name, values: [s3cr3tV4l], "
            "action: dead_letter}\noutputs:\n  out: {type: csv, path: out/o.csv}\n"
            "dead_letter: {type: ndjson, path: out/dead.ndjson}\n"
        )
        result = run_pipeline(p, home=tmp_path / ".ocht")
        [path] = (tmp_path / "out").glob("dead.*.ndjson")
        text = path.read_text()
        assert result.dead_letters == 1
        assert "s3cr3tV4l" not in text and "not one of [***]" in text
    finally:
        forget_secrets()


@pytest.mark.parametrize("fmt", ["ndjson", "csv", "parquet", "json"])
def test_stream_batches_are_appended_never_rewritten(tmp_path: Path, fmt: str) -> None:
    ctx = RunContext("r1", "p", base_dir=tmp_path, run_dir=tmp_path / "run")
    sink = DeadLetterFile(tmp_path / f"dead.{fmt}", fmt, context=ctx)
    batch = pl.DataFrame({"record": ['{"a":1}'], "reason": ["bad"], "code": ["c"]})
    sink.append(batch)
    sink.append(batch.with_columns(pl.lit("worse").alias("reason")))
    if fmt in ("ndjson", "csv"):
        rows = read(run_path(tmp_path / f"dead.{fmt}", "r1"), fmt)
    else:
        rows = [r for f in sorted(tmp_path.glob(f"dead.r1.*.{fmt}")) for r in read(f, fmt)]
    assert [r["reason"] for r in rows] == ["bad", "worse"]
