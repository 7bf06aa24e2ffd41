"""Request and response bodies (pydantic), as the OpenAPI document shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_\-]*$"
RUN_ID_PATTERN = r"^[A-Za-z0-9_\-]{1,64}$"
#: where the pipeline JSON Schema sits in the OpenAPI document's components
PIPELINE_REF = "#/components/schemas/pipeline.Pipeline"
#: bodies whose ``document`` the OpenAPI document describes with the pipeline JSON Schema
DOCUMENT_BODIES = ("PipelineIn", "DocumentValidateIn")

Variables = dict[str, Any]


class Body(BaseModel):
    """Bodies refuse unknown fields (a misspelt field is an error, not ignored)."""

    model_config = ConfigDict(extra="forbid")


class PipelineIn(Body):
    """A pipeline document, the same the CLI reads (``${var}`` and ``${env:NAME}`` allowed)."""

    document: dict[str, Any]


class PipelineOut(BaseModel):
    """A pipeline resource."""

    name: str
    status: Literal["draft", "active", "archived"]
    latest_version: int
    active_version: int | None
    created_at: datetime
    updated_at: datetime


class VersionOut(BaseModel):
    """One immutable version."""

    name: str
    version: int
    content_hash: str = Field(description="SHA-256 of the document's canonical JSON.")
    document: dict[str, Any]
    created_at: datetime
    created_by: str | None


class PipelineCreated(BaseModel):
    """A pipeline and the version just written."""

    pipeline: PipelineOut
    version: VersionOut


class PipelineList(BaseModel):
    """A page of pipelines."""

    items: list[PipelineOut]
    limit: int
    offset: int


class VersionList(BaseModel):
    """Every version of a pipeline (documents left out)."""

    items: list[VersionOut]


class IssueOut(BaseModel):
    """One problem, with its field path."""

    code: str
    message: str
    path: str = ""
    line: int | None = None
    hint: str | None = None


class ValidateIn(Body):
    """What to validate: a stored version (the latest by default), with a profile and vars."""

    version: int | None = Field(default=None, ge=1)
    profile: str | None = Field(default=None, max_length=200)
    variables: Variables = Field(default_factory=dict)


class DocumentValidateIn(Body):
    """A document to validate without storing it."""

    document: dict[str, Any]
    profile: str | None = Field(default=None, max_length=200)
    variables: Variables = Field(default_factory=dict)


class ValidationOut(BaseModel):
    """Every problem found at once (none: valid)."""

    valid: bool
    issues: list[IssueOut]


class CheckOut(BaseModel):
    """One activation check."""

    name: str
    status: Literal["pass", "fail"]
    message: str = ""
    issues: list[dict[str, Any]] = Field(default_factory=list)


class ActivateIn(ValidateIn):
    """Which version to activate (the latest by default)."""


class ActivationOut(BaseModel):
    """The pipeline, now active, and the checks it passed."""

    pipeline: PipelineOut
    checks: list[CheckOut]


class RunIn(Body):
    """A run to submit."""

    pipeline: str = Field(pattern=NAME_PATTERN, max_length=200)
    version: int | None = Field(
        default=None, ge=1, description="Default: the active version, else the latest."
    )
    profile: str | None = Field(default=None, max_length=200)
    variables: Variables = Field(default_factory=dict)
    sandbox: bool = Field(
        default=False, description="Write to the sandbox even for the active version."
    )


class ErrorOut(BaseModel):
    """Why a run failed."""

    code: str
    message: str | None = None


class SandboxOut(BaseModel):
    """Where a draft run's outputs went."""

    location: str
    outputs: dict[str, str]


class ManifestOut(BaseModel):
    """What the executor recorded: rows per input, step and output, checks, timings."""

    mode: str
    content_hash: str
    started_at: datetime
    ended_at: datetime | None
    seconds: float | None
    rows_read: dict[str, int]
    rows_written: dict[str, int]
    step_rows: dict[str, int]
    dead_letters: int
    steps: list[dict[str, Any]]
    checks: list[dict[str, Any]]
    phases: dict[str, float]
    outputs: dict[str, str]


class RunOut(BaseModel):
    """A run."""

    run_id: str
    pipeline: str
    version: int
    status: Literal["queued", "running", "succeeded", "failed", "partial", "cancelled", "abandoned"]
    profile: str | None
    variables: Variables
    submitted_at: datetime | None
    submitted_by: str | None
    ended_at: datetime | None
    rerun_of: str | None
    error: ErrorOut | None
    sandbox: SandboxOut | None
    manifest: ManifestOut | None


class RunList(BaseModel):
    """A page of runs, newest first."""

    items: list[RunOut]
    limit: int
    offset: int


class RowsPage(BaseModel):
    """A page of records (dead letters, log events, trace rows)."""

    items: list[dict[str, Any]]
    offset: int
    limit: int
    total: int


class KeyIn(Body):
    """A key to create in the caller's tenant."""

    role: Literal["viewer", "operator", "admin"]
    name: str = Field(default="", max_length=200)


class KeyOut(BaseModel):
    """A key as listed: its visible prefix, never its secret."""

    key_id: str
    prefix: str
    name: str
    role: Literal["viewer", "operator", "admin"]
    tenant: str
    created_at: datetime
    revoked_at: datetime | None


class KeyCreated(BaseModel):
    """A new key: ``secret`` is shown this once and cannot be read again."""

    key: KeyOut
    secret: str


class KeyList(BaseModel):
    """The tenant's keys."""

    items: list[KeyOut]


class Health(BaseModel):
    """Liveness or readiness."""

    status: Literal["ok", "unavailable"]
    detail: str = ""
