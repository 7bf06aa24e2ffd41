"""``/v1/runs``: submit, list, inspect, cancel and rerun runs."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from ocht.api.execution import RunJob
from ocht.api.problems import ApiProblem
from ocht.api.redaction import scrub
from ocht.api.routers.common import Limit, Offset, Operator, RunId, Svc, Viewer, problems
from ocht.api.schemas import (
    NAME_PATTERN,
    ErrorOut,
    ManifestOut,
    RowsPage,
    RunIn,
    RunList,
    RunOut,
    SandboxOut,
)
from ocht.api.service import LOG_FILE, Services
from ocht.executor import read_trace
from ocht.store import REQUEST_FINAL, RunNotFound, RunRequest

router = APIRouter(tags=["runs"])
_STATUS = "^(queued|running|succeeded|failed|partial|cancelled|abandoned)$"


def _utc(value: datetime | None, what: str) -> datetime | None:
    if value is None:
        return None
    try:
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    except (OverflowError, ValueError):
        raise ApiProblem(422, "invalid-request", f"{what}: the time is out of range") from None


def _request(svc: Services, tenant: str, run_id: str) -> RunRequest:
    return svc.requests.get(run_id, tenant=tenant, default_tenant=svc.settings.default_tenant)


def run_view(svc: Services, req: RunRequest, *, manifest: bool = True) -> RunOut:
    """A run with, when asked, the executor's manifest."""
    found = None
    if manifest:
        try:
            found = svc.store.run(req.run_id)
        except RunNotFound:
            found = None
        if found is not None and found.run_id != req.run_id:
            found = None
    view = None
    outputs: dict[str, str] = {}
    if found is not None:
        extra = found.extra
        outputs = {str(k): str(v) for k, v in dict(extra.get("outputs") or {}).items()}
        view = ManifestOut(
            mode=found.mode,
            content_hash=found.content_hash,
            started_at=found.started_at,
            ended_at=found.ended_at,
            seconds=found.seconds,
            rows_read=found.rows_read,
            rows_written=found.rows_written,
            step_rows=found.step_rows,
            dead_letters=found.dead_letters,
            steps=list(extra.get("steps") or []),
            checks=list(extra.get("checks") or []),
            phases=dict(extra.get("phases") or {}),
            outputs=outputs,
        )
    sandbox = SandboxOut(location=req.sandbox, outputs=outputs) if req.sandbox else None
    error = ErrorOut(code=req.error_code, message=req.error_message) if req.error_code else None
    data = RunOut(
        run_id=req.run_id,
        pipeline=req.pipeline,
        version=req.version,
        status=req.status,
        profile=req.profile,
        variables=req.variables,
        submitted_at=req.submitted_at,
        submitted_by=req.submitted_by,
        ended_at=req.ended_at,
        rerun_of=req.rerun_of,
        error=error,
        sandbox=sandbox,
        manifest=view,
    )
    return RunOut.model_validate(scrub(data.model_dump(mode="json")))


def _submit(
    svc: Services, who_tenant: str, who: str, body: RunIn, rerun_of: str | None
) -> RunRequest:
    pipeline = svc.catalog.pipeline(who_tenant, body.pipeline)
    if pipeline.status == "archived":
        raise ApiProblem(409, "pipeline-archived", f"pipeline '{pipeline.name}' is archived")
    number = body.version or pipeline.active_version or pipeline.latest_version
    version = svc.catalog.version(who_tenant, pipeline.name, number)
    real = (
        not body.sandbox
        and pipeline.status == "active"
        and pipeline.active_version == version.version
    )
    run_id = uuid.uuid4().hex
    sandbox = None if real else str(svc.sandbox_for(who_tenant, run_id))
    req = svc.requests.add(
        tenant=who_tenant,
        pipeline_id=pipeline.pipeline_id,
        pipeline=pipeline.name,
        version=version.version,
        profile=body.profile,
        variables=body.variables,
        sandbox=sandbox,
        submitted_by=who,
        rerun_of=rerun_of,
        run_id=run_id,
    )
    job = RunJob(
        run_id=run_id,
        tenant=who_tenant,
        pipeline=pipeline.name,
        version=version.version,
        document=version.document,
        profile=body.profile,
        variables=body.variables,
        sandbox=sandbox,
    )
    try:
        svc.execution.submit(job)
    except Exception:
        svc.requests.discard(run_id)
        svc.metrics.rejected.inc()
        raise
    svc.metrics.submitted.inc()
    return req


@router.post(
    "/v1/runs",
    status_code=202,
    response_model=RunOut,
    responses=problems(404, 409, 429),
    summary="Submit a run of a pipeline version",
)
def submit_run(body: RunIn, who: Operator, svc: Svc, response: Response) -> RunOut:
    req = _submit(svc, who.tenant, who.subject, body, None)
    response.headers["Location"] = f"/v1/runs/{req.run_id}"
    return run_view(svc, req, manifest=False)


@router.get("/v1/runs", response_model=RunList, responses=problems(), summary="List runs")
def list_runs(
    who: Viewer,
    svc: Svc,
    pipeline: Annotated[str | None, Query(pattern=NAME_PATTERN, max_length=200)] = None,
    status: Annotated[str | None, Query(pattern=_STATUS)] = None,
    since: Annotated[datetime | None, Query(description="Submitted at or after.")] = None,
    until: Annotated[datetime | None, Query(description="Submitted before.")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> RunList:
    found = svc.requests.find(
        who.tenant,
        pipeline=pipeline,
        status=status,
        since=_utc(since, "since"),
        until=_utc(until, "until"),
        limit=limit,
        offset=offset,
        default_tenant=svc.settings.default_tenant,
    )
    return RunList(
        items=[run_view(svc, r, manifest=False) for r in found], limit=limit, offset=offset
    )


@router.get(
    "/v1/runs/{run_id}",
    response_model=RunOut,
    responses=problems(404),
    summary="Get a run and its manifest",
)
def get_run(run_id: RunId, who: Viewer, svc: Svc) -> RunOut:
    return run_view(svc, _request(svc, who.tenant, run_id))


@router.post(
    "/v1/runs/{run_id}/cancel",
    status_code=202,
    response_model=RunOut,
    responses=problems(404, 409),
    summary="Cancel a run: it stops before committing any output",
)
def cancel_run(run_id: RunId, who: Operator, svc: Svc) -> RunOut:
    req = _request(svc, who.tenant, run_id)
    if req.status in REQUEST_FINAL or not req.pipeline_id:
        raise ApiProblem(
            409, "run-finished", f"run '{run_id}' is {req.status}; it cannot be cancelled"
        )
    svc.execution.cancel(run_id)
    after = svc.requests.set_status(
        run_id,
        "cancelled",
        error_code="cancelled",
        error_message="the run was cancelled before it started",
        only_from=("queued",),
    )
    if req.status == "queued" and after.status == "cancelled":
        svc.metrics.runs.labels(status="cancelled").inc()
    return run_view(svc, after)


@router.post(
    "/v1/runs/{run_id}/rerun",
    status_code=202,
    response_model=RunOut,
    responses=problems(404, 409, 429),
    summary="Run the same version again, with the same profile and variables",
)
def rerun(run_id: RunId, who: Operator, svc: Svc, response: Response) -> RunOut:
    old = _request(svc, who.tenant, run_id)
    if not old.pipeline_id:
        raise ApiProblem(
            409, "run-not-rerunnable", "only runs submitted through the API can be rerun"
        )
    body = RunIn(
        pipeline=old.pipeline,
        version=old.version,
        profile=old.profile,
        variables=old.variables,
        sandbox=old.sandbox is not None,
    )
    req = _submit(svc, who.tenant, who.subject, body, old.run_id)
    response.headers["Location"] = f"/v1/runs/{req.run_id}"
    return run_view(svc, req, manifest=False)


def _page(rows: list[dict[str, Any]], offset: int, limit: int, total: int) -> RowsPage:
    return RowsPage(items=scrub(rows), offset=offset, limit=limit, total=total)


@router.get(
    "/v1/runs/{run_id}/dead-letters",
    response_model=RowsPage,
    responses=problems(404),
    summary="Page through a run's dead letters",
)
def dead_letters(
    run_id: RunId, who: Viewer, svc: Svc, limit: Limit = 50, offset: Offset = 0
) -> RowsPage:
    _request(svc, who.tenant, run_id)
    path = _dead_letter_path(svc, run_id)
    if path is None:
        return _page([], offset, limit, 0)
    import polars as pl

    readers: dict[str, Callable[[Path], pl.LazyFrame]] = {
        ".ndjson": pl.scan_ndjson,
        ".jsonl": pl.scan_ndjson,
        ".parquet": pl.scan_parquet,
        ".csv": pl.scan_csv,
    }
    reader = readers.get(path.suffix)
    if reader is None:
        return _page([], offset, limit, 0)
    frame = reader(path)
    total = int(frame.select(pl.len()).collect().item())
    rows = frame.slice(offset, limit).collect().to_dicts()
    return _page(json.loads(json.dumps(rows, default=str)), offset, limit, total)


def _dead_letter_path(svc: Services, run_id: str) -> Path | None:
    try:
        record = svc.store.run(run_id)
    except RunNotFound:
        return None
    target = record.extra.get("dead_letter_target")
    if record.run_id != run_id or not isinstance(target, str) or not target:
        return None
    # a file sink describes itself as "<format>:<path>"
    path = Path(re.sub(r"^[a-z_]+:(?!//)", "", target))
    path = path if path.is_absolute() else svc.settings.workdir / path
    return path if path.is_file() else None


@router.get(
    "/v1/runs/{run_id}/trace",
    response_model=RowsPage,
    responses=problems(404),
    summary="A run's per-step trace",
)
def trace(run_id: RunId, who: Viewer, svc: Svc) -> RowsPage:
    req = _request(svc, who.tenant, run_id)
    try:
        frame = read_trace(svc.settings.run_home, run_id)
    except (FileNotFoundError, OSError):
        return _page([], 0, 0, 0)
    rows = frame.to_dicts()
    for row in rows:
        row["pipeline"] = req.pipeline  # not the name it ran under (tenant, sandbox)
        for name in ("branches", "checks"):
            if isinstance(row.get(name), str):
                row[name] = json.loads(row[name])
    return _page(rows, 0, len(rows), len(rows))


@router.get(
    "/v1/runs/{run_id}/logs",
    response_model=RowsPage,
    responses=problems(404),
    summary="A run's log events",
)
def logs(run_id: RunId, who: Viewer, svc: Svc, limit: Limit = 100, offset: Offset = 0) -> RowsPage:
    _request(svc, who.tenant, run_id)
    path = svc.run_dir(run_id) / LOG_FILE
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    rows = [json.loads(line) for line in lines[offset : offset + limit] if line.strip()]
    return _page(rows, offset, limit, len(lines))
