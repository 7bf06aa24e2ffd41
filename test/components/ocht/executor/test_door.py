"""The front door: one Runner for validate, compile, explain, run; cancellation, time
limits and preparation failures recorded in the store."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import polars as pl
import pytest

from ocht.errors import InvalidPipeline, OchtError
from ocht.executor import (
    Cancelled,
    CancelToken,
    ResumeUnsupported,
    Runner,
    RunRequest,
    RunServices,
    RunTimedOut,
)
from ocht.observability import RunHooks
from ocht.registry import Registry
from ocht.store import Store
from ocht.testkit import FLAKY, reset_flaky

ROWS = [{"id": 1, "amount": 5.0}, {"id": 2, "amount": 50.0}]


def doc(**extra):
    return {
        "name": "door",
        "inputs": {"i": {"type": "memory", "rows": ROWS}},
        "steps": [{"kind": "filter", "where": "amount > 10"}],
        "outputs": {"o": {"type": "memory", "key": "o"}},
        **extra,
    }


@pytest.fixture
def store(tmp_path):
    with Store(base_dir=tmp_path) as s:
        yield s


@pytest.fixture
def runner(registry, store, tmp_path):
    return Runner(RunServices(store=store, registry=registry, home=tmp_path / "home"))


class CancelOnStart(RunHooks):
    """Cancels the run as soon as it starts reading (another thread would do the same)."""

    def __init__(self, token: CancelToken) -> None:
        self.token = token

    def on_run_start(self, **_: object) -> None:
        self.token.cancel()


class InterruptOnStart(RunHooks):
    """Ctrl-C, as Python delivers it, while the run is going."""

    def on_run_start(self, **_: object) -> None:
        raise KeyboardInterrupt


def test_the_callers_run_id_is_the_runs_id(runner, store, memory):
    result = runner.run(RunRequest(doc(), run_id="my-run-1"))
    assert result.run_id == "my-run-1" and result.status == "succeeded"
    assert store.run("my-run-1").status == "succeeded"
    assert memory("o")["id"].to_list() == [2]


def test_a_cancelled_run_commits_nothing_and_is_recorded_cancelled(
    registry, store, memory, tmp_path
):
    token = CancelToken()
    runner = Runner(
        RunServices(store=store, registry=registry, hooks=CancelOnStart(token), home=tmp_path)
    )
    with pytest.raises(Cancelled) as info:
        runner.run(RunRequest(doc(), run_id="c1"), cancel=token)
    assert info.value.code == "cancelled" and info.value.exit_code == 130
    assert not memory.was_committed("o")
    record = store.run("c1")
    assert record.status == "cancelled" and record.error_code == "cancelled"


def test_a_token_cancelled_before_the_run_reads_nothing(runner, store, memory):
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        runner.run(RunRequest(doc(), run_id="c2"), cancel=token)
    assert store.run("c2").status == "cancelled" and store.run("c2").rows_read == {}
    assert not memory.was_committed("o")


def test_ctrl_c_is_cancelled_exit_130_and_recorded(registry, store, memory, tmp_path):
    runner = Runner(
        RunServices(store=store, registry=registry, hooks=InterruptOnStart(), home=tmp_path)
    )
    with pytest.raises(Cancelled) as info:
        runner.run(RunRequest(doc(), run_id="c3"))
    assert info.value.exit_code == 130
    assert store.run("c3").status == "cancelled"
    assert not memory.was_committed("o")


def test_a_timeout_is_recorded_as_run_timeout(memory, store, tmp_path):
    reset_flaky()
    runner = Runner(
        RunServices(store=store, registry=Registry(connectors=[memory.connector, FLAKY]))
    )
    slow = {
        "name": "slow",
        "inputs": {"src": {"type": "flaky", "key": "s", "rows": ROWS, "delay": 1.0}},
        "outputs": {"o": {"type": "memory", "key": "slow"}},
    }
    with pytest.raises(RunTimedOut):
        runner.run(RunRequest(slow, timeout=0.2, run_id="t1"))
    record = store.run("t1")
    assert record.status == "failed" and record.error_code == "run-timeout"
    time.sleep(1.5)  # the run's thread finishes its query, sees the token, commits nothing
    assert not memory.was_committed("slow")
    assert store.run("t1").error_code == "run-timeout"
    reset_flaky()


def test_a_preparation_failure_is_a_failed_run(runner, store, tmp_path):
    unreachable = {
        "name": "prep",
        "inputs": {"i": {"type": "sql", "url": "postgresql://u@127.0.0.1:1/db", "table": "t"}},
        "outputs": {"o": {"type": "memory", "key": "o"}},
    }
    with pytest.raises(OchtError) as info:
        runner.run(RunRequest(unreachable, run_id="p1"))
    record = store.run("p1")
    assert record.status == "failed" and record.error_code == info.value.code
    assert info.value.code == "source-unreachable"


def test_a_missing_table_is_a_failed_run(runner, store, tmp_path):
    db = tmp_path / "empty.db"
    spec = {"type": "sql", "url": f"sqlite:///{db}", "table": "nope"}
    pipeline = {"name": "prep2", "inputs": {"i": spec}, "outputs": {"o": {"type": "memory"}}}
    with pytest.raises(OchtError) as info:
        runner.run(RunRequest(pipeline, run_id="p2"))
    assert store.run("p2").status == "failed"
    assert store.run("p2").error_code == info.value.code


def test_an_invalid_pipeline_is_not_a_run(runner, store):
    with pytest.raises(InvalidPipeline):
        runner.run(RunRequest(doc(steps=[{"kind": "filter", "where": "nope > 1"}])))
    assert store.runs() == []


def test_validate_lists_every_problem_at_once(runner):
    bad = doc(
        steps=[{"kind": "filter", "where": "nope > 1"}, {"kind": "fliter", "where": "x"}],
        outputs={"o": {"type": "memory", "key": "o"}, "b": {"type": "parqet", "path": "x"}},
    )
    codes = sorted(i.code for i in runner.validate(RunRequest(bad)))
    assert codes == ["unknown-column", "unknown-connector", "unknown-step"]
    assert runner.validate(RunRequest(doc())) == []


def test_validate_names_unknown_check_types_beside_key_errors(runner):
    bad = doc(
        steps=[
            {"kind": "check", "checks": [{"type": "not_nul", "column": "x"}]},
            {"kind": "filter", "wher": "x"},
        ]
    )
    codes = sorted(i.code for i in runner.validate(RunRequest(bad)))
    assert codes == ["missing-field", "unknown-check", "unknown-key"]


def test_compile_and_explain_touch_no_data_and_write_nothing(runner, store, memory):
    plan = runner.compile(RunRequest(doc()))
    assert [s.kind.name for s in plan.steps] == ["filter"]
    text = runner.explain(RunRequest(doc()))
    assert "filter" in text and "-- output o" in text
    assert store.runs() == [] and not memory.was_committed("o")


def test_dry_run_is_planned_and_not_recorded(runner, store, memory):
    result = runner.run(RunRequest(doc(), dry_run=True))
    assert result.status == "planned" and store.runs() == []


def test_the_clock_names_the_run(registry, memory):
    class Fixed:
        def now(self) -> datetime:
            return datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)

        def time(self) -> float:
            return 0.0

    result = Runner(RunServices(registry=registry, clock=Fixed())).run(RunRequest(doc()))
    assert result.run_id.startswith("20300102T030405-")


def test_phases_fire_through_the_hooks(registry, memory):
    seen: list[str] = []

    class Phases(RunHooks):
        def on_phase(self, *, phase: str, **_: object) -> None:
            seen.append(phase)

    Runner(RunServices(registry=registry, hooks=Phases())).run(RunRequest(doc()))
    assert seen == ["load", "compile", "prepare", "execute", "commit"]


def test_the_token_is_thread_safe_and_one_way():
    token = CancelToken()
    threads = [threading.Thread(target=token.cancel, args=(f"r{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert token.cancelled and token.reason.startswith("r") and token.wait(0)


def test_a_runner_serves_many_runs(runner, memory):
    first = runner.run(RunRequest(doc()))
    second = runner.run(RunRequest(doc()))
    assert first.run_id != second.run_id
    assert memory("o").equals(pl.DataFrame({"id": [2], "amount": [50.0]}))


@pytest.mark.kafka
def test_a_cancelled_stream_stops_before_its_next_commit(kafka_broker, store, tmp_path):
    from ocht.testkit import kafka_input, orders
    from ocht.testkit.broker import create_topic, drain, produce_frame, unique_topic

    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce_frame(kafka_broker, topic_in, orders(900))
    pipeline = {
        "name": "cancel_stream",
        "inputs": {"orders": kafka_input(kafka_broker, topic_in, max_rows=300)},
        "outputs": {"o": {"type": "kafka", "brokers": kafka_broker, "topic": topic_out}},
    }
    token = CancelToken()
    runner = Runner(RunServices(store=store, home=tmp_path))
    with pytest.raises(Cancelled) as info:
        runner.stream(
            RunRequest(pipeline, run_id="s1", drain=5.0),
            cancel=token,
            on_batch=lambda _report: token.cancel(),
        )
    assert info.value.exit_code == 130
    assert store.run("s1").status == "cancelled" and store.run("s1").mode == "stream"
    # the first batch was committed, the ones after it were not: a restart reads them again
    again = runner.stream(RunRequest(pipeline, drain=0.5))
    assert 0 < again.rows_read <= 600
    assert drain(kafka_broker, topic_out).height >= 900  # at least once, nothing lost


@pytest.mark.kafka
def test_a_stream_past_its_time_limit_is_run_timeout(kafka_broker, store, tmp_path):
    from ocht.testkit import kafka_input
    from ocht.testkit.broker import create_topic, unique_topic

    topic_in = create_topic(kafka_broker, unique_topic("in"))
    pipeline = {
        "name": "slow_stream",
        "inputs": {"orders": kafka_input(kafka_broker, topic_in)},
        "outputs": {"o": {"type": "kafka", "brokers": kafka_broker, "topic": unique_topic("o")}},
    }
    runner = Runner(RunServices(store=store, home=tmp_path))
    with pytest.raises(RunTimedOut):
        runner.stream(RunRequest(pipeline, run_id="s2", timeout=1.0, drain=60.0))
    assert store.run("s2").error_code == "run-timeout"


def test_resume_without_a_store_is_refused(registry, memory):
    with pytest.raises(ResumeUnsupported):
        Runner(RunServices(registry=registry)).run(RunRequest(doc(), resume=True))
    assert not memory.was_committed("o")
