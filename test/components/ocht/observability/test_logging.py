import io
import json

import pytest
import structlog

from ocht.observability import (
    HookGroup,
    LoggingHooks,
    RunHooks,
    add_secrets,
    bound,
    configure_logging,
    get_logger,
)


@pytest.fixture(autouse=True)
def _restore_logging():
    # these tests configure structlog for the whole process: leave it as they found it
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()


def log_lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_when_not_a_terminal_with_run_context():
    out = io.StringIO()
    configure_logging("auto", "info", stream=out)
    with bound(run_id="r-1", pipeline="p"):
        get_logger().info("step finished", step="filter_1", rows=3)
    (event,) = log_lines(out)
    assert event["event"] == "step finished"
    assert (event["run_id"], event["pipeline"], event["step"]) == ("r-1", "p", "filter_1")


def test_secrets_are_redacted_from_every_field():
    out = io.StringIO()
    configure_logging("json", "info", stream=out)
    add_secrets({"s3cr3t-token"})
    get_logger().info(
        "connecting to postgres://u:s3cr3t-token@h/db",
        options={"sasl.password": "s3cr3t-token"},
        items=["s3cr3t-token"],
    )
    text = out.getvalue()
    assert "s3cr3t-token" not in text
    assert "***" in text


def test_level_filters():
    out = io.StringIO()
    configure_logging("json", "warning", stream=out)
    get_logger().info("quiet")
    get_logger().warning("loud")
    assert [e["event"] for e in log_lines(out)] == ["loud"]


def test_hook_group_survives_a_failing_hook():
    seen = []

    class Broken(RunHooks):
        def on_step_end(self, *, step, **future):
            raise RuntimeError("observer bug")

    class Record(RunHooks):
        def on_step_end(self, *, step, **future):
            seen.append((step, future))

    configure_logging("json", "error", stream=io.StringIO())
    HookGroup([Broken(), Record(), LoggingHooks()]).on_step_end(step="s", rows_in=1, new=2)
    assert seen == [("s", {"rows_in": 1, "new": 2})]
