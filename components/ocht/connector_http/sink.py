"""The ``http`` output: rows POSTed as JSON arrays, sent only when the run commits.

Rows are spooled to a file in the run's folder while the run executes, and sent at
commit in batches of ``batch_size``, each with an ``Idempotency-Key`` derived from the
pipeline, the output and the batch's content. So a failed run sends nothing; a run that
fails while sending has delivered whole batches only, and its re-run sends the same
batches under the same keys, which an idempotent endpoint recognises.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_http.client import HttpClient
from ocht.pipeline_model import HttpConnector
from ocht.registry import RunContext, Sink


class HttpSink(Sink):
    """POSTs rows to an endpoint as JSON batches (see the module docs)."""

    spec: HttpConnector
    atomic: ClassVar[bool] = False

    def __init__(self, spec: HttpConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._spool: Path | None = None
        self.batches_sent = 0

    def open(self) -> None:
        folder = self.context.run_dir / "tmp"
        folder.mkdir(parents=True, exist_ok=True)
        self._spool = folder / f"{self.name}-http-out.ndjson"
        self._spool.write_text("")

    def write(self, batch: pl.DataFrame) -> None:
        assert self._spool is not None, "open() first"
        with self._spool.open("ab") as out:
            batch.write_ndjson(out)

    def commit(self) -> None:
        """Send the spooled rows, batch by batch (each retried on its own)."""
        if self._spool is None:
            return
        client = HttpClient(self.spec, name=self.name)
        try:
            if self._spool.stat().st_size:
                spooled = pl.read_ndjson(self._spool)
                size = self.spec.batch_size
                for offset in range(0, spooled.height, size):
                    self._send(client, spooled.slice(offset, size).to_dicts())
        finally:
            client.close()
            self.abort()

    def abort(self) -> None:
        if self._spool is not None:
            self._spool.unlink(missing_ok=True)
        self._spool = None

    def describe(self) -> str:
        return f"http:{self.spec.url}"

    def _send(self, client: HttpClient, rows: list[dict[str, Any]]) -> None:
        body = json.dumps(rows, separators=(",", ":"), sort_keys=True)
        headers = {"Content-Type": "application/json"}
        if self.spec.idempotency_header:
            digest = hashlib.sha256(
                f"{self.context.pipeline}\0{self.name}\0{body}".encode()
            ).hexdigest()
            headers[self.spec.idempotency_header] = digest[:32]
        self.batches_sent += 1
        client.request(
            self.spec.write_method,
            self.spec.url,
            json=rows,
            headers=headers,
            what=f"{self.spec.write_method} {self.spec.url} (batch {self.batches_sent})",
        )
