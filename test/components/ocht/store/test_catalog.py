"""Pipelines and versions, API keys and run requests in the store (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
import sqlalchemy as sa

from ocht.store import (
    ApiKeys,
    Catalog,
    InvalidStoreValue,
    KeyNotFound,
    PipelineConflict,
    PipelineNotFound,
    RunNotFound,
    RunRequests,
    Store,
    document_hash,
)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    s = Store(database_url)
    yield s
    s.close()


def _tenant() -> str:
    return f"t{uuid.uuid4().hex[:8]}"


def _doc(name: str, n: int = 1) -> dict[str, object]:
    return {
        "name": name,
        "inputs": {"i": {"type": "csv", "path": "in.csv"}},
        "steps": [{"kind": "limit", "n": n}],
        "outputs": {"o": {"type": "parquet", "path": "out.parquet"}},
    }


def test_versions_are_immutable_and_hashed(store: Store) -> None:
    catalog, tenant = Catalog(store), _tenant()
    pipeline, first = catalog.create_pipeline(tenant, _doc("orders"), created_by="me")
    assert (pipeline.status, pipeline.latest_version, first.version) == ("draft", 1, 1)
    assert first.content_hash == document_hash(_doc("orders"))
    second = catalog.add_version(tenant, "orders", _doc("orders", 2))
    assert second.version == 2
    assert catalog.version(tenant, "orders", 1).document == _doc("orders")
    assert catalog.version(tenant, "orders").document["steps"] == [{"kind": "limit", "n": 2}]
    # the same document again is the same version, not a new one
    assert catalog.add_version(tenant, "orders", _doc("orders", 2)).version == 2
    assert [v.version for v in catalog.versions(tenant, "orders")] == [1, 2]
    with pytest.raises(PipelineConflict):
        catalog.create_pipeline(tenant, _doc("orders"))


def test_pipelines_of_another_tenant_are_not_found(store: Store) -> None:
    catalog, mine, theirs = Catalog(store), _tenant(), _tenant()
    catalog.create_pipeline(mine, _doc("orders"))
    with pytest.raises(PipelineNotFound):
        catalog.pipeline(theirs, "orders")
    with pytest.raises(PipelineNotFound):
        catalog.add_version(theirs, "orders", _doc("orders", 3))
    assert catalog.pipelines(theirs) == []
    # the same name in another tenant is another pipeline
    catalog.create_pipeline(theirs, _doc("orders"))
    assert [p.tenant for p in catalog.pipelines(mine)] == [mine]


def test_activate_and_archive(store: Store) -> None:
    catalog, tenant = Catalog(store), _tenant()
    catalog.create_pipeline(tenant, _doc("a"))
    active = catalog.activate(tenant, "a", 1)
    assert (active.status, active.active_version) == ("active", 1)
    with pytest.raises(PipelineNotFound):
        catalog.activate(tenant, "a", 7)
    assert catalog.archive(tenant, "a").status == "archived"
    assert catalog.pipelines(tenant) == []
    assert [p.name for p in catalog.pipelines(tenant, status="archived")] == ["a"]
    with pytest.raises(PipelineConflict) as info:
        catalog.add_version(tenant, "a", _doc("a", 5))
    assert info.value.code == "pipeline-archived"


def test_keys_store_only_a_hash(store: Store) -> None:
    keys, tenant = ApiKeys(store), _tenant()
    new = keys.create(tenant=tenant, role="viewer", name="dash")
    assert new.secret.startswith(f"ocht_{new.key.key_id}_")
    with store.engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT * FROM ocht_api_keys")).mappings().all()
    assert all(new.secret not in str(dict(row)) for row in stored)
    assert keys.verify(new.secret) == new.key
    assert keys.verify(new.secret[:-1] + ("A" if new.secret[-1] != "A" else "B")) is None
    assert keys.verify("not a key") is None
    assert [k.key_id for k in keys.all(tenant=tenant)] == [new.key.key_id]
    with pytest.raises(KeyNotFound):
        keys.revoke(new.key.key_id, tenant=_tenant())
    keys.revoke(new.key.prefix)
    assert keys.verify(new.secret) is None
    with pytest.raises(InvalidStoreValue):
        keys.create(tenant=tenant, role="root")
    with pytest.raises(InvalidStoreValue):
        keys.create(tenant="no spaces", role="admin")


def test_run_requests_filter_by_tenant_pipeline_status_and_time(store: Store) -> None:
    requests, tenant, other = RunRequests(store), _tenant(), _tenant()
    a = requests.add(tenant=tenant, pipeline_id="x", pipeline="a", version=1)
    b = requests.add(tenant=tenant, pipeline_id="y", pipeline="b", version=2, variables={"n": 1})
    requests.add(tenant=other, pipeline_id="z", pipeline="a", version=1)
    requests.set_status(a.run_id, "running")
    requests.set_status(a.run_id, "succeeded", only_from=("running",))
    requests.set_status(a.run_id, "cancelled", only_from=("queued", "running"))  # too late
    assert requests.get(a.run_id).status == "succeeded"
    assert {r.run_id for r in requests.find(tenant)} == {a.run_id, b.run_id}
    assert [r.run_id for r in requests.find(tenant, pipeline="b")] == [b.run_id]
    assert [r.run_id for r in requests.find(tenant, status="succeeded")] == [a.run_id]
    assert b.submitted_at is not None
    later = b.submitted_at + timedelta(seconds=1)
    assert requests.find(tenant, since=later) == []
    assert len(requests.find(tenant, until=later, limit=1)) == 1
    with pytest.raises(RunNotFound):
        requests.get(a.run_id, tenant=other)
    with pytest.raises(InvalidStoreValue):
        requests.find(tenant, status="sleeping")


def test_runs_recorded_without_a_request_belong_to_the_default_tenant(store: Store) -> None:
    requests, default = RunRequests(store), _tenant()
    run = store.start_run(pipeline=f"stream_{uuid.uuid4().hex[:6]}", mode="stream")
    found = requests.find(default, pipeline=run.pipeline, default_tenant=default)
    assert [r.run_id for r in found] == [run.run_id]
    assert requests.get(run.run_id, tenant=default, default_tenant=default).status == "running"
    with pytest.raises(RunNotFound):
        requests.get(run.run_id, tenant=_tenant(), default_tenant=default)
    assert requests.find(_tenant(), pipeline=run.pipeline, default_tenant=default) == []


@pytest.mark.parametrize("bad", ["a\x00b", "\udc98", float("nan")])
def test_values_no_database_can_store_are_refused_as_bad_input(store: Store, bad: object) -> None:
    tenant = _tenant()
    with pytest.raises(InvalidStoreValue):
        Catalog(store).create_pipeline(tenant, {**_doc("x"), "description": bad})
    with pytest.raises(InvalidStoreValue):
        RunRequests(store).add(
            tenant=tenant, pipeline_id="p", pipeline="x", version=1, variables={"v": bad}
        )
    if isinstance(bad, str):
        with pytest.raises(InvalidStoreValue):
            ApiKeys(store).create(tenant=tenant, role="viewer", name=bad)
