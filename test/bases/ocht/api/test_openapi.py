"""The OpenAPI document: checked in and current, 3.1 with the pipeline JSON Schema, and
schemathesis over it (bounded) with no 5xx and no response outside the schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ocht.api import openapi

CHECKED_IN = Path(__file__).parents[4] / "docs" / "openapi.json"


def test_the_checked_in_document_is_current(api) -> None:
    current = json.loads(json.dumps(openapi(api.app)))
    assert json.loads(CHECKED_IN.read_text()) == current, (
        "docs/openapi.json is stale: uv run ocht-api openapi > docs/openapi.json"
    )


def test_the_document_is_openapi_3_1_with_the_pipeline_schema(api) -> None:
    doc = api.client.get("/openapi.json").json()
    assert doc["openapi"] == "3.1.0"
    schemas = doc["components"]["schemas"]
    assert schemas["pipeline.Pipeline"]["title"] == "Ocht pipeline"
    assert schemas["PipelineIn"]["properties"]["document"] == {
        "$ref": "#/components/schemas/pipeline.Pipeline"
    }
    refs = {m for m in json.dumps(doc).split('"') if m.startswith("#/components/schemas/")}
    assert all(r.removeprefix("#/components/schemas/") in schemas for r in refs)
    problem = doc["paths"]["/v1/runs"]["post"]["responses"]["429"]["content"]
    assert list(problem) == ["application/problem+json"]


@pytest.fixture
def fuzzed(make_api):
    """An app with one pipeline and a finished run to find, and an admin key."""
    api = make_api()
    api.create(api.orders_doc())
    api.activate("orders")
    api.wait(api.submit("orders")["run_id"])
    api.fuzz_headers = api.key("admin")
    return api


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


#: Documents for the bodies that carry a pipeline: generating from the whole pipeline schema
#: is too slow for a test, so positive cases draw from these (valid, invalid, odd).
DOCUMENTS = [
    {
        "name": "orders",
        "inputs": {"i": {"type": "csv", "path": "in.csv"}},
        "outputs": {"o": {"type": "parquet", "path": "out/o.parquet"}},
    },
    {
        "name": "f1",
        "inputs": {"i": {"type": "csv", "path": "in.csv"}},
        "steps": [{"kind": "filter", "where": "zz >"}],
        "outputs": {"o": {"type": "console"}},
    },
    {
        "name": "f2",
        "inputs": {"i": {"type": "csv", "path": "missing.csv"}},
        "steps": [{"kind": "nope"}],
        "outputs": {},
    },
    {
        "name": "f3",
        "inputs": {"i": {"type": "sql", "url": "sqlite:///nowhere.db", "table": "t"}},
        "outputs": {"o": {"type": "ndjson", "path": "${env:OCHT_UNSET_X}"}},
    },
    {"name": "orders", "inputs": [], "vars": {"x": {"y": [1, None, "${x}"]}}},
    {},
]
WITH_DOCUMENT = {"POST /v1/pipelines", "PUT /v1/pipelines/{name}", "POST /v1/validate"}
NO_INPUT = {"GET /healthz", "GET /readyz"}


def _strategy(operation, mode):  # type: ignore[no-untyped-def]
    if mode is GenerationMode.POSITIVE and operation.label in WITH_DOCUMENT:
        return st.sampled_from(DOCUMENTS).flatmap(
            lambda doc: operation.as_strategy(generation_mode=mode, body={"document": doc})
        )
    return operation.as_strategy(generation_mode=mode)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_fuzzing_finds_no_5xx_and_no_response_outside_the_schema(fuzzed, mode) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    for operation in operations:
        if mode is GenerationMode.NEGATIVE and operation.label in NO_INPUT:
            continue  # nothing to get wrong

        @given(case=_strategy(operation, mode))
        @settings(
            max_examples=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def call(case) -> None:
            case.call_and_validate(headers=fuzzed.fuzz_headers, checks=CHECKS)

        call()
