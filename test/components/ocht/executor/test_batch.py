import pytest

from ocht.errors import InvalidPipeline, OchtError
from ocht.executor import Runner, RunRequest, RunServices
from ocht.testkit import run_pipeline

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


def test_rows_per_step_are_counted(registry, memory):
    result = run_pipeline(
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
        run_pipeline(pipeline([{"kind": "filter", "where": "amont > 10"}]), registry=registry)
    issue = info.value.issues[0]
    assert issue.code == "unknown-column"
    assert issue.path == "steps[0].where"
    assert "filter_1" in issue.message and issue.hint == "did you mean 'amount'?"
    assert not memory.was_committed("out")


def test_unknown_column_in_file_names_line(registry, workspace):
    path = workspace.write_pipeline(pipeline([{"kind": "derive", "columns": {"x": "amout"}}]))
    with pytest.raises(InvalidPipeline) as info:
        Runner(RunServices(registry=registry)).compile(RunRequest(path))
    issue = info.value.issues[0]
    assert issue.file and issue.file.endswith("pipeline.yaml") and issue.line is not None


def test_several_compile_errors_reported_together(registry):
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(
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
        run_pipeline(
            pipeline(
                [],
                {
                    "good": {"type": "memory", "key": "good"},
                    "bad": {"type": "memory", "key": "bad", "fail_after": 0},
                },
            ),
            registry=registry,
        )
    assert not memory.was_committed("good") and not memory.was_committed("bad")
    assert memory("good").is_empty()


def test_dry_run_reads_and_writes_nothing(registry, memory):
    result = run_pipeline(
        pipeline([{"kind": "filter", "where": "amount > 1"}]), registry=registry, dry_run=True
    )
    assert result.status == "planned" and not memory.was_committed("out")


def test_limit_reads_at_most_n_rows(registry, memory):
    result = run_pipeline(pipeline([]), registry=registry, limit=2)
    assert result.inputs == {"orders": 2} and memory("out").height == 2


def test_stream_mode_refuses_batch_only_steps(registry):
    data = pipeline([{"kind": "limit", "n": 1}])
    with pytest.raises(InvalidPipeline) as info:
        Runner(RunServices(registry=registry)).compile(RunRequest(data), mode="stream")
    issue = next(i for i in info.value.issues if i.code == "batch-only-step")
    assert issue.path == "steps[0].kind" and issue.hint
