import pytest

import ocht.executor
from ocht.config import load_pipeline
from ocht.errors import InvalidPipeline, OchtError
from ocht.executor import compile_plan, execute
from ocht.testkit import was_committed

ROWS = [
    {"id": 1, "country": "DE", "amount": 5.0},
    {"id": 2, "country": "FR", "amount": 50.0},
    {"id": 3, "country": "DE", "amount": 500.0},
    {"id": 4, "country": "NL", "amount": 20.0},
]


def pipeline(steps, outputs=None, **extra):
    return {
        "name": "t",
        "inputs": {"orders": {"type": "memory", "rows": ROWS}},
        "steps": steps,
        "outputs": outputs or {"out": {"type": "memory", "key": "out"}},
        **extra,
    }


def test_public_names_are_pinned():
    assert sorted(ocht.executor.__all__) == [
        "Accounting",
        "AccountingMismatch",
        "BatchReport",
        "Cancelled",
        "CheckStats",
        "DEAD_LETTER_COLUMNS",
        "OutputStats",
        "Plan",
        "PlannedOutput",
        "PlannedStep",
        "ResumeUnsupported",
        "RunResult",
        "RunTimedOut",
        "SchemaContractError",
        "StepStats",
        "StreamResult",
        "StreamSource",
        "accounting",
        "build_frames",
        "check_accounting",
        "compile_plan",
        "execute",
        "execute_stream",
        "explain",
        "forget_resume_point",
        "make_context",
        "new_run_id",
        "normalize_dead_letters",
        "plan_stream",
        "prepare_tracked",
        "read_trace",
        "resumable_run",
        "run",
        "run_stream",
        "run_with_timeout",
        "schema_diff",
        "trace_frame",
        "tracked_run",
    ]
    for name in ocht.executor.__all__:
        assert hasattr(ocht.executor, name)


def test_rows_per_step_are_counted(registry, memory):
    result = execute(
        pipeline(
            [
                {"kind": "filter", "where": "amount > 10"},
                {"kind": "derive", "columns": {"eur": "amount * 2"}},
            ]
        ),
        registry=registry,
    )
    assert result.inputs == {"orders": 4}
    assert [(s.step, s.rows_in, s.rows_out) for s in result.steps] == [
        ("filter_1", 4, 3),
        ("derive_2", 3, 3),
    ]
    assert result.outputs[0].rows == 3
    assert memory("out")["eur"].to_list() == [100.0, 1000.0, 40.0]
    assert set(result.phases) >= {"execute", "commit"}


def test_unknown_column_fails_at_compile_naming_step_and_nearest(registry, memory):
    with pytest.raises(InvalidPipeline) as info:
        execute(pipeline([{"kind": "filter", "where": "amont > 10"}]), registry=registry)
    issue = info.value.issues[0]
    assert issue.code == "unknown-column"
    assert issue.path == "steps[0].where"
    assert "filter_1" in issue.message and issue.hint == "did you mean 'amount'?"
    assert not was_committed("out")


def test_unknown_column_in_file_names_line(registry, workspace):
    path = workspace.write_pipeline(pipeline([{"kind": "derive", "columns": {"x": "amout"}}]))
    with pytest.raises(InvalidPipeline) as info:
        compile_plan(load_pipeline(path), registry=registry)
    issue = info.value.issues[0]
    assert issue.file and issue.file.endswith("pipeline.yaml") and issue.line is not None


def test_several_compile_errors_reported_together(registry):
    with pytest.raises(InvalidPipeline) as info:
        execute(
            pipeline(
                [{"kind": "filter", "where": "nope > 1"}, {"kind": "fliter", "where": "x"}],
                {"out": {"type": "memory", "key": "o"}, "bad": {"type": "parqet", "path": "x"}},
            ),
            registry=registry,
        )
    codes = sorted(i.code for i in info.value.issues)
    assert codes == ["unknown-column", "unknown-connector", "unknown-step"]


def test_failing_sink_leaves_every_output_uncommitted(registry, memory):
    with pytest.raises(OchtError):
        execute(
            pipeline(
                [],
                {
                    "good": {"type": "memory", "key": "good"},
                    "bad": {"type": "memory", "key": "bad", "fail_after": 0},
                },
            ),
            registry=registry,
        )
    assert not was_committed("good") and not was_committed("bad")
    assert memory("good").is_empty()


def test_dry_run_reads_and_writes_nothing(registry, memory):
    result = execute(
        pipeline([{"kind": "filter", "where": "amount > 1"}]), registry=registry, dry_run=True
    )
    assert result.status == "planned" and not was_committed("out")


def test_limit_reads_at_most_n_rows(registry, memory):
    result = execute(pipeline([]), registry=registry, limit=2)
    assert result.inputs == {"orders": 2} and memory("out").height == 2


def test_stream_mode_refuses_batch_only_steps(registry):
    data = pipeline([{"kind": "limit", "n": 1}])
    with pytest.raises(InvalidPipeline) as info:
        compile_plan(load_pipeline(data), mode="stream", registry=registry)
    issue = next(i for i in info.value.issues if i.code == "batch-only-step")
    assert issue.path == "steps[0].kind" and issue.hint
