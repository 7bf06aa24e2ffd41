"""One HTTP client per connector: auth, rate limit, timeouts, retries honouring Retry-After.

429 and 5xx answers, timeouts and refused connections are transient: retried through
:func:`ocht.resilience.call_with_retry` with the connector's ``retry:`` policy, waiting at
least what ``Retry-After`` asks. Other 4xx answers fail at once with the status and the
start of the body (never the request's headers, which may hold credentials).
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx

from ocht.errors import ConnectorError, SourceUnreachable, TransientError
from ocht.pipeline_model import HttpConnector, Retry
from ocht.resilience import call_with_retry

_TRANSIENT_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


class HttpError(ConnectorError):
    """The server refused a request for good (4xx other than 408/425/429)."""

    code = "http-error"


class HttpClient:
    """Requests for one connector, paced by its ``rate_limit`` and retried by its policy."""

    def __init__(self, spec: HttpConnector, *, name: str) -> None:
        self.spec = spec
        self.name = name
        headers = dict(spec.headers)
        params: dict[str, Any] = {}
        auth: httpx.Auth | None = None
        if spec.auth is not None:
            if spec.auth.type == "bearer":
                headers["Authorization"] = f"Bearer {spec.auth.token}"
            elif spec.auth.type == "basic":
                auth = httpx.BasicAuth(spec.auth.username, spec.auth.password)
            elif spec.auth.in_ == "header":
                headers[spec.auth.name] = spec.auth.value
            else:
                params[spec.auth.name] = spec.auth.value
        self._auth_params = params
        self._client = httpx.Client(
            headers=headers, auth=auth, timeout=spec.timeout, follow_redirects=True
        )
        rate = spec.rate_limit.requests_per_second if spec.rate_limit else None
        self._interval = 1.0 / rate if rate else 0.0
        self._next_at = 0.0
        self._lock = threading.Lock()
        self.requests = 0

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        what: str,
    ) -> httpx.Response:
        """One request, retried while transient; the successful (2xx) response.

        Raises:
            SourceUnreachable: the host does not resolve.
            HttpError: a permanent refusal (401, 403, 404, 422, ...).
            RetriesExhausted: transient failures outlasted the retry policy.
        """
        query = {**self._auth_params, **(params or {})}

        def once() -> httpx.Response:
            self._pace()
            self.requests += 1
            try:
                reply = self._client.request(
                    method, url, params=query or None, json=json, headers=headers
                )
            except httpx.TimeoutException as exc:
                raise TransientError(f"{what}: timed out ({type(exc).__name__})") from None
            except httpx.ConnectError as exc:
                if "Name or service not known" in str(exc) or "nodename" in str(exc):
                    raise SourceUnreachable(
                        f"{what}: the host does not resolve", hint="check the url"
                    ) from None
                raise TransientError(f"{what}: cannot connect ({exc})") from None
            except httpx.TransportError as exc:
                raise TransientError(f"{what}: {type(exc).__name__}: {exc}") from None
            if reply.status_code in _TRANSIENT_STATUS:
                raise TransientError(
                    f"{what}: HTTP {reply.status_code}",
                    retry_after=retry_after(reply.headers.get("Retry-After")),
                )
            if reply.status_code >= 400:
                raise HttpError(
                    f"{what}: HTTP {reply.status_code}: {_snippet(reply)}",
                    hint=_hint(reply.status_code),
                    status=reply.status_code,
                )
            return reply

        policy = self.spec.retry or Retry(attempts=5, initial=0.5, timeout=120)
        return call_with_retry(once, policy=policy, what=what)

    def _pace(self) -> None:
        if not self._interval:
            return
        with self._lock:
            now = time.monotonic()
            wait = self._next_at - now
            self._next_at = max(now, self._next_at) + self._interval
        if wait > 0:
            time.sleep(wait)


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date).

    Example:
        >>> retry_after("3"), retry_after(None), retry_after("soon")
        (3.0, None, None)
    """
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _snippet(reply: httpx.Response) -> str:
    text = reply.text.strip().replace("\n", " ")
    return text[:200] + ("…" if len(text) > 200 else "") if text else reply.reason_phrase


def _hint(status: int) -> str:
    if status in (401, 403):
        return "check the credentials in `auth` (and that they are allowed this endpoint)"
    if status == 404:
        return "check the url"
    return "check the request: url, params and body"
