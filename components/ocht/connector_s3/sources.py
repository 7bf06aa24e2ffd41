"""Object-store inputs: Parquet read in place, text formats staged and read like local files.

Parquet is scanned straight from the store by Polars' cloud reader (projection and
row-group pruning, no local copy). CSV, NDJSON and JSON are streamed, object by object,
into the run's folder and read by the very same file sources as local files, so a CSV on
S3 and the same CSV on disk give the same rows, types, bad-line handling and dead letters.

With ``incremental: files`` an input reads only the objects it has not loaded before
(key + entity tag + size, remembered in the run store when the run commits).
"""

from __future__ import annotations

import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from ocht.connector_files import (
    CsvSource,
    FileLedger,
    FileSource,
    JsonSource,
    NdjsonSource,
)
from ocht.connector_s3.objects import Location, ObjectInfo, guarded, list_objects, open_store
from ocht.errors import OchtError, SourceUnreachable
from ocht.registry import RunContext, Source

_CHUNK = 8 * 1024 * 1024


class ObjectSource(Source):
    """Base of the object-store sources: listing, incremental selection, state."""

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self.location = Location.parse(spec.path)
        self._store: Any = None
        self._objects: list[ObjectInfo] | None = None
        self._ledger: FileLedger | None = None

    @property
    def store(self) -> Any:
        """The obstore store (opened on first use)."""
        if self._store is None:
            self._store = open_store(self.location, self.spec.storage_options)
        return self._store

    def objects(self) -> list[ObjectInfo]:
        """The objects this run reads (only new ones under ``incremental: files``).

        Raises:
            SourceUnreachable: nothing matches the URL (before any incremental filtering).
        """
        if self._objects is None:
            found = list_objects(self.store, self.location, retry=self.spec.retry)
            if not found:
                raise SourceUnreachable(
                    f"no object matches '{self.spec.path}'",
                    hint="check the bucket, the prefix and the pattern",
                    path=self.spec.path,
                )
            if self.spec.incremental == "files":
                self._ledger = FileLedger(self.context.state_of(self.name))
                found = [o for o in found if self._ledger.is_new(o.url, _signature(o))]
                for obj in found:
                    self._ledger.add(obj.url, _signature(obj))
            self._objects = found
        return self._objects

    def state(self) -> dict[str, Any] | None:
        """The files loaded so far, to store when the run commits (``incremental: files``)."""
        return self._ledger.state() if self._ledger is not None else None

    def file_counts(self) -> tuple[int, int] | None:
        """(new, skipped) objects under ``incremental: files``, else ``None``."""
        if self._ledger is None:
            return None
        return self._ledger.new, self._ledger.skipped

    def describe(self) -> str:
        return f"{self.spec.type}:{self.spec.path}"


class ParquetObjectSource(ObjectSource):
    """Parquet objects scanned in place (``pl.scan_parquet`` with ``storage_options``)."""

    def scan(self) -> pl.LazyFrame:
        objects = self.objects()
        if not objects:
            return pl.LazyFrame(schema=self._empty_schema())
        return pl.scan_parquet(
            [o.url for o in objects],
            storage_options=self.spec.storage_options,
            glob=False,
        )

    def schema(self) -> pl.Schema:
        return guarded(
            lambda: self.scan().collect_schema(),
            what=f"read the Parquet footer of {self.spec.path}",
            retry=self.spec.retry,
        )

    def _empty_schema(self) -> pl.Schema:
        # nothing new to load: the columns come from the newest object already loaded
        found = list_objects(self.store, self.location, retry=self.spec.retry)
        return pl.scan_parquet(
            found[-1].url, storage_options=self.spec.storage_options
        ).collect_schema()


class StagedObjectSource(ObjectSource):
    """Text objects copied into the run folder, then read by a local file source."""

    local_class: ClassVar[type[FileSource]]

    def __init__(self, spec: Any, *, name: str, context: RunContext) -> None:
        super().__init__(spec, name=name, context=context)
        self._workdir: Path | None = None
        self._local: FileSource | None = None

    def local(self) -> FileSource:
        """The local source over the staged copies (staging happens on first use)."""
        if self._local is None:
            objects = self.objects()
            if not objects:  # nothing new: the newest loaded object gives the columns
                objects = list_objects(self.store, self.location, retry=self.spec.retry)[-1:]
            folder = self._stage(objects)
            local_spec = self.spec.model_copy(update={"path": str(folder), "incremental": None})
            self._local = self.local_class(local_spec, name=self.name, context=self.context)
        return self._local

    def scan(self) -> pl.LazyFrame:
        frame = self.local().scan()
        return frame if self.objects() else frame.head(0)

    def schema(self) -> pl.Schema:
        return self.local().schema()

    def dead_letters(self) -> pl.LazyFrame | None:
        """The local source's dead letters, each position naming the object URL and line."""
        read = getattr(self.local(), "dead_letters", None)
        found: pl.LazyFrame | None = read() if read is not None else None
        if found is None or not self.objects():
            return found
        urls = {f"{i:05d}": o.url for i, o in enumerate(self.objects())}
        parts = pl.col("position").str.extract_groups(r"(\d{5})-[^/:]*:(\d+)$")
        return found.with_columns(
            pl.when(parts.struct.field("1").is_in(list(urls)))
            .then(
                pl.concat_str(
                    parts.struct.field("1").replace_strict(urls, default=None),
                    pl.lit(":"),
                    parts.struct.field("2"),
                )
            )
            .otherwise(pl.col("position"))
            .alias("position")
        )

    def explain_error(self, exc: BaseException) -> OchtError | None:
        """The local source's explanation of a read error, naming the object, not the copy."""
        found = self.local().explain_error(exc)
        if found is None or self._workdir is None:
            return found
        staged = re.compile(re.escape(str(self._workdir)) + r"/(\d{5})-[^/:\s]*")
        urls = {f"{i:05d}": o.url for i, o in enumerate(self.objects())}

        def named(text: str) -> str:
            return staged.sub(lambda m: urls.get(m.group(1), m.group(0)), text)

        found.message = named(found.message)
        found.args = (found.message,)
        found.details = {k: named(v) if isinstance(v, str) else v for k, v in found.details.items()}
        return found

    def close(self) -> None:
        """Remove the staged copies."""
        if self._local is not None:
            self._local.close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None
        self._local = None

    def _stage(self, objects: list[ObjectInfo]) -> Path:
        import obstore

        base = self.context.run_dir / "tmp"
        base.mkdir(parents=True, exist_ok=True)
        safe = re.sub(r"[^A-Za-z0-9_.-]", "_", self.name) or "input"
        self._workdir = Path(tempfile.mkdtemp(prefix=f"{safe}-objects-", dir=base))
        for i, obj in enumerate(objects):
            target = self._workdir / f"{i:05d}-{obj.key.rsplit('/', 1)[-1]}"

            def copy(obj: ObjectInfo = obj, target: Path = target) -> None:
                result = obstore.get(self.store, obj.key)
                with target.open("wb") as out:
                    for chunk in result.stream(min_chunk_size=_CHUNK):
                        out.write(chunk)

            guarded(copy, what=f"read {obj.url}", retry=self.spec.retry)
        return self._workdir


class CsvObjectSource(StagedObjectSource):
    """CSV objects, read exactly as local CSV files are."""

    local_class = CsvSource


class NdjsonObjectSource(StagedObjectSource):
    """NDJSON objects, read exactly as local NDJSON files are."""

    local_class = NdjsonSource


class JsonObjectSource(StagedObjectSource):
    """JSON-array objects, read exactly as local JSON files are."""

    local_class = JsonSource


def _signature(obj: ObjectInfo) -> str:
    return f"{obj.etag}:{obj.size}" if obj.etag else f"{obj.size}:{obj.modified}"
