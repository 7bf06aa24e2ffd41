import socket
import threading
import time

import pytest

from ocht.pipeline_model import Retry
from ocht.registry import Registry
from ocht.resilience import RetriesExhausted, call_with_retry, is_transient
from ocht.testkit import FLAKY, flaky_attempts, reset_flaky, run_pipeline

FAST = {"initial": 0.01, "jitter": 0.01, "max_delay": 0.05}


@pytest.fixture
def reg(memory):
    reset_flaky()
    yield Registry(connectors=[memory.connector, FLAKY])
    reset_flaky()


def pipeline(fail_times, retry=None, error="transient"):
    src = {
        "type": "flaky",
        "key": "k",
        "rows": [{"a": 1}, {"a": 2}],
        "fail_times": fail_times,
        "error": error,
    }
    if retry is not None:
        src["retry"] = retry
    return {
        "name": "r",
        "inputs": {"src": src},
        "outputs": {"out": {"type": "memory", "key": "retry-out"}},
    }


def test_a_connector_that_fails_n_times_then_answers_succeeds_with_retries(reg, memory):
    result = run_pipeline(pipeline(3, {"attempts": 5, **FAST}), registry=reg)
    assert result.ok and flaky_attempts("k") == 4
    assert memory("retry-out")["a"].to_list() == [1, 2]


def test_without_a_retry_option_the_first_failure_is_final(reg, memory):
    with pytest.raises(RetriesExhausted) as info:
        run_pipeline(pipeline(1), registry=reg)
    assert flaky_attempts("k") == 1 and info.value.attempts == 1


def test_attempts_are_bounded_and_the_error_says_so(reg, memory, capsys):
    with pytest.raises(RetriesExhausted) as info:
        run_pipeline(pipeline(10, {"attempts": 3, **FAST}), registry=reg)
    err = info.value
    assert err.code == "retries-exhausted" and err.attempts == 3 and flaky_attempts("k") == 3
    assert "connect to flaky:k failed 3 times" in err.message
    assert "ConnectionResetError" in err.message


def test_permanent_errors_are_not_retried(reg, memory):
    with pytest.raises(PermissionError):
        call_with_retry(
            lambda: (_ for _ in ()).throw(PermissionError("no")), policy=Retry(attempts=5, **FAST)
        )
    with pytest.raises(Exception, match="access denied"):
        run_pipeline(pipeline(2, {"attempts": 5, **FAST}, error="permanent"), registry=reg)
    assert flaky_attempts("k") == 1


def test_total_time_is_bounded():
    started = time.monotonic()
    with pytest.raises(RetriesExhausted) as info:
        call_with_retry(
            _refuse, policy=Retry(attempts=100, initial=0.05, multiplier=1, jitter=0, timeout=0.3)
        )
    assert time.monotonic() - started < 2
    assert 2 <= info.value.attempts < 100


def test_backoff_grows_exponentially_with_jitter_and_a_cap():
    waits: list[float] = []
    with pytest.raises(RetriesExhausted):
        call_with_retry(
            _refuse,
            policy=Retry(
                attempts=6, initial=1, multiplier=2, max_delay=5, jitter=0.5, timeout=None
            ),
            sleep=waits.append,
        )
    assert len(waits) == 5
    for got, base in zip(waits, [1, 2, 4, 5, 5], strict=True):
        assert base <= got <= base + 0.5


def test_each_retry_is_logged(caplog):
    from structlog.testing import capture_logs

    with capture_logs() as logs, pytest.raises(RetriesExhausted):
        call_with_retry(_refuse, policy=Retry(attempts=3, **FAST), what="connect to db")
    retries = [e for e in logs if e["event"] == "retrying"]
    assert [e["attempt"] for e in retries] == [1, 2]
    assert retries[0]["what"] == "connect to db" and "ConnectionRefusedError" in retries[0]["error"]


def test_classification():
    assert is_transient(TimeoutError()) and is_transient(ConnectionResetError())
    assert not is_transient(ValueError()) and not is_transient(PermissionError())

    class KafkaLike(Exception):
        def retriable(self):
            return True

    assert is_transient(KafkaLike())


def test_a_real_server_that_is_not_up_yet_is_waited_for():
    """A TCP server that starts listening only after ~0.5 s: connects are refused first."""
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    ready = threading.Event()

    def serve_later():
        time.sleep(0.5)
        with socket.socket() as srv:
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            srv.bind(("127.0.0.1", port))
            srv.listen()
            ready.set()
            conn, _ = srv.accept()
            conn.sendall(b"hello")
            conn.close()

    thread = threading.Thread(target=serve_later, daemon=True)
    thread.start()
    attempts = []

    def connect():
        attempts.append(1)
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            return s.recv(5)

    got = call_with_retry(
        connect,
        policy=Retry(
            attempts=20, initial=0.05, multiplier=1.5, max_delay=0.2, jitter=0.05, timeout=10
        ),
        what=f"connect to 127.0.0.1:{port}",
    )
    thread.join(5)
    assert got == b"hello" and len(attempts) > 1 and ready.is_set()


def _refuse():
    raise ConnectionRefusedError("refused")


def test_a_run_past_its_time_limit_fails_and_never_commits(reg, memory):
    from ocht.executor import RunTimedOut

    spec = pipeline(0)
    spec["inputs"]["src"]["delay"] = 1.0
    with pytest.raises(RunTimedOut) as info:
        run_pipeline(spec, registry=reg, timeout=0.2)
    assert info.value.code == "run-timeout"
    time.sleep(1.5)  # the worker finishes its query in the background...
    assert not memory.was_committed("retry-out")  # ...and does not commit


def test_a_run_within_its_time_limit_returns_its_result(reg, memory):
    assert run_pipeline(pipeline(0), registry=reg, timeout=30).rows_written == 2
