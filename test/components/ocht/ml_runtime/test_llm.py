"""llm and embed against the deterministic fake server: typed answers, dead letters,
retries, timeouts, the cache, rate limits and secrets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from structlog.testing import capture_logs

from ocht.errors import InvalidPipeline, OchtError
from ocht.ml_runtime import RateLimiter
from ocht.store import Store
from ocht.testkit import FakeOpenAI, Reply, Workspace, run_pipeline

TICKETS = [
    {"id": 1, "text": "I was charged twice this month"},
    {"id": 2, "text": "The app crashes when I log in"},
    {"id": 3, "text": "How do I change my avatar?"},
    {"id": 4, "text": "Refund please, the invoice is wrong"},
]
SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string", "enum": ["billing", "bug", "other"]},
        "urgency": {"type": "integer", "minimum": 1, "maximum": 5},
    },
    "required": ["category", "urgency"],
    "additionalProperties": False,
}


def classify(body: dict[str, Any]) -> str:
    text = body["messages"][-1]["content"].lower()
    if "charged" in text or "refund" in text:
        return json.dumps({"category": "billing", "urgency": 4})
    if "crash" in text:
        return json.dumps({"category": "bug", "urgency": 5})
    return json.dumps({"category": "other", "urgency": 1})


@pytest.fixture
def fake() -> Any:
    with FakeOpenAI(answer=classify) as server:
        yield server


def doc(url: str, **step: Any) -> dict[str, Any]:
    return {
        "name": "tickets",
        "inputs": {"t": {"type": "ndjson", "path": "tickets.ndjson"}},
        "steps": [
            {
                "kind": "llm",
                "base_url": url,
                "model": "tiny",
                "prompt": "Classify this support ticket: {text}",
                "schema": SCHEMA,
                "retry": {"attempts": 4, "initial": 0.01, "jitter": 0, "timeout": 30},
                **step,
            }
        ],
        "outputs": {"out": {"type": "parquet", "path": "out.parquet"}},
        "dead_letter": {"type": "ndjson", "path": "dead.ndjson"},
    }


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    pl.DataFrame(TICKETS).write_ndjson(workspace.root / "tickets.ndjson")
    return workspace


def run(ws: Workspace, spec: dict[str, Any], **kw: Any) -> Any:
    return run_pipeline(ws.write_pipeline(spec), home=ws.root / ".ocht", **kw)


def out(ws: Workspace) -> pl.DataFrame:
    return pl.read_parquet(ws.root / "out.parquet").sort("id")


def test_answers_become_typed_columns_and_usage_is_reported(ws: Workspace, fake: Any) -> None:
    result = run(ws, doc(fake.url))
    frame = out(ws)
    assert frame["category"].to_list() == ["billing", "bug", "other", "billing"]
    assert frame["urgency"].to_list() == [4, 5, 1, 4]
    assert frame.schema["urgency"] == pl.Int64 and frame.schema["category"] == pl.String
    usage = result.reports["llm_1"]
    assert usage["requests"] == 4 and usage["cached"] == 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    sent = fake.requests[0]
    assert sent["temperature"] == 0 and sent["response_format"]["json_schema"]["schema"] == SCHEMA


def test_a_rerun_is_answered_from_the_cache(ws: Workspace, fake: Any) -> None:
    run(ws, doc(fake.url))
    first = out(ws)
    again = run(ws, doc(fake.url))
    assert len(fake.requests) == 4  # nothing asked the second time
    assert again.reports["llm_1"] == {
        **again.reports["llm_1"],
        "requests": 0,
        "cached": 4,
        "total_tokens": 0,
    }
    assert out(ws).equals(first)
    run(ws, doc(fake.url, prompt_version="2"))  # a new prompt version asks again
    assert len(fake.requests) == 8


def test_429_with_retry_after_and_5xx_are_retried(ws: Workspace, fake: Any) -> None:
    fake.queue(Reply(429, headers={"Retry-After": "0.2"}), Reply(503), Reply(500))
    with capture_logs() as logs:
        result = run(ws, doc(fake.url, concurrency=1))
    assert out(ws).height == 4
    assert result.reports["llm_1"]["requests"] == 4
    waits = [e["wait"] for e in logs if e["event"] == "retrying"]
    assert len(waits) == 3 and waits[0] >= 0.2  # Retry-After was honoured


def test_a_slow_answer_times_out_and_is_retried(ws: Workspace, fake: Any) -> None:
    fake.queue(Reply(delay=1.5, body={"late": True}))
    result = run(ws, doc(fake.url, concurrency=1, timeout=0.3))
    assert out(ws).height == 4 and result.reports["llm_1"]["requests"] == 4


def test_malformed_json_is_retried_then_fails_cleanly(ws: Workspace, fake: Any) -> None:
    fake.queue(Reply(body="{not json"))
    run(ws, doc(fake.url, concurrency=1))
    assert out(ws).height == 4
    (ws.root / "out.parquet").unlink()
    fake.queue(*[Reply(body="<html>") for _ in range(8)])
    with pytest.raises(OchtError) as info:
        run(ws, doc(fake.url, concurrency=1, cache=False))
    assert info.value.code == "endpoint-unavailable"
    assert "not JSON" in info.value.message
    assert not (ws.root / "out.parquet").exists()


def test_an_endpoint_that_is_down(ws: Workspace) -> None:
    with FakeOpenAI() as gone:
        url = gone.url
    with pytest.raises(OchtError) as info:
        run(ws, doc(url, retry={"attempts": 2, "initial": 0.01, "jitter": 0}))
    assert info.value.code == "endpoint-unavailable"
    assert url in info.value.message
    assert not (ws.root / "out.parquet").exists() and not list(ws.root.glob("dead*.ndjson"))


def test_a_permanent_4xx_fails_at_once(ws: Workspace, fake: Any) -> None:
    fake.queue(Reply(401, {"error": {"message": "bad key"}}))
    with pytest.raises(OchtError) as info:
        run(ws, doc(fake.url, concurrency=1, cache=False))
    assert info.value.code == "endpoint-error" and "401" in info.value.message
    assert not (ws.root / "out.parquet").exists()


def test_answers_that_do_not_fit_the_schema_are_dead_letters(ws: Workspace) -> None:
    def sloppy(body: dict[str, Any]) -> str:
        text = body["messages"][-1]["content"]
        if "crashes" in text:
            return json.dumps({"category": "outage", "urgency": 5})  # not in the enum
        if "avatar" in text:
            return "Sure! Here is the category: other"  # not JSON
        return classify(body)

    with FakeOpenAI(answer=sloppy) as fake:
        result = run(ws, doc(fake.url))
    assert out(ws)["id"].to_list() == [1, 4]
    assert result.dead_letters == 2
    [path] = ws.root.glob("dead.*.ndjson")  # one dead-letter file per run
    dead = pl.read_ndjson(path)
    assert set(dead["code"]) == {"llm-answer-invalid"}
    records = dead["record"].to_list()  # JSON objects in NDJSON
    reasons = dict(zip([r["id"] for r in records], dead["reason"], strict=True))
    assert "does not fit the schema at category" in reasons[2] and "'outage'" in reasons[2]
    assert "not JSON" in reasons[3]
    assert records[0]["text"] in {t["text"] for t in TICKETS}


def test_concurrency_is_bounded(workspace: Workspace) -> None:
    rows = [{"id": i, "text": f"ticket number {i}"} for i in range(12)]
    pl.DataFrame(rows).write_ndjson(workspace.root / "tickets.ndjson")
    with FakeOpenAI(answer=classify, delay=0.1) as slow:
        run(workspace, doc(slow.url, concurrency=3))
    assert 1 < slow.peak <= 3
    assert pl.read_parquet(workspace.root / "out.parquet").height == 12


def test_the_api_key_is_sent_but_never_logged_or_stored(
    ws: Workspace, fake: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TICKETS_KEY", "sk-very-secret-123")
    spec = doc(fake.url, api_key="${env:TICKETS_KEY}")
    with capture_logs() as logs, Store(base_dir=tmp_path) as store:
        fake.queue(Reply(503))
        result = run(ws, spec, store=store)
        extra = store.run(result.run_id).extra
        manifest = json.dumps(extra, default=str)
    assert extra["reports"]["llm_1"]["total_tokens"] > 0  # token usage in the manifest
    assert fake.requests[-1]["__authorization"] == "Bearer sk-very-secret-123"
    assert "sk-very-secret" not in json.dumps(logs, default=str)
    assert "sk-very-secret" not in json.dumps(result.to_dict(), default=str)
    assert "sk-very-secret" not in manifest
    cached = "".join(p.read_text() for p in (ws.root / ".ocht").rglob("*.json"))
    assert cached and "sk-very-secret" not in cached


def test_unknown_template_column_is_refused(ws: Workspace, fake: Any) -> None:
    with pytest.raises(InvalidPipeline) as info:
        run(ws, doc(fake.url, prompt="Classify {txt}"))
    assert info.value.code == "unknown-column" and info.value.issues[0].path == "steps[0].prompt"
    assert fake.requests == []


def test_text_answers_without_a_schema(ws: Workspace) -> None:
    with FakeOpenAI(answer=lambda body: "a short summary") as fake:
        run(ws, doc(fake.url, schema=None, output="summary"))
    assert out(ws)["summary"].to_list() == ["a short summary"] * 4


def test_embed_writes_vectors_as_a_list_column(ws: Workspace) -> None:
    with FakeOpenAI(dimensions=6) as fake:
        spec = doc(fake.url)
        spec["steps"] = [
            {
                "kind": "embed",
                "base_url": fake.url,
                "model": "e5",
                "column": "text",
                "batch_size": 3,
                "dimensions": 6,
            }
        ]
        result = run(ws, spec)
    frame = out(ws)
    assert frame.schema["embedding"] == pl.List(pl.Float32)
    assert frame["embedding"].list.len().to_list() == [6] * 4
    assert len(fake.requests) == 2  # 4 texts in batches of 3
    assert result.reports["embed_1"]["requests"] == 2


def test_rate_limiter_waits_for_the_minute_to_move() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    limiter = RateLimiter(
        requests_per_minute=2, tokens_per_minute=100, clock=lambda: now[0], sleep=sleep
    )
    limiter.acquire(10)
    limiter.acquire(10)
    limiter.acquire(10)  # the third request of the minute waits for the first to age out
    assert slept == [60.0]
    now[0] = 200.0
    limiter.acquire(90)
    limiter.acquire(20)  # 90 + 20 tokens > 100 per minute
    assert slept[-1] == 60.0


def test_embeddings_of_the_wrong_size_fail_the_run(ws: Workspace) -> None:
    with FakeOpenAI(dimensions=5) as fake:
        spec = doc(fake.url)
        spec["steps"] = [
            {
                "kind": "embed",
                "base_url": fake.url,
                "model": "e5",
                "column": "text",
                "dimensions": 6,
            }
        ]
        with pytest.raises(OchtError) as info:
            run(ws, spec)
    assert info.value.code == "embedding-invalid" and "5 dimensions, expected 6" in str(info.value)
    assert not (ws.root / "out.parquet").exists()
