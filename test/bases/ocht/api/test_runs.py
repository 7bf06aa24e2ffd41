"""Runs over HTTP: submit, manifest, dead letters, trace, logs, cancel, rerun, sandbox, 429."""

from __future__ import annotations

import time
import uuid

import polars as pl


def test_submit_returns_202_a_location_and_the_manifest_follows(api) -> None:
    api.create(api.orders_doc())
    api.activate("orders")
    r = api.client.post("/v1/runs", json={"pipeline": "orders"}, headers=api.key("operator"))
    assert r.status_code == 202
    run_id = r.json()["run_id"]
    assert r.headers["location"] == f"/v1/runs/{run_id}"
    assert r.json()["status"] in ("queued", "running")
    run = api.wait(run_id)
    assert run["status"] == "succeeded"
    assert run["sandbox"] is None
    manifest = run["manifest"]
    assert manifest["rows_read"] == {"i": 3}
    assert manifest["rows_written"] == {"o": 2}
    assert manifest["step_rows"] == {"filter_1": 2}
    assert manifest["steps"][0]["rows_in"] == 3
    assert set(manifest["phases"]) >= {"execute", "commit"}
    assert pl.read_parquet(api.workdir / "out/o.parquet")["a"].to_list() == [5, 7]
    viewer = api.key("viewer")
    trace = api.client.get(f"/v1/runs/{run_id}/trace", headers=viewer).json()
    assert trace["items"][0]["step"] == "filter_1"
    assert trace["items"][0]["pipeline"] == "orders"
    logs = api.client.get(f"/v1/runs/{run_id}/logs", headers=viewer).json()
    assert logs["items"][0]["event"] == "run started"
    assert "run succeeded" in [e["event"] for e in logs["items"]]
    page = api.client.get(f"/v1/runs/{run_id}/logs?limit=1&offset=1", headers=viewer).json()
    assert len(page["items"]) == 1
    assert page["total"] == logs["total"]


def test_list_filters_by_pipeline_status_and_time(api) -> None:
    api.create(api.orders_doc())
    api.create(api.orders_doc("bad", where="a > 'x' + 1"))
    api.activate("orders")
    good = api.wait(api.submit("orders")["run_id"])
    bad = api.wait(api.submit("bad")["run_id"])
    assert bad["status"] == "failed"
    assert bad["error"]["code"]
    h = api.key("viewer")
    ids = lambda q: [r["run_id"] for r in api.client.get(f"/v1/runs{q}", headers=h).json()["items"]]  # noqa: E731
    assert set(ids("")) == {good["run_id"], bad["run_id"]}
    assert ids("?pipeline=orders") == [good["run_id"]]
    assert ids("?status=failed") == [bad["run_id"]]
    assert ids("?since=2999-01-01T00:00:00Z") == []
    assert set(ids("?until=2999-01-01T00:00:00Z")) == {good["run_id"], bad["run_id"]}
    assert len(ids("?limit=1")) == 1
    assert api.client.get("/v1/runs?status=sleeping", headers=h).status_code == 422


def test_dead_letters_are_paged(api) -> None:
    doc = api.orders_doc()
    doc["steps"] = [
        {
            "kind": "check",
            "checks": [{"type": "range", "column": "a", "min": 3, "action": "dead_letter"}],
        }
    ]
    api.create(doc)
    api.activate("orders")
    run = api.wait(api.submit("orders")["run_id"])
    assert run["status"] == "succeeded", run
    assert run["manifest"]["dead_letters"] == 1
    h = api.key("viewer")
    page = api.client.get(f"/v1/runs/{run['run_id']}/dead-letters?limit=10", headers=h).json()
    assert page["total"] == 1
    assert len(page["items"]) == 1
    empty = api.client.get(f"/v1/runs/{run['run_id']}/dead-letters?offset=5", headers=h).json()
    assert (empty["items"], empty["total"]) == ([], 1)


def test_a_draft_run_writes_only_to_the_sandbox(api) -> None:
    api.create(api.orders_doc())
    run = api.wait(api.submit("orders")["run_id"])
    assert run["status"] == "succeeded"
    assert not (api.workdir / "out/o.parquet").exists()
    sandbox = run["sandbox"]
    assert sandbox["location"].startswith(str(api.services.settings.sandbox_dir))
    written = sandbox["outputs"]["o"]
    assert sandbox["location"] in written
    path = written.split(":", 1)[1]
    assert pl.read_parquet(path)["a"].to_list() == [5, 7]
    # an active pipeline can still be tried in the sandbox on request
    api.activate("orders")
    forced = api.wait(api.submit("orders", sandbox=True)["run_id"])
    assert forced["sandbox"] is not None
    assert not (api.workdir / "out/o.parquet").exists()


def test_a_profile_cannot_point_a_draft_run_at_production(api) -> None:
    doc = api.orders_doc()
    doc["profiles"] = {"prod": {"outputs": {"o": {"type": "csv", "path": "prod/o.csv"}}}}
    api.create(doc)
    run = api.wait(api.submit("orders", profile="prod")["run_id"])
    assert run["status"] == "succeeded", run
    assert not (api.workdir / "prod").exists()
    assert run["sandbox"]["outputs"]["o"].endswith(".csv")


def test_cancel_during_a_long_run_leaves_outputs_untouched(api) -> None:
    out = api.workdir / "out/slow.parquet"
    out.parent.mkdir(parents=True)
    pl.DataFrame({"a": [42]}).write_parquet(out)
    before = out.read_bytes()
    api.create(api.slow_doc("slow", delay=3))
    api.activate("slow")
    run_id = api.submit("slow")["run_id"]
    api.wait(run_id, until=("running",))
    time.sleep(0.3)  # inside the run now: its input is connecting
    r = api.client.post(f"/v1/runs/{run_id}/cancel", headers=api.key("operator"))
    assert r.status_code == 202
    run = api.wait(run_id)
    assert run["status"] == "cancelled"
    assert run["error"]["code"] == "cancelled"
    assert out.read_bytes() == before
    again = api.client.post(f"/v1/runs/{run_id}/cancel", headers=api.key("operator"))
    assert (again.status_code, again.json()["code"]) == (409, "run-finished")


def test_a_queued_run_cancelled_never_starts_and_a_full_queue_answers_429(make_api) -> None:
    api = make_api(workers=1, queue_size=1)
    api.create(api.slow_doc("slow", delay=1.5))
    first = api.submit("slow")["run_id"]
    api.wait(first, until=("running",))
    queued = api.submit("slow")["run_id"]
    full = api.client.post("/v1/runs", json={"pipeline": "slow"}, headers=api.key("operator"))
    assert full.status_code == 429
    assert full.json()["code"] == "run-queue-full"
    assert int(full.headers["retry-after"]) >= 1
    r = api.client.post(f"/v1/runs/{queued}/cancel", headers=api.key("operator"))
    assert r.json()["status"] == "cancelled"
    assert api.wait(first)["status"] == "succeeded"
    after = api.wait(queued)
    assert after["status"] == "cancelled"
    assert after["manifest"] is None  # it never ran
    listed = api.client.get("/v1/runs", headers=api.key("viewer")).json()["items"]
    assert len(listed) == 2  # the refused one was never recorded


def test_rerun_repeats_version_profile_and_variables(api) -> None:
    doc = api.orders_doc(where="a > ${min}")
    doc["vars"] = {"min": 0}
    api.create(doc)
    api.activate("orders")
    first = api.wait(api.submit("orders", variables={"min": 6})["run_id"])
    assert first["manifest"]["rows_written"] == {"o": 1}
    api.client.put(
        "/v1/pipelines/orders", json={"document": {**doc, "description": "v2"}}, headers=api.key()
    )
    r = api.client.post(f"/v1/runs/{first['run_id']}/rerun", headers=api.key("operator"))
    assert r.status_code == 202
    second = api.wait(r.json()["run_id"])
    assert second["rerun_of"] == first["run_id"]
    assert (second["version"], second["variables"]) == (1, {"min": 6})
    assert second["manifest"]["rows_written"] == {"o": 1}


def test_unknown_runs_and_pipelines_answer_404_problems(api) -> None:
    h = api.key("operator")
    for method, path, body in (
        ("GET", "/v1/runs/nope", None),
        ("POST", "/v1/runs/nope/cancel", None),
        ("GET", "/v1/runs/nope/trace", None),
        ("POST", "/v1/runs", {"pipeline": "missing"}),
    ):
        r = api.client.request(method, path, json=body, headers=h)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["type"].startswith("urn:ocht:problem:")


def test_runs_recorded_without_the_api_show_in_the_default_tenant(make_api) -> None:
    api = make_api()
    api.tenant = api.services.settings.default_tenant
    store = api.services.store
    worker_run = store.start_run(pipeline=f"stream_{uuid.uuid4().hex[:8]}", mode="stream")
    h = api.key("viewer")
    found = api.client.get(f"/v1/runs?pipeline={worker_run.pipeline}", headers=h).json()["items"]
    assert [r["run_id"] for r in found] == [worker_run.run_id]
    assert (
        api.client.get(f"/v1/runs/{worker_run.run_id}", headers=h).json()["manifest"]["mode"]
        == "stream"
    )
    other = api.key("viewer", tenant="someone-else")
    assert api.client.get(f"/v1/runs/{worker_run.run_id}", headers=other).status_code == 404


def test_a_run_left_running_by_a_stopped_server_takes_its_manifests_end(api) -> None:
    services = api.services
    req = services.requests.add(tenant=api.tenant, pipeline_id="p", pipeline="orders", version=1)
    services.requests.set_status(req.run_id, "running")
    services.store.start_run(pipeline="orders__x", run_id=req.run_id)
    services.store.finish_run(req.run_id, "abandoned", error_code="abandoned")
    assert services.recover() == [req.run_id]
    assert services.requests.get(req.run_id).status == "abandoned"
