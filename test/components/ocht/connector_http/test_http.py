"""The http connector against a real server on loopback: pages, auth, faults, incremental, POST."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
from structlog.testing import capture_logs

from ocht.errors import OchtError
from ocht.store import Store
from ocht.testkit import Fault, RestApi, run_pipeline

RECORDS = [
    {"id": i, "updated_at": f"2024-01-{i:02d}T00:00:00", "amount": i * 10} for i in range(1, 8)
]


@pytest.fixture
def api():
    with RestApi(RECORDS, page_size=2) as server:
        yield server


def _run(tmp_path: Path, inp: dict[str, Any], store: Store | None = None, **kw: Any) -> Any:
    spec = {
        "name": "api_load",
        "inputs": {"orders": inp},
        "outputs": {"out": {"type": "parquet", "path": str(tmp_path / "out.parquet")}},
    }
    return run_pipeline(spec, home=tmp_path / ".ocht", store=store, **kw)


def _out(tmp_path: Path) -> pl.DataFrame:
    return pl.read_parquet(tmp_path / "out.parquet")


@pytest.mark.parametrize(
    ("style", "paginate"),
    [
        ("next_link", {"type": "next_link", "path": "links.next"}),
        ("link_header", {"type": "link_header"}),
        ("offset", {"type": "offset", "limit": 2}),
        ("page", {"type": "page", "size_param": "size", "size": 2}),
        ("cursor", {"type": "cursor", "path": "meta.next_cursor"}),
    ],
)
def test_every_pagination_style_reads_every_record(
    api: RestApi, tmp_path: Path, style: str, paginate: dict[str, Any]
) -> None:
    result = _run(
        tmp_path,
        {
            "type": "http",
            "url": api.url("/records"),
            "params": {"style": style},
            "records": "data",
            "paginate": paginate,
        },
    )
    assert result.status == "succeeded"
    got = _out(tmp_path)
    assert got["id"].to_list() == list(range(1, 8))
    # an ISO timestamp in JSON gets the type the same NDJSON file gets
    assert got.schema["amount"] == pl.Int64


def test_max_pages_stops_early(api: RestApi, tmp_path: Path) -> None:
    _run(
        tmp_path,
        {
            "type": "http",
            "url": api.url("/records"),
            "params": {"style": "page"},
            "records": "data",
            "paginate": {"type": "page"},
            "max_pages": 2,
        },
    )
    assert _out(tmp_path)["id"].to_list() == [1, 2, 3, 4]


def test_auth_headers_and_query_keys_are_sent_and_never_logged(
    api: RestApi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("API_TOKEN", "tok-SECRET-123")
    with capture_logs() as logs:
        _run(
            tmp_path,
            {
                "type": "http",
                "url": api.url("/records"),
                "params": {"style": "page"},
                "records": "data",
                "paginate": {"type": "page"},
                "auth": {"type": "bearer", "token": "${env:API_TOKEN}"},
            },
        )
    assert all(h.get("Authorization") == "Bearer tok-SECRET-123" for _, _, h in api.requests)
    assert "tok-SECRET-123" not in repr(logs)
    _run(
        tmp_path,
        {
            "type": "http",
            "url": api.url("/records"),
            "records": "data",
            "auth": {"type": "api_key", "name": "key", "value": "k-1", "in": "query"},
        },
    )
    assert "key=k-1" in api.requests[-1][1]


def test_429_with_retry_after_is_honoured(api: RestApi, tmp_path: Path) -> None:
    api.fail_next("/records", Fault(429, retry_after="1"), Fault(503))
    with capture_logs() as logs:
        result = _run(
            tmp_path,
            {
                "type": "http",
                "url": api.url("/records"),
                "records": "data",
                "retry": {"attempts": 4, "initial": 0.01, "jitter": 0},
            },
        )
    assert result.status == "succeeded"
    waits = [e["wait"] for e in logs if e.get("event") == "retrying"]
    assert len(waits) == 2 and waits[0] >= 1.0 > waits[1]


def test_persistent_5xx_fails_cleanly_with_nothing_written(api: RestApi, tmp_path: Path) -> None:
    api.fail_next("/records", *[Fault(500)] * 5)
    with pytest.raises(OchtError) as err:
        _run(
            tmp_path,
            {
                "type": "http",
                "url": api.url("/records"),
                "records": "data",
                "retry": {"attempts": 3, "initial": 0.01, "jitter": 0},
            },
        )
    assert err.value.code == "retries-exhausted"
    assert not (tmp_path / "out.parquet").exists()


def test_timeouts_are_retried(api: RestApi, tmp_path: Path) -> None:
    api.fail_next("/records", Fault(200, delay=1.0))
    result = _run(
        tmp_path,
        {
            "type": "http",
            "url": api.url("/records"),
            "records": "data",
            "timeout": 0.3,
            "retry": {"attempts": 3, "initial": 0.01, "jitter": 0},
        },
    )
    assert result.status == "succeeded"


@pytest.mark.parametrize(
    ("path", "records", "code"),
    [
        ("/nowhere", "data", "http-error"),
        ("/html", "data", "malformed-page"),
        ("/records", "data.missing", "malformed-page"),
    ],
)
def test_bad_answers_have_stable_codes(
    api: RestApi, tmp_path: Path, path: str, records: str, code: str
) -> None:
    with pytest.raises(OchtError) as err:
        _run(tmp_path, {"type": "http", "url": api.url(path), "records": records})
    assert err.value.code == code


def test_unreachable_endpoint(tmp_path: Path) -> None:
    with pytest.raises(OchtError) as err:
        _run(
            tmp_path,
            {
                "type": "http",
                "url": "http://127.0.0.1:9/records",
                "retry": {"attempts": 2, "initial": 0.01, "jitter": 0},
            },
        )
    assert err.value.code == "retries-exhausted"


def test_incremental_cursor_lives_in_the_store(api: RestApi, tmp_path: Path) -> None:
    spec = {
        "type": "http",
        "url": api.url("/records"),
        "params": {"style": "page"},
        "records": "data",
        "paginate": {"type": "page"},
        "incremental": {"cursor": "updated_at", "param": "since"},
    }
    store = Store(base_dir=tmp_path)
    try:
        _run(tmp_path, spec, store=store)
        assert _out(tmp_path).height == 7
        assert store.get_state("api_load")["orders"]["value"] == "2024-01-07T00:00:00"

        api.records.append({"id": 8, "updated_at": "2024-01-08T00:00:00", "amount": 80})
        _run(tmp_path, spec, store=store)
        assert _out(tmp_path)["id"].to_list() == [8]
        assert "since=2024-01-07T00%3A00%3A00" in api.requests[-1][1]

        _run(tmp_path, spec, store=store, full_refresh=True)
        assert _out(tmp_path).height == 8
    finally:
        store.close()


def test_http_output_posts_batches_at_commit_with_idempotency_keys(
    api: RestApi, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    pl.DataFrame({"id": list(range(5)), "v": list("abcde")}).write_csv(source)
    spec = {
        "name": "push",
        "inputs": {"rows": {"type": "csv", "path": str(source)}},
        "outputs": {"api": {"type": "http", "url": api.url("/ingest"), "batch_size": 2}},
    }
    run_pipeline(spec, home=tmp_path / ".ocht")
    assert [len(b) for b in api.received] == [2, 2, 1]
    assert sorted(r["id"] for r in api.rows()) == [0, 1, 2, 3, 4]
    first_keys = list(api.keys_seen)
    run_pipeline(spec, home=tmp_path / ".ocht")  # a re-run sends the same keys: nothing doubled
    assert api.keys_seen[3:] == first_keys and len(api.rows()) == 5


def test_a_failed_run_posts_nothing(api: RestApi, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text("id\n1\n2\n")
    spec = {
        "name": "push",
        "inputs": {"rows": {"type": "csv", "path": str(source), "schema": {"id": "int"}}},
        "steps": [{"kind": "derive", "columns": {"x": "cast('a' AS int)"}}],
        "outputs": {"api": {"type": "http", "url": api.url("/ingest")}},
    }
    with pytest.raises(OchtError):
        run_pipeline(spec, home=tmp_path / ".ocht")
    assert api.received == []
