"""``/healthz`` and ``/readyz`` (open), ``/metrics`` (any role)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse

from ocht.api.routers.common import Svc, Viewer, problems
from ocht.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process answers")
def healthz() -> Health:
    return Health(status="ok")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "The store does not answer"}},
    summary="The store answers",
)
def readyz(svc: Svc) -> Response | Health:
    try:
        with svc.store.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except Exception:
        body = Health(status="unavailable", detail="the store does not answer")
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok")


@router.get(
    "/metrics",
    responses={
        200: {
            "content": {"text/plain": {"schema": {"type": "string"}}},
            "description": "Prometheus text",
        },
        **problems(),
    },
    response_class=Response,
    summary="Prometheus metrics",
)
def metrics(who: Viewer, svc: Svc) -> Response:
    body, content_type = svc.metrics.render()
    return Response(body, media_type=content_type)
