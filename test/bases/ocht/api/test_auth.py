"""The authorization matrix: every route, role, own or other tenant and bad credential;
JWT with an HS256 secret and with a JWKS URL served on loopback."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

ROLES = ("viewer", "operator", "admin")


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    role: str
    body: Callable[[dict[str, str]], Any] | None = None
    scoped: bool = True  # names an object of a tenant (another tenant's answers 404)
    ok: tuple[int, ...] = (200,)
    mutates: bool = False  # needs fresh objects for every call


def _doc(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "inputs": {"i": {"type": "csv", "path": "in.csv"}},
        "outputs": {"o": {"type": "parquet", "path": f"out/{name}.parquet"}},
    }


ROUTES = [
    Route("GET", "/v1/pipelines", "viewer", scoped=False),
    Route(
        "POST", "/v1/pipelines", "admin", lambda o: {"document": _doc(o["fresh"])}, False, (201,)
    ),
    Route("GET", "/v1/pipelines/{pipeline}", "viewer"),
    Route(
        "PUT",
        "/v1/pipelines/{pipeline}",
        "admin",
        lambda o: {"document": {**_doc(o["pipeline"]), "description": o["fresh"]}},
        mutates=True,
    ),
    Route("DELETE", "/v1/pipelines/{pipeline}", "admin", mutates=True),
    Route("GET", "/v1/pipelines/{pipeline}/versions", "viewer"),
    Route("GET", "/v1/pipelines/{pipeline}/versions/1", "viewer"),
    Route("POST", "/v1/pipelines/{pipeline}/validate", "viewer", lambda o: {}),
    Route("POST", "/v1/pipelines/{pipeline}/activate", "admin", lambda o: {}, mutates=True),
    Route("POST", "/v1/validate", "viewer", lambda o: {"document": _doc("v")}, False),
    Route("POST", "/v1/runs", "operator", lambda o: {"pipeline": o["pipeline"]}, True, (202,)),
    Route("GET", "/v1/runs", "viewer", scoped=False),
    Route("GET", "/v1/runs/{run}", "viewer"),
    Route("POST", "/v1/runs/{run}/cancel", "operator", ok=(409,)),  # finished: refused, not hidden
    Route("POST", "/v1/runs/{run}/rerun", "operator", ok=(202,)),
    Route("GET", "/v1/runs/{run}/dead-letters", "viewer"),
    Route("GET", "/v1/runs/{run}/trace", "viewer"),
    Route("GET", "/v1/runs/{run}/logs", "viewer"),
    Route("GET", "/v1/keys", "admin", scoped=False),
    Route("POST", "/v1/keys", "admin", lambda o: {"role": "viewer"}, False, (201,)),
    Route("DELETE", "/v1/keys/{key}", "admin", mutates=True),
    Route("GET", "/metrics", "viewer", scoped=False),
]


def _objects(api: Any) -> dict[str, str]:
    """A fresh pipeline (active, with one finished run) and a key, in the owner's tenant."""
    name = f"p{uuid.uuid4().hex[:8]}"
    api.create(_doc(name))
    api.activate(name)
    run = api.wait(api.submit(name)["run_id"])
    key = api.services.keys.create(tenant=api.tenant, role="viewer", name="victim")
    return {
        "pipeline": name,
        "run": run["run_id"],
        "key": key.key.key_id,
        "fresh": f"n{uuid.uuid4().hex[:8]}",
    }


def _call(api: Any, route: Route, headers: dict[str, str], objects: dict[str, str]) -> Any:
    body = route.body(objects) if route.body else None
    return api.client.request(
        route.method, route.path.format(**objects), json=body, headers=headers
    )


def _bad_credentials(api: Any) -> dict[str, dict[str, str]]:
    revoked = api.services.keys.create(tenant=api.tenant, role="admin")
    api.services.keys.revoke(revoked.key.key_id)
    return {
        "none": {},
        "bad key": {"Authorization": "Bearer ocht_0123456789ab_" + "x" * 43},
        "bad token": {"Authorization": "Bearer not.a.token"},
        "bad scheme": {"Authorization": "Basic YWRtaW46YWRtaW4="},
        "expired": api.token("admin", ttl=-60),
        "revoked": {"Authorization": f"Bearer {revoked.secret}"},
        "wrong secret": {
            "Authorization": "Bearer "
            + jwt.encode(
                {"tenant": api.tenant, "role": "admin", "exp": int(time.time()) + 60},
                "another-secret-of-32-bytes-long!!",
                algorithm="HS256",
            )
        },
    }


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{r.method} {r.path}")
def test_authorization_matrix(api, route: Route) -> None:
    other = f"o{uuid.uuid4().hex[:8]}"
    shared = _objects(api)
    fresh = (
        (lambda: _objects(api))
        if route.mutates
        else (lambda: {**shared, "fresh": f"n{uuid.uuid4().hex[:8]}"})
    )
    for name, headers in _bad_credentials(api).items():
        r = _call(api, route, headers, shared)
        assert r.status_code == 401, (name, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert "www-authenticate" in r.headers
        expected = (
            "credentials-expired"
            if name == "expired"
            else ("unauthenticated" if name == "none" else "invalid-credentials")
        )
        assert r.json()["code"] == expected, name
    for role in ROLES:
        allowed = ROLES.index(role) >= ROLES.index(route.role)
        for mint in (api.key, api.token):
            own = mint(role)
            objects = fresh()
            r = _call(api, route, own, objects)
            if not allowed:
                assert (r.status_code, r.json()["code"]) == (403, "forbidden"), (role, r.text)
                continue
            assert r.status_code in route.ok, (role, r.text)
            # the same call from another tenant: the object is not there for it
            theirs = mint(role, tenant=other)
            r = _call(api, route, theirs, fresh())
            if route.scoped:
                assert r.status_code == 404, (role, r.text)
                assert r.headers["content-type"] == "application/problem+json"
            else:
                assert r.status_code in route.ok
                assert objects["pipeline"] not in r.text and objects["run"] not in r.text


def test_only_health_and_the_openapi_document_are_open(api) -> None:
    assert api.client.get("/healthz").status_code == 200
    assert api.client.get("/readyz").json() == {"status": "ok", "detail": ""}
    assert api.client.get("/openapi.json").status_code == 200
    assert api.client.get("/metrics").status_code == 401
    assert api.client.get("/docs").status_code == 404


def test_a_token_without_tenant_or_known_role_is_refused(api) -> None:
    exp = int(time.time()) + 60
    secret = api.services.settings.jwt_secret

    for claims in (
        {"role": "admin"},
        {"tenant": api.tenant, "role": "root"},
        {"tenant": "bad tenant!", "role": "admin"},
    ):
        token = jwt.encode({**claims, "exp": exp}, secret, algorithm="HS256")
        r = api.client.get("/v1/pipelines", headers={"Authorization": f"Bearer {token}"})
        assert (r.status_code, r.json()["code"]) == (401, "invalid-credentials"), claims
    # a list of roles gives the highest one
    token = jwt.encode(
        {"tenant": api.tenant, "role": ["viewer", "admin"], "exp": exp},
        secret,
        algorithm="HS256",
    )
    assert (
        api.client.get("/v1/keys", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    )


@pytest.fixture
def jwks() -> Iterator[tuple[str, Any]]:
    """A JWKS document served on loopback, and its private key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    body = json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json", key
    server.shutdown()
    server.server_close()


def test_tokens_signed_by_a_jwks_key_are_accepted(make_api, jwks) -> None:
    url, key = jwks
    api = make_api(jwt_secret=None, jwks_url=url, jwt_audience="ocht")
    claims = {"tenant": api.tenant, "role": "viewer", "aud": "ocht", "exp": int(time.time()) + 60}
    good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    assert (
        api.client.get("/v1/pipelines", headers={"Authorization": f"Bearer {good}"}).status_code
        == 200
    )
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers={"kid": "k1"})
    r = api.client.get("/v1/pipelines", headers={"Authorization": f"Bearer {forged}"})
    assert (r.status_code, r.json()["code"]) == (401, "invalid-credentials")
    wrong_aud = jwt.encode(
        {**claims, "aud": "other"}, key, algorithm="RS256", headers={"kid": "k1"}
    )
    assert (
        api.client.get(
            "/v1/pipelines", headers={"Authorization": f"Bearer {wrong_aud}"}
        ).status_code
        == 401
    )
