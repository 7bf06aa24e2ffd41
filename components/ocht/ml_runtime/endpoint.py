"""An OpenAI-compatible endpoint: bounded concurrency, rate limits, retries, a cache.

:class:`EndpointClient` posts JSON to ``<base_url>/<path>``. Every request:

1. is looked up in the response cache (key: endpoint, path, prompt version and the whole
   request body: model, prompt, parameters), so a re-run or a replay asks nothing;
2. waits for a slot (``concurrency``) and for the rate limits (requests and tokens per
   minute, over a sliding minute);
3. is retried through :func:`ocht.resilience.call_with_retry` on connection errors,
   timeouts, 408/409/429 and 5xx, honouring ``Retry-After``; a reply that is not JSON is
   retried too. A request that keeps failing ends the run with ``endpoint-unavailable``;
   any other 4xx with ``endpoint-error``.

The API key is sent as a bearer token and appears in no log, error, cache key or report.
"""

from __future__ import annotations

import collections
import hashlib
import json
import os
import threading
import time
from pathlib import Path
from typing import Any

from ocht.errors import TransientError
from ocht.ml_runtime.errors import EndpointError, EndpointUnavailable, need_extra
from ocht.pipeline_model import Endpoint
from ocht.resilience import RetriesExhausted, call_with_retry

_RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
#: answers kept in memory per step (a query may evaluate a batch twice; a stream runs on)
MEMO_SIZE = 4096


class RateLimiter:
    """Requests and tokens per minute over a sliding window (thread-safe).

    Example:
        >>> limiter = RateLimiter(requests_per_minute=2, tokens_per_minute=None)
        >>> limiter.acquire(10); limiter.acquire(10)
        >>> limiter.pending()
        2
    """

    def __init__(
        self,
        *,
        requests_per_minute: int | None,
        tokens_per_minute: int | None,
        clock: Any = time.monotonic,
        sleep: Any = time.sleep,
    ) -> None:
        self.rpm = requests_per_minute
        self.tpm = tokens_per_minute
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self._sent: collections.deque[tuple[float, int]] = collections.deque()

    def pending(self) -> int:
        """Requests counted in the current minute."""
        with self._lock:
            self._purge(self.clock())
            return len(self._sent)

    def _purge(self, now: float) -> None:
        while self._sent and now - self._sent[0][0] >= 60.0:
            self._sent.popleft()

    def acquire(self, tokens: int) -> None:
        """Wait until one more request of ``tokens`` tokens fits in the minute."""
        if self.rpm is None and self.tpm is None:
            return
        while True:
            with self._lock:
                now = self.clock()
                self._purge(now)
                used = sum(t for _, t in self._sent)
                fits_r = self.rpm is None or len(self._sent) < self.rpm
                fits_t = self.tpm is None or not self._sent or used + tokens <= self.tpm
                if fits_r and fits_t:
                    self._sent.append((now, tokens))
                    return
                wait = 60.0 - (now - self._sent[0][0])
            self.sleep(max(wait, 0.01))


class ResponseCache:
    """Answers by request key, one JSON file each under a folder (atomic writes)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer, or ``None``."""
        try:
            data = json.loads(self._path(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def put(self, key: str, value: dict[str, Any]) -> None:
        """Store an answer (a failure to write is not an error: it is only a cache)."""
        path = self._path(key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            tmp.write_text(json.dumps(value), encoding="utf-8")
            os.replace(tmp, path)
        except OSError:
            return


class Usage:
    """Requests and tokens of one step in one run (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.cached = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self.total_tokens = 0

    def add(self, answer: dict[str, Any], *, cached: bool) -> None:
        """Count one answer (a cached one costs no tokens)."""
        with self._lock:
            if cached:
                self.cached += 1
                return
            self.requests += 1
            usage = answer.get("usage") or {}
            if isinstance(usage, dict):
                p = int(usage.get("prompt_tokens") or 0)
                c = int(usage.get("completion_tokens") or 0)
                self.prompt_tokens += p
                self.completion_tokens += c
                self.total_tokens += int(usage.get("total_tokens") or (p + c))

    def to_dict(self) -> dict[str, int]:
        """Counts as a dict."""
        with self._lock:
            return {
                "requests": self.requests,
                "cached": self.cached,
                "prompt_tokens": self.prompt_tokens,
                "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens,
            }


def request_key(url: str, version: str, body: dict[str, Any]) -> str:
    """The cache key of a request: endpoint, prompt version and the whole body."""
    blob = json.dumps({"url": url, "version": version, "body": body}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


class EndpointClient:
    """Posts to one endpoint under the step's limits; see the module docstring."""

    def __init__(
        self, spec: Endpoint, *, step: str, cache_dir: Path | None, version: str = ""
    ) -> None:
        try:
            import httpx
        except ModuleNotFoundError:
            raise need_extra("httpx") from None
        self.spec = spec
        self.step = step
        self.version = version
        self.base = spec.base_url.rstrip("/")
        self.cache = ResponseCache(cache_dir) if spec.cache and cache_dir is not None else None
        self.limiter = RateLimiter(
            requests_per_minute=spec.requests_per_minute, tokens_per_minute=spec.tokens_per_minute
        )
        self.slots = threading.BoundedSemaphore(spec.concurrency)
        self.usage = Usage()
        self._memo: collections.OrderedDict[str, dict[str, Any]] = collections.OrderedDict()
        self._memo_lock = threading.Lock()
        headers = {"content-type": "application/json"}
        if spec.api_key is not None and spec.api_key.get_secret_value():
            headers["authorization"] = f"Bearer {spec.api_key.get_secret_value()}"
        self._httpx = httpx
        self._client = httpx.Client(
            headers=headers,
            timeout=httpx.Timeout(spec.timeout),
            limits=httpx.Limits(max_connections=spec.concurrency),
        )

    def close(self) -> None:
        """Close the connections."""
        self._client.close()

    def post(self, path: str, body: dict[str, Any], *, tokens: int) -> dict[str, Any]:
        """The JSON answer to ``body`` (from the cache when it was asked before).

        Raises:
            EndpointUnavailable: the endpoint kept failing through every retry.
            EndpointError: it refused the request for good (a 4xx).
        """
        url = f"{self.base}/{path.lstrip('/')}"
        key = request_key(url, self.version, body)
        with self._memo_lock:
            seen = self._memo.get(key)
        if seen is not None:
            return seen
        found = self.cache.get(key) if self.cache is not None else None
        if found is not None:
            self.usage.add(found, cached=True)
        else:
            try:
                found = call_with_retry(
                    self._send,
                    url,
                    body,
                    tokens,
                    policy=self.spec.retry,
                    what=f"step '{self.step}': POST {url}",
                )
            except RetriesExhausted as exc:
                raise EndpointUnavailable(
                    f"step '{self.step}': the endpoint {url} did not answer: {exc.message}",
                    hint="check that the server is up and base_url is right",
                    step=self.step,
                    url=url,
                    attempts=exc.attempts,
                ) from None
            self.usage.add(found, cached=False)
            if self.cache is not None:
                self.cache.put(key, found)
        with self._memo_lock:
            self._memo[key] = found
            if len(self._memo) > MEMO_SIZE:
                self._memo.popitem(last=False)
        return found

    def _send(self, url: str, body: dict[str, Any], tokens: int) -> dict[str, Any]:
        httpx = self._httpx
        self.limiter.acquire(tokens)
        with self.slots:
            try:
                reply = self._client.post(url, json=body)
            except httpx.TimeoutException:
                raise TransientError(f"no answer within {self.spec.timeout:g}s") from None
            except httpx.TransportError as exc:
                raise TransientError(f"{type(exc).__name__}: {exc}") from None
        if reply.status_code in _RETRY_STATUS:
            raise TransientError(
                f"HTTP {reply.status_code}", retry_after=_retry_after(reply.headers)
            )
        if reply.status_code >= 400:
            raise EndpointError(
                f"step '{self.step}': {url} answered HTTP {reply.status_code}: {reply.text[:200]}",
                step=self.step,
                status=reply.status_code,
                hint="check the model name and the request options",
            )
        try:
            data = reply.json()
        except ValueError:
            raise TransientError("the reply is not JSON") from None
        if not isinstance(data, dict):
            raise TransientError("the reply is not a JSON object")
        return data


def _retry_after(headers: Any) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
