"""Run requests: who asked for a run, in which tenant, of which pipeline version.

A request is written when a run is submitted (status ``queued``), before the executor
writes the run's manifest; it follows the run to ``running`` and to its final status
(``cancelled`` included). Runs the executor recorded without a request (a stream worker's,
a CLI run against the same store) belong to the default tenant.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ocht.store import RunRequests, Store
    >>> store = Store(base_dir=Path(tempfile.mkdtemp()))
    >>> requests = RunRequests(store)
    >>> r = requests.add(tenant="acme", pipeline_id="p1", pipeline="orders", version=1)
    >>> requests.set_status(r.run_id, "cancelled").status
    'cancelled'
    >>> store.close()
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ocht.store import tables
from ocht.store.catalog import check_text, ensure_tenant, now, transaction, utc
from ocht.store.catalog_tables import run_requests
from ocht.store.engine import redact_text
from ocht.store.errors import InvalidStoreValue, RunNotFound

if TYPE_CHECKING:
    from ocht.store.store import Store

#: Every status a requested run can have, ``queued`` and ``cancelled`` included.
REQUEST_STATUSES: tuple[str, ...] = (
    "queued",
    "running",
    "succeeded",
    "failed",
    "partial",
    "cancelled",
    "abandoned",
)
REQUEST_FINAL: tuple[str, ...] = ("succeeded", "failed", "partial", "cancelled", "abandoned")


@dataclass(frozen=True)
class RunRequest:
    """A run as the API knows it.

    Attributes:
        run_id: the run's id (the executor's manifest has the same id).
        tenant: the tenant it belongs to.
        pipeline_id: the store's id of the pipeline (empty for runs without a request).
        pipeline: the pipeline's name.
        version: the pipeline version run (0 for runs without a request).
        profile: the profile applied.
        variables: the variables given.
        sandbox: where a draft run's outputs went (``None`` for a real run).
        status: one of :data:`REQUEST_STATUSES`.
        submitted_at: when it was asked for (UTC).
        submitted_by: who asked (a key's prefix or a token's subject).
        rerun_of: the run it repeats, if any.
        error_code: the error's stable code when it failed.
        error_message: the error's message (redacted).
        ended_at: when it ended (UTC).
    """

    run_id: str
    tenant: str
    pipeline_id: str
    pipeline: str
    version: int
    profile: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    sandbox: str | None = None
    status: str = "queued"
    submitted_at: datetime | None = None
    submitted_by: str | None = None
    rerun_of: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    ended_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (dates as ISO 8601)."""
        out = asdict(self)
        for name in ("submitted_at", "ended_at"):
            value = out[name]
            out[name] = value.isoformat() if value is not None else None
        return out


class RunRequests:
    """Run requests kept in a :class:`~ocht.store.Store`."""

    def __init__(self, store: Store) -> None:
        self.engine = store.engine

    def add(
        self,
        *,
        tenant: str,
        pipeline_id: str,
        pipeline: str,
        version: int,
        profile: str | None = None,
        variables: Mapping[str, Any] | None = None,
        sandbox: str | None = None,
        submitted_by: str | None = None,
        rerun_of: str | None = None,
        run_id: str | None = None,
    ) -> RunRequest:
        """Record a submitted run (status ``queued``).

        Raises:
            InvalidStoreValue: a value that cannot be stored (NUL, invalid Unicode).
        """
        check_text([profile, submitted_by, dict(variables or {})], "the run's options")
        rid = run_id or uuid.uuid4().hex
        with transaction(self.engine) as conn:
            ensure_tenant(conn, tenant)
            conn.execute(
                run_requests.insert().values(
                    run_id=rid,
                    tenant=tenant,
                    pipeline_id=pipeline_id,
                    pipeline=pipeline,
                    version=version,
                    profile=profile,
                    variables=dict(variables or {}),
                    sandbox=sandbox,
                    status="queued",
                    submitted_at=now(),
                    submitted_by=submitted_by,
                    rerun_of=rerun_of,
                )
            )
        return self.get(rid)

    def set_status(
        self,
        run_id: str,
        status: str,
        *,
        error_code: str | None = None,
        error_message: str | None = None,
        only_from: tuple[str, ...] | None = None,
    ) -> RunRequest:
        """Move a request to ``status`` (from one of ``only_from`` when given).

        Raises:
            InvalidStoreValue: an unknown status.
            RunNotFound: no request has ``run_id``.
        """
        if status not in REQUEST_STATUSES:
            raise InvalidStoreValue(f"unknown run status '{status}'")
        values: dict[str, Any] = {"status": status}
        if status in REQUEST_FINAL:
            values["ended_at"] = now()
        if error_code is not None:
            values["error_code"] = error_code
        if error_message is not None:
            values["error_message"] = redact_text(error_message)
        query = run_requests.update().where(run_requests.c.run_id == run_id)
        if only_from is not None:
            query = query.where(run_requests.c.status.in_(only_from))
        with transaction(self.engine) as conn:
            conn.execute(query.values(**values))
        return self.get(run_id)

    def discard(self, run_id: str) -> None:
        """Forget a request that was never accepted (its run never existed)."""
        with transaction(self.engine) as conn:
            conn.execute(run_requests.delete().where(run_requests.c.run_id == run_id))

    def get(
        self, run_id: str, *, tenant: str | None = None, default_tenant: str | None = None
    ) -> RunRequest:
        """One run by id, in ``tenant`` when given.

        Runs without a request are found too when ``tenant`` is ``default_tenant``.

        Raises:
            RunNotFound: no such run (in that tenant).
        """
        with transaction(self.engine) as conn:
            row = (
                conn.execute(sa.select(run_requests).where(run_requests.c.run_id == run_id))
                .mappings()
                .first()
            )
        if row is not None and (tenant is None or row["tenant"] == tenant):
            return _request(row)
        if row is None and tenant is not None and tenant == default_tenant:
            for found in self._unrequested(tenant, run_id=run_id, limit=1):
                return found
        raise RunNotFound(f"no run with id '{run_id}'")

    def stale(self, limit: int = 1000) -> list[RunRequest]:
        """Requests still ``running`` (in any tenant), oldest first."""
        t = run_requests
        query = sa.select(t).where(t.c.status == "running").order_by(t.c.submitted_at)
        with transaction(self.engine) as conn:
            return [_request(r) for r in conn.execute(query.limit(limit)).mappings()]

    def find(
        self,
        tenant: str,
        *,
        pipeline: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
        offset: int = 0,
        default_tenant: str | None = None,
    ) -> list[RunRequest]:
        """The tenant's runs, newest first, filtered by pipeline name, status and time.

        Args:
            tenant: the tenant asking.
            pipeline: only runs of this pipeline.
            status: only runs with this status.
            since: only runs submitted at or after this time.
            until: only runs submitted before this time.
            limit: at most this many.
            offset: skip this many first.
            default_tenant: when it is ``tenant``, runs without a request are included.
        """
        if status is not None and status not in REQUEST_STATUSES:
            raise InvalidStoreValue(
                f"unknown run status '{status}'", hint=f"use one of {', '.join(REQUEST_STATUSES)}"
            )
        t = run_requests
        query = sa.select(t).where(t.c.tenant == tenant)
        if pipeline is not None:
            query = query.where(t.c.pipeline == pipeline)
        if status is not None:
            query = query.where(t.c.status == status)
        if since is not None:
            query = query.where(t.c.submitted_at >= since)
        if until is not None:
            query = query.where(t.c.submitted_at < until)
        query = query.order_by(t.c.submitted_at.desc(), t.c.run_id.desc()).limit(limit + offset)
        with transaction(self.engine) as conn:
            found = [_request(r) for r in conn.execute(query).mappings()]
        if default_tenant is not None and tenant == default_tenant:
            found += self._unrequested(
                tenant,
                pipeline=pipeline,
                status=status,
                since=since,
                until=until,
                limit=limit + offset,
            )
            found.sort(key=lambda r: (r.submitted_at or now(), r.run_id), reverse=True)
        return found[offset : offset + limit]

    def _unrequested(
        self,
        tenant: str,
        *,
        run_id: str | None = None,
        pipeline: str | None = None,
        status: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 50,
    ) -> list[RunRequest]:
        """Runs in the executor's manifest table that no request names."""
        r = tables.runs
        query = sa.select(r).where(~r.c.run_id.in_(sa.select(run_requests.c.run_id)))
        if run_id is not None:
            query = query.where(r.c.run_id == run_id)
        if pipeline is not None:
            query = query.where(r.c.pipeline == pipeline)
        if status is not None:
            query = query.where(r.c.status == status)
        if since is not None:
            query = query.where(r.c.started_at >= since)
        if until is not None:
            query = query.where(r.c.started_at < until)
        query = query.order_by(r.c.started_at.desc()).limit(limit)
        with transaction(self.engine) as conn:
            rows = conn.execute(query).mappings().all()
        return [
            RunRequest(
                run_id=row["run_id"],
                tenant=tenant,
                pipeline_id="",
                pipeline=row["pipeline"],
                version=0,
                profile=row["profile"],
                status=row["status"],
                submitted_at=utc(row["started_at"]),
                error_code=row["error_code"],
                error_message=row["error_message"],
                ended_at=utc(row["ended_at"]),
            )
            for row in rows
        ]


def _request(row: Mapping[Any, Any]) -> RunRequest:
    return RunRequest(
        run_id=row["run_id"],
        tenant=row["tenant"],
        pipeline_id=row["pipeline_id"],
        pipeline=row["pipeline"],
        version=int(row["version"]),
        profile=row["profile"],
        variables=dict(row["variables"] or {}),
        sandbox=row["sandbox"],
        status=row["status"],
        submitted_at=utc(row["submitted_at"]),
        submitted_by=row["submitted_by"],
        rerun_of=row["rerun_of"],
        error_code=row["error_code"],
        error_message=row["error_message"],
        ended_at=utc(row["ended_at"]),
    )
