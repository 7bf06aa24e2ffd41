"""The FastAPI application: routers, auth, problems, metrics and the OpenAPI document.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from fastapi.testclient import TestClient
    >>> from ocht.api import ApiSettings, create_app
    >>> app = create_app(ApiSettings(workdir=Path(tempfile.mkdtemp())))
    >>> with TestClient(app) as client:
    ...     client.get("/healthz").json()["status"], client.get("/v1/runs").status_code
    ('ok', 401)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from ocht.api import metrics as api_metrics
from ocht.api import problems as api_problems
from ocht.api.auth import Authenticator
from ocht.api.execution import Execution
from ocht.api.problems import Problem, problem
from ocht.api.routers import health, keys, pipelines, runs
from ocht.api.schemas import DOCUMENT_BODIES, PIPELINE_REF
from ocht.api.service import Services
from ocht.api.settings import ApiSettings
from ocht.pipeline_model import Pipeline
from ocht.registry import Registry
from ocht.store import Store

TITLE = "Ocht API"
VERSION = "0.1.0"
OPEN_PATHS = ("/healthz", "/readyz", "/openapi.json")


def create_app(
    settings: ApiSettings | None = None,
    *,
    store: Store | None = None,
    registry: Registry | None = None,
    execution: Execution | None = None,
) -> FastAPI:
    """The server, opened on ``settings`` (default: from the environment).

    Args:
        settings: what to run with.
        store: a store to use instead of opening ``settings.store_url``.
        registry: step kinds and connectors (default: built-ins and plugins).
        execution: where runs execute (default: a bounded pool in this process).
    """
    settings = settings or ApiSettings.from_env()
    services = Services(settings, store=store, registry=registry, execution=execution)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        services.close()

    app = FastAPI(
        title=TITLE,
        version=VERSION,
        description="Pipelines and runs of Ocht over HTTP. Errors are RFC 9457 problems.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = services
    app.state.auth = Authenticator(settings, services.keys)
    for module in (health, pipelines, runs, keys):
        app.include_router(module.router)
    api_problems.install(app)
    api_metrics.install(app, services.metrics)

    @app.middleware("http")
    async def _limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        size = request.headers.get("content-length")
        if size is not None and (not size.isdigit() or int(size) > settings.max_body):
            return problem(
                413,
                "request-too-large",
                f"a request body may hold at most {settings.max_body} bytes",
                instance=request.url.path,
            )
        return await call_next(request)

    app.openapi = lambda: openapi(app)  # type: ignore[method-assign]
    return app


def openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI 3.1 document, with the pipeline JSON Schema and the problem schema."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version="3.1.0",
        description=app.description,
        routes=app.routes,
    )
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    pipeline = Pipeline.model_json_schema(
        by_alias=True, mode="validation", ref_template="#/components/schemas/pipeline.{model}"
    )
    for name, definition in pipeline.pop("$defs", {}).items():
        schemas[f"pipeline.{name}"] = definition
    pipeline["title"] = "Ocht pipeline"
    schemas["pipeline.Pipeline"] = pipeline
    schemas["Problem"] = Problem.model_json_schema()
    for body in DOCUMENT_BODIES:
        schemas[body]["properties"]["document"] = {"$ref": PIPELINE_REF}
    doc["components"]["securitySchemes"] = {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key (ocht_...) or a JWT.",
        },
        "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    }
    for path, operations in doc["paths"].items():
        for operation in operations.values():
            if path not in OPEN_PATHS:
                operation["security"] = [{"bearer": []}, {"apiKey": []}]
            for status, response in operation.get("responses", {}).items():
                if status.isdigit() and int(status) >= 400 and status != "503":
                    response["content"] = {
                        "application/problem+json": {
                            "schema": {"$ref": "#/components/schemas/Problem"}
                        }
                    }
    app.openapi_schema = doc
    return doc
