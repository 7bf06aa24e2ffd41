"""Every case of the bad-input corpus (``test/corpus/<case>``) run on real files.

Each case holds a ``pipeline.yaml``, its input files and an ``expected.yaml``: the counts
of the accounting invariant (read, written, dead letters, dropped), dead letters per code,
failures per check, and dead letters that must be present (matched on the keys given).
"""

import shutil
from collections import Counter
from pathlib import Path

import polars as pl
import pytest
import yaml

from ocht.executor import DEAD_LETTER_COLUMNS, check_accounting
from ocht.testkit import run_pipeline

CORPUS = Path(__file__).parents[3] / "corpus"
CASES = sorted(p.name for p in CORPUS.iterdir() if (p / "pipeline.yaml").is_file())


def test_the_corpus_is_there():
    assert len(CASES) >= 9


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

    dead_file = folder / "out" / "dead.ndjson"
    dead = pl.read_ndjson(dead_file) if dead_file.exists() else pl.DataFrame()
    assert dead.height == expected["dead_letters"]
    if dead.height:
        assert dead.columns == list(DEAD_LETTER_COLUMNS)
        assert set(dead["run_id"]) == {result.run_id}
        assert dead["source"].null_count() == 0 and dead["ts"].null_count() == 0
    if "dead_codes" in expected:
        assert dict(Counter(dead["code"].to_list())) == expected["dead_codes"]
    rows = dead.to_dicts()
    for want in expected.get("dead", []):
        assert any(all(r.get(k) == v for k, v in want.items()) for r in rows), want
    if "checks" in expected:
        assert {c.check: c.failed for c in result.checks} == expected["checks"]
