"""An API server per test, on the SQLite store and on PostgreSQL, with keys per role."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from ocht.api import ApiSettings, create_app
from ocht.registry import Registry
from ocht.testkit import FLAKY, MemoryConnector

JWT_SECRET = "a-test-signing-secret-of-32-bytes!"


def orders_doc(
    name: str = "orders", *, where: str = "a > 2", out: str = "out/o.parquet"
) -> dict[str, Any]:
    """A small CSV → filter → Parquet pipeline."""
    return {
        "name": name,
        "inputs": {"i": {"type": "csv", "path": "in.csv"}},
        "steps": [{"kind": "filter", "where": where}],
        "outputs": {"o": {"type": "parquet", "path": out}},
    }


def slow_doc(name: str, *, delay: float, out: str = "out/slow.parquet") -> dict[str, Any]:
    """A pipeline whose input takes ``delay`` seconds to connect (a long run)."""
    return {
        "name": name,
        "inputs": {
            "i": {"type": "flaky", "key": name, "rows": [{"a": 1}, {"a": 5}], "delay": delay}
        },
        "outputs": {"o": {"type": "parquet", "path": out}},
    }


@dataclass
class Api:
    """A running app, its client and a way to mint credentials."""

    app: FastAPI
    client: TestClient
    workdir: Path
    tenant: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")

    orders_doc = staticmethod(orders_doc)
    slow_doc = staticmethod(slow_doc)

    @property
    def services(self) -> Any:
        return self.app.state.services

    def key(self, role: str = "admin", tenant: str | None = None) -> dict[str, str]:
        new = self.services.keys.create(tenant=tenant or self.tenant, role=role, name="test")
        return {"Authorization": f"Bearer {new.secret}"}

    def token(
        self, role: str = "admin", tenant: str | None = None, ttl: float = 300
    ) -> dict[str, str]:
        claims = {
            "sub": "someone",
            "tenant": tenant or self.tenant,
            "role": role,
            "exp": int(time.time() + ttl),
        }
        return {"Authorization": f"Bearer {jwt.encode(claims, JWT_SECRET, algorithm='HS256')}"}

    def create(self, doc: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.client.post("/v1/pipelines", json={"document": doc}, headers=headers or self.key())
        assert r.status_code == 201, r.text
        return dict(r.json())

    def activate(self, name: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        r = self.client.post(
            f"/v1/pipelines/{name}/activate", json={}, headers=headers or self.key()
        )
        assert r.status_code == 200, r.text
        return dict(r.json())

    def submit(
        self, name: str, headers: dict[str, str] | None = None, **body: Any
    ) -> dict[str, Any]:
        r = self.client.post(
            "/v1/runs", json={"pipeline": name, **body}, headers=headers or self.key()
        )
        assert r.status_code == 202, r.text
        return dict(r.json())

    def wait(
        self, run_id: str, headers: dict[str, str] | None = None, *, until: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Poll the run until it reaches a final status (or one of ``until``)."""
        final = until or ("succeeded", "failed", "partial", "cancelled", "abandoned")
        h = headers or self.key("viewer")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            body = dict(self.client.get(f"/v1/runs/{run_id}", headers=h).json())
            if body["status"] in final:
                return body
            time.sleep(0.05)
        raise AssertionError(f"run {run_id} did not finish")


MakeApi = Callable[..., Api]


@pytest.fixture
def make_api(database_url: str, tmp_path: Path) -> Iterator[MakeApi]:
    """Build an API (settings overridable) on the parametrised store; all closed after."""
    opened: list[TestClient] = []

    def make(**overrides: Any) -> Api:
        workdir = tmp_path / f"work{len(opened)}"
        workdir.mkdir()
        (workdir / "in.csv").write_text("a,b\n1,x\n5,y\n7,z\n")
        values: dict[str, Any] = {
            "workdir": workdir,
            "store_url": database_url,
            "workers": 2,
            "queue_size": 20,
            "jwt_secret": JWT_SECRET,
            **overrides,
        }
        app = create_app(
            ApiSettings(**values),
            registry=Registry(connectors=[FLAKY, MemoryConnector().connector]),
        )
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        opened.append(client)
        return Api(app, client, workdir)

    yield make
    for client in opened:
        client.__exit__(None, None, None)


@pytest.fixture
def api(make_api: MakeApi) -> Api:
    """An API with default settings."""
    return make_api()
