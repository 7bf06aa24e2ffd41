"""Object-store outputs: written under a hidden temporary key, published at commit.

Lifecycle (driven by the executor)::

    sink.open()              # checks the bucket answers; nothing is written yet
    node = sink.plan(frame)  # Polars' streaming cloud writer into
                             #   <bucket>/.ocht-tmp/<run_id>/<key>  (multipart upload)
    sink.commit()            # server-side copy onto <key>, then the temporary key is deleted
    sink.abort()             # deletes the temporary key; <key> is left as it was

What this guarantees, exactly: an object store has no rename, but a PUT or a copy of one
object is atomic — a reader sees the old object or the new one, never a part. So each
output object is replaced in one step, and only after the whole run succeeded. Temporary
objects live under ``.ocht-tmp/`` at the bucket root, which no glob of an output prefix
reads (Ocht's readers skip hidden keys too). Several outputs of one run are published one
after the other at commit: a crash in that window can leave some published and others not
(each one whole); the next run publishes them all again.
"""

from __future__ import annotations

import re
import time
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files import csv_write_options
from ocht.connector_s3.objects import Location, guarded, open_store
from ocht.errors import OutputWriteError
from ocht.registry import RunContext, Sink

TEMP_PREFIX = ".ocht-tmp"


class ObjectSink(Sink):
    """Base of the object-store sinks; subclasses implement :meth:`sink`."""

    atomic: ClassVar[bool] = True
    format_name: ClassVar[str] = "object"

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self.location = Location.parse(spec.path)
        if self.location.is_glob or not self.location.key or self.location.key.endswith("/"):
            raise OutputWriteError(
                f"the output '{spec.path}' must name one object",
                hint="write it as s3://bucket/folder/name.parquet",
                path=spec.path,
                output=name,
            )
        run = re.sub(r"[^A-Za-z0-9_.-]", "_", context.run_id)
        self.temp_key = f"{TEMP_PREFIX}/{run}/{self.location.key}"
        self._store: Any = None
        self._written = False

    @property
    def store(self) -> Any:
        """The obstore store (opened on first use)."""
        if self._store is None:
            self._store = open_store(self.location, self.spec.storage_options)
        return self._store

    def open(self) -> None:
        """Check that the bucket answers (a listing), before any data is read.

        Raises:
            SourceUnreachable: the bucket does not exist.
            ObjectStoreError: access denied or bad configuration.
        """
        guarded(self._sweep, what=f"prepare {self.spec.path}", retry=self.spec.retry)

    def plan(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """The lazy cloud sink node writing ``frame`` under the temporary key."""
        self._written = True
        return self.sink(frame, self.location.url(self.temp_key))

    def sink(self, frame: pl.LazyFrame, url: str) -> pl.LazyFrame:
        """Polars' lazy sink for ``frame`` into ``url``."""
        raise NotImplementedError

    def commit(self) -> None:
        """Copy the temporary object onto the output key (atomic per object), then delete it.

        Raises:
            OutputWriteError: nothing was written, or the store refused the copy.
        """
        import obstore

        if not self._written:
            raise OutputWriteError(
                f"nothing was written for {self.spec.path}",
                hint="the output's plan was not run before commit",
                output=self.name,
            )
        guarded(
            lambda: obstore.copy(self.store, self.temp_key, self.location.key),
            what=f"publish {self.spec.path}",
            retry=self.spec.retry,
        )
        self._written = False  # the writer has finished: one delete of the temporary key
        self._delete_temp()

    def abort(self) -> None:
        """Delete the temporary object; the output (old or absent) is left as it was.

        A cloud writer still finishing when the run failed may complete its upload just
        after a first delete, so the key is checked again for a moment; anything left is
        swept by the next run's :meth:`open`.
        """
        if self._store is None or not self._written:
            return
        self._written = False
        for _ in range(20):  # about a second: long enough for a writer's last part
            self._delete_temp()
            time.sleep(0.05)

    def _delete_temp(self) -> bool:
        """Delete the temporary key; whether it was there."""
        import obstore
        from obstore.exceptions import BaseError, NotFoundError

        try:
            obstore.head(self.store, self.temp_key)
        except NotFoundError:
            return False
        except (BaseError, OSError):  # the store is away: nothing is visible anyway
            return False
        try:
            obstore.delete(self.store, self.temp_key)
        except (BaseError, OSError):
            return False
        return True

    def _sweep(self) -> None:
        """Remove this output's temporary objects left by runs that were killed."""
        import obstore

        mine = f"/{self.location.key}"
        leftovers = [
            str(meta["path"])
            for chunk in obstore.list(self.store, prefix=TEMP_PREFIX)
            for meta in chunk
            if str(meta["path"]).endswith(mine) and str(meta["path"]) != self.temp_key
        ]
        for key in leftovers:
            obstore.delete(self.store, key)

    def describe(self) -> str:
        return f"{self.format_name}:{self.spec.path}"


class ParquetObjectSink(ObjectSink):
    """Parquet objects with the spec's compression."""

    format_name = "parquet"

    def sink(self, frame: pl.LazyFrame, url: str) -> pl.LazyFrame:
        node = frame.sink_parquet(
            url,
            compression=self.spec.compression,
            storage_options=self.spec.storage_options,
            lazy=True,
        )
        assert node is not None
        return node


class CsvObjectSink(ObjectSink):
    """CSV objects with the spec's delimiter, header and quote character (UTF-8)."""

    format_name = "csv"

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        if spec.encoding.lower().replace("-", "") not in ("utf8", "utf8lossy"):
            raise OutputWriteError(
                f"CSV objects are written as UTF-8, not {spec.encoding}",
                hint="drop `encoding`, or write to a local file",
                output=name,
            )

    def sink(self, frame: pl.LazyFrame, url: str) -> pl.LazyFrame:
        node = frame.sink_csv(
            url,
            **csv_write_options(self.spec),
            storage_options=self.spec.storage_options,
            check_extension=False,
            lazy=True,
        )
        assert node is not None
        return node


class NdjsonObjectSink(ObjectSink):
    """NDJSON objects, one JSON object per row."""

    format_name = "ndjson"

    def sink(self, frame: pl.LazyFrame, url: str) -> pl.LazyFrame:
        node = frame.sink_ndjson(
            url, storage_options=self.spec.storage_options, check_extension=False, lazy=True
        )
        assert node is not None
        return node
