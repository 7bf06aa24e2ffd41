"""``/v1/pipelines``: versioned pipelines, validation and activation."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ocht.api.activation import activation_checks
from ocht.api.problems import ApiProblem
from ocht.api.redaction import scrub
from ocht.api.routers.common import (
    Admin,
    Limit,
    Offset,
    PipelineName,
    Svc,
    Version,
    Viewer,
    pipeline_view,
    problems,
    version_view,
)
from ocht.api.schemas import (
    NAME_PATTERN,
    ActivateIn,
    ActivationOut,
    CheckOut,
    DocumentValidateIn,
    IssueOut,
    PipelineCreated,
    PipelineIn,
    PipelineList,
    PipelineOut,
    ValidateIn,
    ValidationOut,
    VersionList,
    VersionOut,
)
from ocht.errors import Issue

router = APIRouter(tags=["pipelines"])
_NAME = re.compile(NAME_PATTERN)


def _name_of(document: dict[str, Any], expected: str | None = None) -> str:
    name = document.get("name")
    if not isinstance(name, str) or not _NAME.match(name) or len(name) > 200:
        raise ApiProblem(
            422,
            "invalid-pipeline",
            "document.name: a pipeline needs a name of letters, digits, '_' and '-'",
            issues=[
                {"code": "invalid-name", "message": "invalid or missing", "path": "document.name"}
            ],
        )
    if expected is not None and name != expected:
        raise ApiProblem(
            422,
            "invalid-pipeline",
            f"document.name is '{name}', the pipeline is '{expected}'",
            issues=[
                {
                    "code": "name-mismatch",
                    "message": "differs from the URL",
                    "path": "document.name",
                }
            ],
        )
    return name


def _issues(found: list[Issue]) -> ValidationOut:
    items = [
        IssueOut(code=i.code, message=i.message, path=i.path, line=i.line, hint=i.hint)
        for i in found
    ]
    return ValidationOut(valid=not items, issues=[IssueOut(**scrub(i.model_dump())) for i in items])


@router.post(
    "/v1/pipelines",
    status_code=201,
    response_model=PipelineCreated,
    responses=problems(409),
    summary="Create a pipeline (a draft at version 1)",
)
def create_pipeline(body: PipelineIn, who: Admin, svc: Svc, response: Response) -> PipelineCreated:
    _name_of(body.document)
    record, version = svc.catalog.create_pipeline(who.tenant, body.document, created_by=who.subject)
    response.headers["Location"] = f"/v1/pipelines/{record.name}"
    return PipelineCreated(
        pipeline=pipeline_view(record), version=version_view(record.name, version)
    )


@router.get(
    "/v1/pipelines", response_model=PipelineList, responses=problems(), summary="List pipelines"
)
def list_pipelines(
    who: Viewer,
    svc: Svc,
    status: Annotated[str | None, Query(pattern="^(draft|active|archived)$")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> PipelineList:
    found = svc.catalog.pipelines(who.tenant, status=status, limit=limit, offset=offset)
    return PipelineList(items=[pipeline_view(p) for p in found], limit=limit, offset=offset)


@router.get(
    "/v1/pipelines/{name}",
    response_model=PipelineOut,
    responses=problems(404),
    summary="Get a pipeline",
)
def get_pipeline(name: PipelineName, who: Viewer, svc: Svc) -> PipelineOut:
    return pipeline_view(svc.catalog.pipeline(who.tenant, name))


@router.put(
    "/v1/pipelines/{name}",
    response_model=VersionOut,
    responses=problems(404, 409),
    summary="Update a pipeline: a new immutable version",
)
def update_pipeline(name: PipelineName, body: PipelineIn, who: Admin, svc: Svc) -> VersionOut:
    _name_of(body.document, name)
    version = svc.catalog.add_version(who.tenant, name, body.document, created_by=who.subject)
    return version_view(name, version)


@router.delete(
    "/v1/pipelines/{name}",
    response_model=PipelineOut,
    responses=problems(404),
    summary="Archive a pipeline (versions and runs are kept)",
)
def archive_pipeline(name: PipelineName, who: Admin, svc: Svc) -> PipelineOut:
    return pipeline_view(svc.catalog.archive(who.tenant, name))


@router.get(
    "/v1/pipelines/{name}/versions",
    response_model=VersionList,
    responses=problems(404),
    summary="List a pipeline's versions",
)
def list_versions(name: PipelineName, who: Viewer, svc: Svc) -> VersionList:
    found = svc.catalog.versions(who.tenant, name)
    return VersionList(items=[version_view(name, v, document=False) for v in found])


@router.get(
    "/v1/pipelines/{name}/versions/{version}",
    response_model=VersionOut,
    responses=problems(404),
    summary="Get one version",
)
def get_version(name: PipelineName, version: Version, who: Viewer, svc: Svc) -> VersionOut:
    return version_view(name, svc.catalog.version(who.tenant, name, version))


@router.post(
    "/v1/pipelines/{name}/validate",
    response_model=ValidationOut,
    responses=problems(404),
    summary="Validate a stored version: every problem at once",
)
def validate_version(name: PipelineName, body: ValidateIn, who: Viewer, svc: Svc) -> ValidationOut:
    version = svc.catalog.version(who.tenant, name, body.version)
    return _issues(
        svc.door.validate(
            version.document, tenant=who.tenant, profile=body.profile, variables=body.variables
        )
    )


@router.post(
    "/v1/validate",
    response_model=ValidationOut,
    responses=problems(),
    summary="Validate a document without storing it",
)
def validate_document(body: DocumentValidateIn, who: Viewer, svc: Svc) -> ValidationOut:
    return _issues(
        svc.door.validate(
            body.document, tenant=who.tenant, profile=body.profile, variables=body.variables
        )
    )


@router.post(
    "/v1/pipelines/{name}/activate",
    response_model=ActivationOut,
    responses=problems(404, 409),
    summary="Activate a version after its checks pass",
)
def activate(name: PipelineName, body: ActivateIn, who: Admin, svc: Svc) -> ActivationOut:
    current = svc.catalog.pipeline(who.tenant, name)
    if current.status == "archived":
        raise ApiProblem(409, "pipeline-archived", f"pipeline '{name}' is archived")
    version = svc.catalog.version(who.tenant, name, body.version)
    checks = activation_checks(
        svc.door,
        version.document,
        tenant=who.tenant,
        profile=body.profile,
        variables=body.variables,
    )
    views = [CheckOut(**scrub(c.__dict__)) for c in checks]
    if not all(c.passed for c in checks):
        failed = ", ".join(c.name for c in checks if not c.passed)
        raise ApiProblem(
            422,
            "activation-failed",
            f"version {version.version} failed its activation checks: {failed}",
            checks=[v.model_dump() for v in views],
        )
    record = svc.catalog.activate(who.tenant, name, version.version)
    return ActivationOut(pipeline=pipeline_view(record), checks=views)
