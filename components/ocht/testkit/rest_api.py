"""A small REST API on loopback for HTTP connector tests: paginated records, faults, a sink.

Routes (all JSON):

- ``GET /records?style=next_link|link_header|offset|page|cursor`` — ``records`` served
  ``page_size`` at a time in that style; ``since=<v>`` keeps records whose ``updated_at``
  is greater.
- ``POST /ingest`` — stores each JSON array received; a repeated ``Idempotency-Key`` is
  acknowledged but not stored twice.
- ``GET /html`` — a 200 answer that is not JSON.

Faults are queued per path with :meth:`RestApi.fail_next` (status, ``Retry-After``, delay).

Example:
    >>> import httpx
    >>> with RestApi([{"id": 1, "updated_at": "2024-01-01"}]) as api:
    ...     httpx.get(api.url("/records?style=page&page=1")).json()["data"]
    [{'id': 1, 'updated_at': '2024-01-01'}]
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ocht.testkit.loopback import LoopbackServer


@dataclass(frozen=True)
class Fault:
    """One scripted answer: a status (with ``Retry-After``), or a delay before answering."""

    status: int = 503
    retry_after: str | None = None
    delay: float = 0.0
    body: str = '{"error": "scripted fault"}'


class RestApi(LoopbackServer):
    """The server; :attr:`received` holds the batches POSTed to ``/ingest``."""

    def __init__(self, records: Sequence[dict[str, Any]] = (), *, page_size: int = 2) -> None:
        self.records = list(records)
        self.page_size = page_size
        self.received: list[list[dict[str, Any]]] = []
        self.keys_seen: list[str | None] = []
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self._faults: dict[str, deque[Fault]] = {}
        self._lock = threading.Lock()
        super().__init__(_handler(self))

    def url(self, path: str) -> str:
        """``http://127.0.0.1:PORT{path}``."""
        return f"http://127.0.0.1:{self.port}{path}"

    def fail_next(self, path: str, *faults: Fault) -> None:
        """Answer the next requests to ``path`` with ``faults``, in order."""
        with self._lock:
            self._faults.setdefault(path, deque()).extend(faults)

    def rows(self) -> list[dict[str, Any]]:
        """Every row stored by ``/ingest``, in arrival order."""
        return [row for batch in self.received for row in batch]

    # -- serving --------------------------------------------------------------------------
    def _fault(self, path: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(path)
            return queue.popleft() if queue else None

    def _page(self, query: dict[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
        rows = self.records
        if "since" in query:
            rows = [r for r in rows if str(r.get("updated_at")) > query["since"]]
        style = query.get("style", "page")
        size = int(query.get("limit", query.get("size", self.page_size)))
        headers: dict[str, str] = {}
        if style == "offset":
            start = int(query.get("offset", 0))
        elif style == "page":
            start = (int(query.get("page", 1)) - 1) * size
        else:  # next_link, link_header, cursor: the position is an opaque token
            start = int(query.get("cursor", query.get("token", 0)) or 0)
        chunk = rows[start : start + size]
        end = start + size
        more = end < len(rows)
        body: dict[str, Any] = {"data": chunk}
        extra = "".join(f"&{k}={v}" for k, v in query.items() if k in ("since",))
        if style == "next_link":
            body["links"] = {
                "next": f"/records?style=next_link&token={end}{extra}" if more else None
            }
        elif style == "link_header" and more:
            headers["Link"] = (
                f'<{self.url(f"/records?style=link_header&token={end}{extra}")}>; rel="next"'
            )
        elif style == "cursor":
            body["meta"] = {"next_cursor": str(end) if more else None}
        return body, headers


def _handler(api: RestApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

        def _answer(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

        def _faulted(self, path: str) -> bool:
            fault = api._fault(path)
            if fault is None:
                return False
            if fault.delay:
                time.sleep(fault.delay)
                if fault.status == 200:
                    return False
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else None
            self._answer(fault.status, fault.body, headers)
            return True

        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            api.requests.append(("GET", self.path, dict(self.headers.items())))
            if self._faulted(parts.path):
                return
            if parts.path == "/html":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                self.wfile.write(b"<html>hello</html>")
                return
            if parts.path != "/records":
                self._answer(404, '{"error": "no such route"}')
                return
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            body, headers = api._page(query)
            self._answer(200, json.dumps(body), headers)

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            payload = self.rfile.read(length)
            api.requests.append(("POST", self.path, dict(self.headers.items())))
            if self._faulted(parts.path):
                return
            if parts.path != "/ingest":
                self._answer(404, '{"error": "no such route"}')
                return
            key = self.headers.get("Idempotency-Key")
            with api._lock:
                duplicate = key is not None and key in api.keys_seen
                api.keys_seen.append(key)
                if not duplicate:
                    api.received.append(json.loads(payload))
            self._answer(200, json.dumps({"stored": not duplicate}))

    return Handler
