"""Secrets never leave the server: not in a response, not in a run's log, not in the logs."""

from __future__ import annotations

import io
import json
import logging
import uuid

from ocht.observability import configure_logging


def test_env_values_keys_tokens_and_url_passwords_are_never_shown(api, monkeypatch) -> None:
    secret_dir = f"s3cret-{uuid.uuid4().hex}"
    password = f"pw-{uuid.uuid4().hex}"
    (api.workdir / secret_dir).mkdir()
    (api.workdir / secret_dir / "in.csv").write_text("a\n1\n5\n")
    monkeypatch.setenv("OCHT_TEST_SECRET_DIR", secret_dir)
    stream = io.StringIO()
    configure_logging("json", "debug", stream=stream)
    records: list[str] = []
    handler = logging.Handler()
    handler.emit = lambda record: records.append(record.getMessage())  # type: ignore[method-assign]
    logging.getLogger().addHandler(handler)
    try:
        admin = api.key("admin")
        token = api.token("admin")
        doc = api.orders_doc("leaky")
        doc["inputs"]["i"]["path"] = "${env:OCHT_TEST_SECRET_DIR}/in.csv"
        doc["outputs"]["o"]["path"] = "${env:OCHT_TEST_SECRET_DIR}/out.parquet"
        doc["outputs"]["db"] = {
            "type": "sql",
            "url": f"postgresql://bob:{password}@127.0.0.1:1/x",
            "table": "t",
        }
        bodies = [api.client.post("/v1/pipelines", json={"document": doc}, headers=admin).text]
        bodies.append(api.client.get("/v1/pipelines/leaky/versions/1", headers=token).text)
        bodies.append(api.client.post("/v1/pipelines/leaky/validate", json={}, headers=admin).text)
        bodies.append(api.client.post("/v1/pipelines/leaky/activate", json={}, headers=admin).text)
        del doc["outputs"]["db"]
        api.client.put("/v1/pipelines/leaky", json={"document": doc}, headers=admin)
        bodies.append(api.client.post("/v1/pipelines/leaky/activate", json={}, headers=admin).text)
        run = api.wait(api.submit("leaky", headers=token)["run_id"])
        assert run["status"] == "succeeded", run
        run_id = run["run_id"]
        for path in ("", "/logs", "/trace", "/dead-letters"):
            bodies.append(api.client.get(f"/v1/runs/{run_id}{path}", headers=admin).text)
        bodies.append(api.client.get("/v1/runs", headers=admin).text)
        bodies.append(api.client.get("/v1/keys", headers=admin).text)
        bodies.append(api.client.get("/metrics", headers=admin).text)
        bodies.append(
            api.client.get(
                "/v1/runs/x",
                headers={"Authorization": "Bearer " + admin["Authorization"][7:] + "x"},
            ).text
        )
    finally:
        logging.getLogger().removeHandler(handler)
    run_log = (api.services.run_dir(run_id) / "log.ndjson").read_text()
    everything = "\n".join([*bodies, run_log, stream.getvalue(), *records])
    assert (
        json.loads(bodies[1])["document"]["outputs"]["db"]["url"]
        == "postgresql://bob:***@127.0.0.1:1/x"
    )
    assert "run succeeded" in run_log
    for secret in (secret_dir, password, admin["Authorization"][7:], token["Authorization"][7:]):
        assert secret not in everything


def test_a_new_key_is_shown_once_and_only_its_prefix_after(api) -> None:
    admin = api.key("admin")
    created = api.client.post("/v1/keys", json={"role": "operator", "name": "ci"}, headers=admin)
    assert created.status_code == 201
    secret = created.json()["secret"]
    prefix = created.json()["key"]["prefix"]
    assert secret.startswith(prefix + "_")
    listed = api.client.get("/v1/keys", headers=admin)
    assert prefix in listed.text
    assert secret not in listed.text
    assert (
        api.client.get("/v1/pipelines", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 200
    )
    key_id = created.json()["key"]["key_id"]
    assert api.client.delete(f"/v1/keys/{key_id}", headers=admin).json()["revoked_at"]
    assert (
        api.client.get("/v1/pipelines", headers={"Authorization": f"Bearer {secret}"}).status_code
        == 401
    )
