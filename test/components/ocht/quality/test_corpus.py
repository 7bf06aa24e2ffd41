"""Every case of the bad-input corpus (``test/corpus/<case>``) run on real files.

Each case holds a ``pipeline.yaml``, its input files and an ``expected.yaml``: the counts
of the accounting invariant (read, written, dead letters, dropped), dead letters per code,
failures per check, and dead letters that must be present (matched on the keys given).
"""

import json
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from ocht.executor import DEAD_LETTER_COLUMNS, check_accounting
from ocht.testkit import run_pipeline

CORPUS = Path(__file__).parents[3] / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "pipeline.yaml").is_file())


def test_the_corpus_is_there():
    assert len(CASES) >= 9


def as_record(want: dict) -> object:
    """An expected record: a raw line a source could not read stays a string, else JSON."""
    text = want["record"]
    if str(want.get("step", "")).startswith("input:") or want.get("code") in RAW_CODES:
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, dict) else text


#: codes of records a source could not read: kept as the raw line
RAW_CODES = {"bad-json", "malformed-line", "type-mismatch", "schema-drift"}


@pytest.mark.parametrize("case", CASES)
def test_corpus_case(case, tmp_path):
    folder = tmp_path / case
    shutil.copytree(CORPUS / case, folder)
    expected = yaml.safe_load((folder / "expected.yaml").read_text())

    result = run_pipeline(folder / "pipeline.yaml", home=tmp_path / ".ocht")

    acc = check_accounting(result)  # read = written + dead letters + dropped
    got = {
        "read": acc.read,
        "written": acc.written,
        "dead_letters": acc.dead_lettered,
        "dropped": acc.dropped,
    }
    assert got == {k: expected[k] for k in got}

    dead_file = folder / "out" / f"dead.{result.run_id}.ndjson"  # one file per run
    text = dead_file.read_text() if dead_file.exists() else ""
    rows = [json.loads(line) for line in text.splitlines()]
    assert len(rows) == expected["dead_letters"]
    for r in rows:
        assert list(r) == list(DEAD_LETTER_COLUMNS)
        assert r["run_id"] == result.run_id
        assert r["source"] is not None and r["ts"] is not None
    if "dead_codes" in expected:
        assert dict(Counter(r["code"] for r in rows)) == expected["dead_codes"]
    for want in expected.get("dead", []):
        want = {**want, "record": as_record(want)} if "record" in want else want
        assert any(all(r.get(k) == v for k, v in want.items()) for r in rows), want
    if "checks" in expected:
        assert {c.check: c.failed for c in result.checks} == expected["checks"]
