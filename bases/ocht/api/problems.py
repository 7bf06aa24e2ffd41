"""RFC 9457 problem details: every error answers ``application/problem+json``.

The ``code`` member is the same stable code the CLI prints (``invalid-pipeline``,
``run-not-found``, ...); ``type`` is ``urn:ocht:problem:<code>``. Nothing in a problem
comes from an exception's traceback, and every text passes :func:`~ocht.api.redaction.scrub`.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from ocht.api.redaction import scrub
from ocht.errors import InvalidPipeline, OchtError
from ocht.observability import get_logger

MEDIA_TYPE = "application/problem+json"

#: HTTP status per stable code; an unlisted ``OchtError`` answers by its class below.
STATUS_BY_CODE: dict[str, int] = {
    "unauthenticated": 401,
    "invalid-credentials": 401,
    "credentials-expired": 401,
    "forbidden": 403,
    "not-found": 404,
    "pipeline-not-found": 404,
    "run-not-found": 404,
    "key-not-found": 404,
    "method-not-allowed": 405,
    "pipeline-exists": 409,
    "pipeline-archived": 409,
    "run-finished": 409,
    "request-too-large": 413,
    "unsupported-media-type": 415,
    "invalid-request": 422,
    "invalid-store-value": 422,
    "activation-failed": 422,
    "connector-unavailable": 422,
    "run-queue-full": 429,
    "store-unavailable": 503,
    "store-error": 503,
}

TITLES: dict[int, str] = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal error",
    503: "Service unavailable",
}


class Problem(BaseModel):
    """An RFC 9457 problem with Ocht's stable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(description="urn:ocht:problem:<code>")
    title: str
    status: int
    detail: str
    code: str = Field(description="The stable error code (the same the CLI shows).")
    instance: str | None = None
    hint: str | None = None


class ApiProblem(Exception):
    """An error raised by the API itself (auth, limits), answered as a problem."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.headers = headers or {}
        self.extra = extra


def problem(
    status: int,
    code: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response (every text redacted)."""
    body: dict[str, Any] = {
        "type": f"urn:ocht:problem:{code}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(scrub(body), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def status_of(exc: OchtError) -> int:
    """The HTTP status an Ocht error answers with."""
    if exc.code in STATUS_BY_CODE:
        return STATUS_BY_CODE[exc.code]
    if isinstance(exc, InvalidPipeline) or exc.exit_code == 2:
        return 422
    return 500


def from_ocht_error(exc: OchtError, instance: str | None = None) -> JSONResponse:
    """The problem for an :class:`OchtError` (issues included)."""
    data = exc.to_dict()
    extra = {k: v for k, v in data.items() if k not in ("code", "message", "hint")}
    retry_after = getattr(exc, "retry_after", None)
    headers = {"Retry-After": str(max(1, round(retry_after)))} if retry_after else None
    return problem(
        status_of(exc),
        exc.code,
        exc.message,
        instance=instance,
        hint=exc.hint,
        headers=headers,
        **extra,
    )


def _field_path(loc: tuple[Any, ...] | list[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into a problem."""

    @app.exception_handler(ApiProblem)
    async def _api(request: Request, exc: ApiProblem) -> JSONResponse:
        return problem(
            exc.status,
            exc.code,
            exc.detail,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(OchtError)
    async def _ocht(request: Request, exc: OchtError) -> JSONResponse:
        if status_of(exc) >= 500:
            get_logger("ocht.api").error("request failed", code=exc.code, error=exc.message)
        return from_ocht_error(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        issues = [
            {
                "code": str(e.get("type", "invalid")),
                "message": str(e.get("msg", "invalid value")),
                "path": _field_path(e.get("loc", ())),
            }
            for e in exc.errors()
        ]
        first = issues[0] if issues else {"path": "", "message": "invalid request"}
        where = f"{first['path']}: " if first["path"] else ""
        return problem(
            422,
            "invalid-request",
            f"{where}{first['message']}",
            instance=request.url.path,
            issues=issues,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "bad-request")
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        return problem(exc.status_code, code, detail, instance=request.url.path)

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> JSONResponse:
        get_logger("ocht.api").error(
            "unexpected error", path=request.url.path, error=type(exc).__name__
        )
        return problem(
            500, "internal-error", "the server failed to answer", instance=request.url.path
        )
