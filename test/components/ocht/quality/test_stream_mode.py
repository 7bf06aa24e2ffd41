"""The check step in stream mode: the same rows as in batch, judged per micro-batch."""

import polars as pl
import pytest

from ocht.pipeline_model import Check
from ocht.quality import CheckFailed, build_check
from ocht.transform import DEAD_LETTER, BuildContext

ROWS = pl.DataFrame({"id": [1, 2, 2, 3, None, 4], "amount": [5.0, -1.0, 7.0, 200.0, 1.0, 3.0]})
CHECKS = [
    {"type": "not_null", "column": "id", "action": "dead_letter"},
    {"type": "range", "column": "amount", "min": 0, "max": 100, "action": "fix"},
    {"type": "unique", "column": "id", "action": "warn"},
]


def build(mode, checks=CHECKS):
    spec = Check.model_validate({"kind": "check", "checks": checks})
    return build_check(spec, BuildContext("qc", "steps[0]", (ROWS.schema,), mode))


def run_batches(step, batches):
    mains, deads = [], []
    for b in batches:
        lf = b.lazy()
        branches = [step.apply([lf])]
        if DEAD_LETTER in step.outputs:
            branches.append(step.apply([lf], DEAD_LETTER))
        collected = pl.collect_all(branches)
        mains.append(collected[0])
        deads.extend(collected[1:])
    return pl.concat(mains), pl.concat(deads) if deads else None


def test_row_checks_give_the_same_rows_in_both_modes():
    batch_main, batch_dead = run_batches(build("batch"), [ROWS])
    stream = build("stream")
    stream_main, stream_dead = run_batches(stream, [ROWS[:2], ROWS[2:4], ROWS[4:]])
    assert stream_main.equals(batch_main)
    assert stream_dead["record"].to_list() == batch_dead["record"].to_list()
    results = {r["check"]: r for r in stream.state.check_results()}
    assert results["not_null_id"]["failed"] == 1 and results["not_null_id"]["rows_checked"] == 6
    assert results["range_amount"]["failed"] == 2


def test_unique_is_judged_within_each_micro_batch_in_stream_mode():
    stream = build("stream")
    run_batches(stream, [ROWS[:2], ROWS[2:4], ROWS[4:]])  # the two id=2 rows are apart
    batch = build("batch")
    run_batches(batch, [ROWS])
    failed = {
        m.state.mode: {r["check"]: r["failed"] for r in m.state.check_results()}
        for m in (stream, batch)
    }
    assert failed["stream"]["unique_id"] == 0 and failed["batch"]["unique_id"] == 2


def test_a_fail_check_stops_the_stream_at_the_first_bad_micro_batch():
    stream = build("stream", [{"type": "range", "column": "amount", "min": 0}])
    run_batches(stream, [ROWS[:1]])  # a good batch passes
    with pytest.raises(CheckFailed) as info:
        run_batches(stream, [ROWS[1:3]])
    assert info.value.failed == 1 and info.value.samples == [-1.0]
