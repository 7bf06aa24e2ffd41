"""Through a real uvicorn on loopback: the whole path of a run, and ``ocht-api`` itself."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
from click.testing import CliRunner

from ocht.api.main import cli
from ocht.store import ApiKeys, Store
from ocht.testkit import serve_asgi


def test_a_run_end_to_end_over_a_real_server(api) -> None:
    with serve_asgi(api.app) as base, httpx.Client(base_url=base, timeout=30) as http:
        assert http.get("/healthz").json()["status"] == "ok"
        h = api.key("admin")
        assert (
            http.post("/v1/pipelines", json={"document": api.orders_doc()}, headers=h).status_code
            == 201
        )
        assert http.post("/v1/pipelines/orders/activate", json={}, headers=h).status_code == 200
        r = http.post("/v1/runs", json={"pipeline": "orders"}, headers=h)
        assert r.status_code == 202
        location = r.headers["location"]
        for _ in range(400):
            run = http.get(location, headers=h).json()
            if run["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        assert run["status"] == "succeeded"
        assert run["manifest"]["rows_written"] == {"o": 2}
        bad = http.post(
            "/v1/runs", content=b"{not json", headers={**h, "content-type": "application/json"}
        )
        assert bad.status_code in (400, 422)
        assert bad.headers["content-type"] == "application/problem+json"
        metrics = http.get("/metrics", headers=h).text
        assert 'ocht_api_requests_total{method="POST",route="/v1/runs",status="202"} 1.0' in metrics
        assert 'ocht_api_runs_total{status="succeeded"} 1.0' in metrics


def test_keys_from_the_command_line(database_url, tmp_path) -> None:
    env = {"OCHT_STORE_URL": database_url, "OCHT_API_WORKDIR": str(tmp_path)}
    runner = CliRunner()
    created = runner.invoke(
        cli, ["keys", "create", "--tenant", "acme-1", "--role", "operator", "--name", "ci"], env=env
    )
    assert created.exit_code == 0, created.output
    secret = created.stdout.strip().splitlines()[-1]
    with Store(database_url) as store:
        key = ApiKeys(store).verify(secret)
    assert key is not None
    assert (key.tenant, key.role) == ("acme-1", "operator")
    listed = runner.invoke(cli, ["keys", "list", "--tenant", "acme-1", "--json"], env=env)
    assert secret not in listed.stdout
    assert json.loads(listed.stdout.splitlines()[-1])["prefix"] == key.prefix
    revoked = runner.invoke(cli, ["keys", "revoke", key.prefix], env=env)
    assert revoked.exit_code == 0
    with Store(database_url) as store:
        assert ApiKeys(store).verify(secret) is None
    bad = runner.invoke(
        cli, ["keys", "create", "--tenant", "no spaces", "--role", "admin"], env=env
    )
    assert bad.exit_code != 0
    assert "invalid-store-value" in bad.output
    missing = runner.invoke(cli, ["keys", "revoke", "0123456789ab"], env=env)
    assert (missing.exit_code, "key-not-found" in missing.output) == (1, True)


def test_ocht_api_serve_starts_on_the_default_sqlite_store(tmp_path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "OCHT_STORE_URL"}
    env["OCHT_API_WORKDIR"] = str(tmp_path)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from ocht.api.main import main; main()",
            "serve",
            "--port",
            str(port),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(200):
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert r.json()["status"] == "ok"
        assert (tmp_path / ".ocht" / "ocht.db").is_file()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
