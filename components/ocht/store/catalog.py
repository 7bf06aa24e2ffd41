"""Pipelines as versioned resources, each in one tenant.

A pipeline is stored as data (the document the CLI reads), never as code. Every change
adds a new immutable version with its content hash; a pipeline is ``draft`` until a version
is activated, ``active`` then, ``archived`` once deleted (its versions are kept).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ocht.store import Catalog, Store
    >>> store = Store(base_dir=Path(tempfile.mkdtemp()))
    >>> catalog = Catalog(store)
    >>> p, v = catalog.create_pipeline("acme", {"name": "orders", "inputs": {}, "outputs": {}})
    >>> p.status, v.version
    ('draft', 1)
    >>> store.close()
"""

from __future__ import annotations

import hashlib
import json
import math
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ocht.store.catalog_tables import pipeline_versions, pipelines, tenants
from ocht.store.engine import redact_text
from ocht.store.errors import InvalidStoreValue, PipelineConflict, PipelineNotFound, StoreError

if TYPE_CHECKING:
    from ocht.store.store import Store

PipelineStatus = Literal["draft", "active", "archived"]
PIPELINE_STATUSES: tuple[str, ...] = ("draft", "active", "archived")


def now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def utc(value: datetime | None) -> datetime | None:
    """Datetimes come back naive from SQLite: they were written as UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def document_hash(document: Mapping[str, Any]) -> str:
    """SHA-256 of a document's canonical JSON (sorted keys, no spaces).

    Example:
        >>> document_hash({"b": 1, "a": 2}) == document_hash({"a": 2, "b": 1})
        True
    """
    blob = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def check_text(value: Any, what: str) -> Any:
    """``value`` if every string in it (keys included) can be stored, and every number.

    PostgreSQL's text and JSONB refuse the NUL character, and no database takes a lone
    surrogate; either is bad input, refused here rather than by the driver.

    Raises:
        InvalidStoreValue: a string holds NUL or is not valid Unicode.
    """
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidStoreValue(f"{what} holds a NUL character, which cannot be stored")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise InvalidStoreValue(f"{what} holds text that is not valid Unicode") from None
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidStoreValue(f"{what} holds {value}, which is not a JSON number")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            check_text(k, what)
            check_text(v, what)
    elif isinstance(value, list | tuple):
        for v in value:
            check_text(v, what)
    return value


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """One transaction; a database error becomes :class:`StoreError` (redacted)."""
    try:
        with engine.begin() as conn:
            yield conn
    except IntegrityError:
        raise
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip()
        raise StoreError(f"store operation failed: {redact_text(reason)}") from None


def ensure_tenant(conn: sa.Connection, tenant: str) -> None:
    """Record ``tenant`` if it is new.

    It writes first (in a savepoint) rather than reading first: on SQLite a transaction
    that reads and then writes can be refused at once while another one writes.
    """
    try:
        with conn.begin_nested():
            conn.execute(tenants.insert().values(tenant=tenant, created_at=now()))
    except IntegrityError:
        pass  # known already


@dataclass(frozen=True)
class PipelineRecord:
    """A pipeline resource: its name in a tenant, its status and versions.

    Attributes:
        pipeline_id: the store's id for it.
        tenant: the tenant it belongs to.
        name: its name (unique in the tenant).
        status: ``draft``, ``active`` or ``archived``.
        latest_version: the newest version's number.
        active_version: the version activated, if any.
        created_at: when it was created (UTC).
        updated_at: when it last changed (UTC).
    """

    pipeline_id: str
    tenant: str
    name: str
    status: PipelineStatus
    latest_version: int
    active_version: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class VersionRecord:
    """One immutable version of a pipeline: the document and its content hash."""

    pipeline_id: str
    version: int
    content_hash: str
    document: dict[str, Any]
    created_at: datetime
    created_by: str | None


class Catalog:
    """Pipelines and their versions, tenant by tenant, in a :class:`~ocht.store.Store`.

    Every method takes the tenant: a pipeline of another tenant is not found.
    """

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def create_pipeline(
        self, tenant: str, document: Mapping[str, Any], *, created_by: str | None = None
    ) -> tuple[PipelineRecord, VersionRecord]:
        """A new draft pipeline named by ``document["name"]``, at version 1.

        Raises:
            PipelineConflict: the tenant has a pipeline of that name already.
        """
        check_text(document, "the document")
        name = str(document.get("name", ""))
        stamp = now()
        pid = uuid.uuid4().hex
        try:
            with transaction(self.engine) as conn:
                ensure_tenant(conn, tenant)
                conn.execute(
                    pipelines.insert().values(
                        pipeline_id=pid,
                        tenant=tenant,
                        name=name,
                        status="draft",
                        latest_version=1,
                        active_version=None,
                        created_at=stamp,
                        updated_at=stamp,
                    )
                )
                self._insert_version(conn, pid, 1, document, created_by, stamp)
        except IntegrityError:
            raise PipelineConflict(
                f"a pipeline named '{name}' exists already",
                hint="update it with PUT to add a version",
            ) from None
        return self.pipeline(tenant, name), self.version(tenant, name)

    def add_version(
        self, tenant: str, name: str, document: Mapping[str, Any], *, created_by: str | None = None
    ) -> VersionRecord:
        """A new version of ``name`` (the latest one when the document did not change).

        Raises:
            PipelineNotFound: the tenant has no such pipeline.
            PipelineConflict: the pipeline is archived.
        """
        check_text(document, "the document")
        current = self.pipeline(tenant, name)
        if current.status == "archived":
            raise PipelineConflict(f"pipeline '{name}' is archived", code="pipeline-archived")
        latest = self.version(tenant, name)
        if latest.content_hash == document_hash(document):
            return latest
        stamp = now()
        try:
            with transaction(self.engine) as conn:
                number = current.latest_version + 1
                done = conn.execute(
                    pipelines.update()
                    .where(
                        pipelines.c.pipeline_id == current.pipeline_id,
                        pipelines.c.latest_version == current.latest_version,
                    )
                    .values(latest_version=number, updated_at=stamp)
                )
                if done.rowcount == 0:
                    raise PipelineConflict(
                        f"pipeline '{name}' changed meanwhile", hint="read it again and retry"
                    )
                self._insert_version(conn, current.pipeline_id, number, document, created_by, stamp)
        except IntegrityError:
            raise PipelineConflict(
                f"pipeline '{name}' changed meanwhile", hint="read it again and retry"
            ) from None
        return self.version(tenant, name, number)

    def pipelines(
        self,
        tenant: str,
        *,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> list[PipelineRecord]:
        """The tenant's pipelines by name (archived ones only when asked by ``status``)."""
        query = sa.select(pipelines).where(pipelines.c.tenant == tenant)
        if status is None:
            query = query.where(pipelines.c.status != "archived")
        else:
            query = query.where(pipelines.c.status == status)
        query = query.order_by(pipelines.c.name).limit(limit).offset(offset)
        with transaction(self.engine) as conn:
            return [_pipeline(r) for r in conn.execute(query).mappings()]

    def pipeline(self, tenant: str, name: str) -> PipelineRecord:
        """One pipeline of the tenant by name.

        Raises:
            PipelineNotFound: there is none (in this tenant).
        """
        with transaction(self.engine) as conn:
            row = (
                conn.execute(
                    sa.select(pipelines).where(
                        pipelines.c.tenant == tenant, pipelines.c.name == name
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise PipelineNotFound(f"no pipeline named '{name}'")
        return _pipeline(row)

    def version(self, tenant: str, name: str, version: int | None = None) -> VersionRecord:
        """A version of the pipeline (the latest by default).

        Raises:
            PipelineNotFound: no such pipeline or version (in this tenant).
        """
        current = self.pipeline(tenant, name)
        number = current.latest_version if version is None else version
        with transaction(self.engine) as conn:
            row = (
                conn.execute(
                    sa.select(pipeline_versions).where(
                        pipeline_versions.c.pipeline_id == current.pipeline_id,
                        pipeline_versions.c.version == number,
                    )
                )
                .mappings()
                .first()
            )
        if row is None:
            raise PipelineNotFound(f"pipeline '{name}' has no version {number}")
        return _version(row)

    def versions(self, tenant: str, name: str) -> list[VersionRecord]:
        """Every version of the pipeline, oldest first."""
        current = self.pipeline(tenant, name)
        t = pipeline_versions
        query = sa.select(t).where(t.c.pipeline_id == current.pipeline_id).order_by(t.c.version)
        with transaction(self.engine) as conn:
            return [_version(r) for r in conn.execute(query).mappings()]

    def activate(self, tenant: str, name: str, version: int) -> PipelineRecord:
        """Make ``version`` the active one.

        Raises:
            PipelineNotFound: no such pipeline or version.
            PipelineConflict: the pipeline is archived.
        """
        self.version(tenant, name, version)
        return self._set(tenant, name, status="active", active_version=version)

    def archive(self, tenant: str, name: str) -> PipelineRecord:
        """Archive the pipeline (its versions and runs are kept)."""
        self.pipeline(tenant, name)
        return self._set(tenant, name, status="archived", allow_archived=True)

    def _set(
        self, tenant: str, name: str, *, allow_archived: bool = False, **values: Any
    ) -> PipelineRecord:
        current = self.pipeline(tenant, name)
        if current.status == "archived" and not allow_archived:
            raise PipelineConflict(f"pipeline '{name}' is archived", code="pipeline-archived")
        with transaction(self.engine) as conn:
            conn.execute(
                pipelines.update()
                .where(pipelines.c.pipeline_id == current.pipeline_id)
                .values(updated_at=now(), **values)
            )
        return self.pipeline(tenant, name)

    @staticmethod
    def _insert_version(
        conn: sa.Connection,
        pid: str,
        number: int,
        document: Mapping[str, Any],
        created_by: str | None,
        stamp: datetime,
    ) -> None:
        conn.execute(
            pipeline_versions.insert().values(
                pipeline_id=pid,
                version=number,
                content_hash=document_hash(document),
                document=dict(document),
                created_at=stamp,
                created_by=created_by,
            )
        )


def _pipeline(row: Mapping[Any, Any]) -> PipelineRecord:
    return PipelineRecord(
        pipeline_id=row["pipeline_id"],
        tenant=row["tenant"],
        name=row["name"],
        status=row["status"],
        latest_version=int(row["latest_version"]),
        active_version=row["active_version"],
        created_at=utc(row["created_at"]) or now(),
        updated_at=utc(row["updated_at"]) or now(),
    )


def _version(row: Mapping[Any, Any]) -> VersionRecord:
    return VersionRecord(
        pipeline_id=row["pipeline_id"],
        version=int(row["version"]),
        content_hash=row["content_hash"],
        document=dict(row["document"]),
        created_at=utc(row["created_at"]) or now(),
        created_by=row["created_by"],
    )
