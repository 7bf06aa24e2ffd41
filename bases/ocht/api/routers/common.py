"""What every router shares: role dependencies, paging, problem responses, views."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request

from ocht.api.auth import Principal, require
from ocht.api.problems import TITLES
from ocht.api.redaction import scrub
from ocht.api.schemas import NAME_PATTERN, RUN_ID_PATTERN, PipelineOut, VersionOut
from ocht.api.service import Services
from ocht.store import PipelineRecord, VersionRecord

Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]

Limit = Annotated[int, Query(ge=1, le=500, description="At most this many items.")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Skip this many items first.")]
PipelineName = Annotated[str, Path(pattern=NAME_PATTERN, max_length=200)]
RunId = Annotated[str, Path(pattern=RUN_ID_PATTERN)]
Version = Annotated[int, Path(ge=1, le=2_147_483_647)]


def services(request: Request) -> Services:
    """The app's services."""
    found: Services = request.app.state.services
    return found


Svc = Annotated[Services, Depends(services)]


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for problem responses (auth ones always included)."""
    codes = sorted({400, 401, 403, 422, *statuses})
    content = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    return {s: {"description": TITLES.get(s, "Error"), "content": content} for s in codes}


def pipeline_view(record: PipelineRecord) -> PipelineOut:
    """The API's view of a pipeline."""
    return PipelineOut(
        name=record.name,
        status=record.status,
        latest_version=record.latest_version,
        active_version=record.active_version,
        created_at=record.created_at,
        updated_at=record.updated_at,
    )


def version_view(name: str, record: VersionRecord, *, document: bool = True) -> VersionOut:
    """The API's view of a version (secrets in the document redacted)."""
    return VersionOut(
        name=name,
        version=record.version,
        content_hash=record.content_hash,
        document=scrub(record.document) if document else {},
        created_at=record.created_at,
        created_by=record.created_by,
    )
