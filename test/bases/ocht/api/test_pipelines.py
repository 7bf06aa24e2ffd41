"""Pipelines over HTTP: versions, validation with field paths, activation checks, archive."""

from __future__ import annotations


def test_create_update_list_get_and_archive(api) -> None:
    created = api.create(api.orders_doc())
    assert created["pipeline"]["status"] == "draft"
    assert created["version"]["version"] == 1
    first_hash = created["version"]["content_hash"]
    h = api.key("admin")
    r = api.client.put(
        "/v1/pipelines/orders", json={"document": api.orders_doc(where="a > 5")}, headers=h
    )
    assert r.status_code == 200
    assert r.json()["version"] == 2
    assert r.json()["content_hash"] != first_hash
    viewer = api.key("viewer")
    v1 = api.client.get("/v1/pipelines/orders/versions/1", headers=viewer).json()
    assert v1["document"]["steps"][0]["where"] == "a > 2"  # old versions never change
    assert v1["content_hash"] == first_hash
    assert [
        v["version"]
        for v in api.client.get("/v1/pipelines/orders/versions", headers=viewer).json()["items"]
    ] == [1, 2]
    assert api.client.get("/v1/pipelines/orders", headers=viewer).json()["latest_version"] == 2
    assert [p["name"] for p in api.client.get("/v1/pipelines", headers=viewer).json()["items"]] == [
        "orders"
    ]
    again = api.client.post("/v1/pipelines", json={"document": api.orders_doc()}, headers=h)
    assert (again.status_code, again.json()["code"]) == (409, "pipeline-exists")
    assert api.client.delete("/v1/pipelines/orders", headers=h).json()["status"] == "archived"
    assert api.client.get("/v1/pipelines", headers=viewer).json()["items"] == []
    r = api.client.put(
        "/v1/pipelines/orders", json={"document": api.orders_doc(where="a > 9")}, headers=h
    )
    assert (r.status_code, r.json()["code"]) == (409, "pipeline-archived")


def test_name_in_the_document_must_match_the_url(api) -> None:
    api.create(api.orders_doc())
    r = api.client.put(
        "/v1/pipelines/orders", json={"document": api.orders_doc("other")}, headers=api.key()
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["issues"][0]["path"] == "document.name"
    r = api.client.post("/v1/pipelines", json={"document": {"inputs": {}}}, headers=api.key())
    assert (r.status_code, r.json()["code"]) == (422, "invalid-pipeline")


def test_validate_reports_every_problem_with_its_field_path(api) -> None:
    bad = api.orders_doc(where="nope > 1")
    bad["steps"].append({"kind": "filtr", "where": "a > 1"})
    r = api.client.post("/v1/validate", json={"document": bad}, headers=api.key("viewer"))
    assert r.status_code == 200
    body = r.json()
    assert body["valid"] is False
    assert {(i["code"], i["path"]) for i in body["issues"]} >= {
        ("unknown-column", "steps[0].where"),
        ("unknown-step", "steps[1].kind"),
    }
    api.create(api.orders_doc())
    ok = api.client.post("/v1/pipelines/orders/validate", json={}, headers=api.key("viewer"))
    assert ok.json() == {"valid": True, "issues": []}
    missing = api.client.post(
        "/v1/pipelines/orders/validate", json={"version": 9}, headers=api.key("viewer")
    )
    assert missing.status_code == 404


def test_activation_lists_each_check_and_refuses_a_failing_version(api, monkeypatch) -> None:
    doc = api.orders_doc(where="nope > 1")
    doc["outputs"]["o"]["path"] = "${env:OCHT_TEST_OUT_DIR}/o.parquet"
    api.create(doc)
    r = api.client.post("/v1/pipelines/orders/activate", json={}, headers=api.key())
    assert (r.status_code, r.json()["code"]) == (422, "activation-failed")
    checks = {c["name"]: c["status"] for c in r.json()["checks"]}
    assert checks["env:OCHT_TEST_OUT_DIR"] == "fail"
    monkeypatch.setenv("OCHT_TEST_OUT_DIR", str(api.workdir / "out"))
    r = api.client.post("/v1/pipelines/orders/activate", json={}, headers=api.key())
    checks = {c["name"]: c for c in r.json()["checks"]}
    assert checks["env:OCHT_TEST_OUT_DIR"]["status"] == "pass"
    assert checks["columns"]["status"] == "fail"
    assert checks["columns"]["issues"][0]["path"] == "steps[0].where"
    assert (
        api.client.get("/v1/pipelines/orders", headers=api.key("viewer")).json()["status"]
        == "draft"
    )
    fixed = api.orders_doc()
    fixed["outputs"]["o"]["path"] = "${env:OCHT_TEST_OUT_DIR}/o.parquet"
    api.client.put("/v1/pipelines/orders", json={"document": fixed}, headers=api.key())
    body = api.activate("orders")
    assert body["pipeline"]["status"] == "active"
    assert body["pipeline"]["active_version"] == 2
    names = [c["name"] for c in body["checks"]]
    assert {
        "document",
        "expressions",
        "columns",
        "connector:inputs.i",
        "connector:outputs.o",
    } <= set(names)
    assert all(c["status"] == "pass" for c in body["checks"])


def test_an_unreachable_input_fails_the_connector_check(api) -> None:
    doc = api.orders_doc()
    doc["inputs"]["i"]["path"] = "missing.csv"
    api.create(doc)
    r = api.client.post("/v1/pipelines/orders/activate", json={}, headers=api.key())
    assert r.status_code == 422
    failed = [c["name"] for c in r.json()["checks"] if c["status"] == "fail"]
    assert failed and all(n.startswith("connector") for n in failed)


def test_bad_bodies_answer_4xx_problems(make_api) -> None:
    api = make_api(max_body=2000)
    h = api.key()
    big = api.orders_doc()
    big["description"] = "x" * 5000
    r = api.client.post("/v1/pipelines", json={"document": big}, headers=h)
    assert (r.status_code, r.json()["code"]) == (413, "request-too-large")
    r = api.client.post("/v1/pipelines", json={"document": api.orders_doc(), "extra": 1}, headers=h)
    assert (r.status_code, r.json()["code"]) == (422, "invalid-request")
    assert r.json()["issues"][0]["path"] == "body.extra"
    r = api.client.post(
        "/v1/pipelines", content=b"[1,", headers={**h, "content-type": "application/json"}
    )
    assert 400 <= r.status_code < 500
    assert r.headers["content-type"] == "application/problem+json"
    r = api.client.post(
        "/v1/pipelines", json={"document": {**api.orders_doc(), "description": "a\x00b"}}, headers=h
    )
    assert (r.status_code, r.json()["code"]) == (422, "invalid-store-value")
