"""The ``http`` input: pages of JSON records, staged as NDJSON and read like a file.

Compiling reads only the first page (for the columns, unless ``schema`` declares them);
the run reads every page, appending records to an NDJSON file in the run's folder, so
memory stays bounded by one page and the records get exactly the types an NDJSON file of
the same data gets.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from ocht.connector_files import NdjsonSource
from ocht.connector_http.client import HttpClient
from ocht.connector_http.pages import pages
from ocht.errors import OchtError
from ocht.pipeline_model import HttpConnector, NdjsonConnector
from ocht.registry import RunContext, Source


class HttpSource(Source):
    """Reads a REST API page by page (see :mod:`ocht.connector_http`)."""

    spec: HttpConnector

    def __init__(self, spec: HttpConnector, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._client: HttpClient | None = None
        self._pages: Iterator[tuple[str, list[dict[str, Any]]]] | None = None
        self._file: Path | None = None
        self._complete = False
        self._since = self._prior_value()
        self._high: Any = self._since
        self.pages_read = 0
        self.records_read = 0

    @property
    def client(self) -> HttpClient:
        """The connector's HTTP client (created on first use)."""
        if self._client is None:
            self._client = HttpClient(self.spec, name=self.name)
        return self._client

    def schema(self) -> pl.Schema:
        """The declared schema, or the one of the first page's records."""
        if self.spec.schema_:
            return self._local().schema()
        self._fetch(first_only=True)
        return self._local().schema()

    def scan(self) -> pl.LazyFrame:
        self._fetch(first_only=False)
        return self._local().scan()

    def state(self) -> dict[str, Any] | None:
        """The high-water mark of the incremental cursor, stored when the run commits."""
        inc = self.spec.incremental
        if inc is None or self._high is None:
            return None
        return {"kind": "http", "cursor": inc.cursor, "value": self._high}

    def describe(self) -> str:
        return f"http:{self.spec.url}"

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
        self._client = None

    # -- internals ------------------------------------------------------------------------
    def _prior_value(self) -> Any:
        inc = self.spec.incremental
        if inc is None:
            return None
        prior = self.context.state_of(self.name) or {}
        if prior.get("cursor") == inc.cursor and "value" in prior:
            return prior["value"]
        return inc.start

    def _local(self) -> NdjsonSource:
        assert self._file is not None
        local = NdjsonConnector.model_validate(
            {"type": "ndjson", "path": str(self._file), "schema": self.spec.schema_}
        )
        return NdjsonSource(local, name=self.name, context=self.context)

    def _fetch(self, *, first_only: bool) -> None:
        if self._file is None:
            folder = self.context.run_dir / "tmp"
            folder.mkdir(parents=True, exist_ok=True)
            self._file = folder / f"{self.name}-http.ndjson"
            self._file.write_text("")
            params: dict[str, Any] = dict(self.spec.params)
            inc = self.spec.incremental
            if inc is not None and inc.param and self._since is not None:
                params[inc.param] = self._since
            self._pages = pages(self.client, self.spec, params)
        if self._complete:
            return
        assert self._pages is not None
        with self._file.open("a", encoding="utf-8") as out:
            for _url, records in self._pages:
                self.pages_read += 1
                kept = self._newer(records)
                self.records_read += len(kept)
                for record in kept:
                    out.write(json.dumps(record, separators=(",", ":"), default=str))
                    out.write("\n")
                if first_only and self.pages_read >= 1 and self.records_read:
                    return
            self._complete = True

    def _newer(self, records: list[dict[str, Any]]) -> list[dict[str, Any]]:
        inc = self.spec.incremental
        if inc is None:
            return records
        kept = []
        for record in records:
            value = record.get(inc.cursor)
            if value is None:
                raise OchtError(
                    f"input '{self.name}': a record has no '{inc.cursor}' (the incremental cursor)",
                    code="malformed-record",
                    hint="pick a cursor field every record has",
                )
            if self._since is not None and not _greater(value, self._since):
                continue
            if self._high is None or _greater(value, self._high):
                self._high = value
            kept.append(record)
        return kept


def _greater(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a > b
    return str(a) > str(b)
