"""Schedules, queued runs (jobs), backfills and run origins, kept beside the runs.

:class:`SchedulingStore` works on a :class:`~ocht.store.Store`'s engine (SQLite or
PostgreSQL). On SQLite it is also the local queue: :meth:`SchedulingStore.claim` takes the
oldest startable job in one ``UPDATE ... RETURNING`` statement, so two worker processes on
one machine never take the same job, and a job whose lock is held waits.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ocht.store import Store, SchedulingStore
    >>> with Store(base_dir=Path(tempfile.mkdtemp())) as store:
    ...     jobs = SchedulingStore(store)
    ...     _ = jobs.add_job(id="j1", pipeline="p", source="p.yaml", request={})
    ...     jobs.claim("host:1/0").id
    'j1'
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ocht.store.engine import redact_text
from ocht.store.errors import InvalidStoreValue, StoreError
from ocht.store.scheduling_records import (
    ACTIVE_JOB_STATUSES,
    JOB_STATUSES,
    BackfillRecord,
    JobRecord,
    RunOrigin,
    ScheduleRecord,
)
from ocht.store.scheduling_tables import backfills, jobs, run_origins, schedules

if TYPE_CHECKING:
    from ocht.store.store import Store


def _now() -> datetime:
    return datetime.now(UTC)


def _utc(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


class SchedulingStore:
    """Schedules, jobs, backfills and run origins in a store's database.

    Args:
        store: the run store whose database holds them.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self.engine = store.engine

    @contextmanager
    def _tx(self) -> Iterator[sa.Connection]:
        try:
            with self.engine.begin() as conn:
                yield conn
        except IntegrityError:
            raise
        except SQLAlchemyError as exc:
            raise StoreError(
                f"store operation failed: {redact_text(str(getattr(exc, 'orig', exc)))}",
                hint=f"store at {self._store.url}",
            ) from None

    # -- schedules -------------------------------------------------------------------------
    def add_schedule(
        self, name: str, *, pipeline: str, source: str, spec: Mapping[str, Any]
    ) -> ScheduleRecord | None:
        """Add a schedule; ``None`` when one with that name exists already."""
        try:
            with self._tx() as conn:
                conn.execute(
                    schedules.insert().values(
                        name=name,
                        pipeline=pipeline,
                        source=source,
                        spec=dict(spec),
                        paused=False,
                        created_at=_now(),
                    )
                )
        except IntegrityError:
            return None
        return self.schedule(name)

    def schedule(self, name: str) -> ScheduleRecord | None:
        """One schedule, or ``None``."""
        with self._tx() as conn:
            row = conn.execute(sa.select(schedules).where(schedules.c.name == name)).first()
        return _schedule(row._mapping) if row else None

    def schedules(self) -> list[ScheduleRecord]:
        """Every schedule, by name."""
        with self._tx() as conn:
            rows = conn.execute(sa.select(schedules).order_by(schedules.c.name)).all()
        return [_schedule(r._mapping) for r in rows]

    def update_schedule(self, name: str, **values: Any) -> bool:
        """Set ``paused``, ``last_fire_at`` or ``spec``; whether the schedule exists."""
        unknown = set(values) - {"paused", "last_fire_at", "spec"}
        if unknown:
            raise InvalidStoreValue(f"cannot update {', '.join(sorted(unknown))} of a schedule")
        with self._tx() as conn:
            done = conn.execute(schedules.update().where(schedules.c.name == name).values(**values))
        return bool(done.rowcount)

    def remove_schedule(self, name: str) -> bool:
        """Remove a schedule (its jobs stay as history); whether it existed."""
        with self._tx() as conn:
            done = conn.execute(schedules.delete().where(schedules.c.name == name))
        return bool(done.rowcount)

    # -- jobs ------------------------------------------------------------------------------
    def add_job(
        self,
        *,
        id: str,
        pipeline: str,
        source: str,
        request: Mapping[str, Any],
        schedule: str | None = None,
        backfill: str | None = None,
        period: Mapping[str, Any] | None = None,
        fire_at: datetime | None = None,
        lock: str | None = None,
        max_attempts: int = 1,
        backoff_s: float = 0.0,
        not_before: datetime | None = None,
        status: str = "queued",
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> JobRecord | None:
        """Queue a job (or record a ``skipped`` one); ``None`` if ``id`` exists already.

        Ids are stable (a schedule's fire, a backfill's period), so two schedulers that
        fire the same instant queue it once.
        """
        if status not in JOB_STATUSES:
            raise InvalidStoreValue(f"unknown job status '{status}'")
        now = _now()
        row = {
            "id": id,
            "pipeline": pipeline,
            "source": source,
            "request": dict(request),
            "schedule": schedule,
            "backfill": backfill,
            "period_key": (period or {}).get("key"),
            "period": dict(period) if period is not None else None,
            "fire_at": fire_at,
            "lock": lock,
            "status": status,
            "cancel_requested": False,
            "attempt": 0,
            "max_attempts": max(1, int(max_attempts)),
            "backoff_s": float(backoff_s),
            "not_before": not_before or now,
            "queued_at": now,
            "ended_at": None if status in ACTIVE_JOB_STATUSES else now,
            "error_code": error_code,
            "error_message": error_message,
        }
        try:
            with self._tx() as conn:
                conn.execute(jobs.insert().values(**row))
        except IntegrityError:
            return None
        return self.job(id)

    def job(self, job_id: str) -> JobRecord | None:
        """One job by id (or by a prefix only it has), or ``None``."""
        with self._tx() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).first()
            if row is None and job_id:
                like = job_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                found = conn.execute(
                    sa.select(jobs).where(jobs.c.id.like(f"{like}%", escape="\\")).limit(2)
                ).all()
                row = found[0] if len(found) == 1 else None
        return _job(row._mapping) if row else None

    def jobs(
        self,
        *,
        schedule: str | None = None,
        backfill: str | None = None,
        pipeline: str | None = None,
        statuses: Sequence[str] | None = None,
        limit: int | None = None,
    ) -> list[JobRecord]:
        """Jobs, oldest first (backfills: in period order)."""
        query = sa.select(jobs)
        if schedule is not None:
            query = query.where(jobs.c.schedule == schedule)
        if backfill is not None:
            query = query.where(jobs.c.backfill == backfill)
        if pipeline is not None:
            query = query.where(jobs.c.pipeline == pipeline)
        if statuses is not None:
            query = query.where(jobs.c.status.in_(list(statuses)))
        query = query.order_by(jobs.c.queued_at, jobs.c.period_key, jobs.c.id)
        if limit is not None:
            query = query.limit(limit)
        with self._tx() as conn:
            return [_job(r._mapping) for r in conn.execute(query).all()]

    def update_job(
        self,
        job_id: str,
        *,
        only_if: Sequence[str] | None = None,
        only_run: str | None = None,
        **values: Any,
    ) -> bool:
        """Change a job's fields (``only_if``: when its status is one of these;
        ``only_run``: when its latest attempt is still that run). Whether it changed."""
        if "error_message" in values and values["error_message"] is not None:
            values["error_message"] = redact_text(str(values["error_message"]))
        query = jobs.update().where(jobs.c.id == job_id)
        if only_if is not None:
            query = query.where(jobs.c.status.in_(list(only_if)))
        if only_run is not None:
            query = query.where(jobs.c.run_id == only_run)
        with self._tx() as conn:
            done = conn.execute(query.values(**values))
        return bool(done.rowcount)

    def claim(self, worker: str, *, now: datetime | None = None) -> JobRecord | None:
        """Take the oldest startable queued job for ``worker`` (the local queue).

        Startable: its ``not_before`` has passed, no cancel was asked for, and no running
        job, nor an older queued one, holds its lock. Runs one atomic statement.
        """
        now = now or _now()
        other = jobs.alias("other")
        blocked = sa.exists().where(
            other.c.lock == jobs.c.lock,
            other.c.id != jobs.c.id,
            sa.or_(
                other.c.status == "running",
                sa.and_(
                    other.c.status == "queued",
                    sa.or_(
                        other.c.queued_at < jobs.c.queued_at,
                        sa.and_(other.c.queued_at == jobs.c.queued_at, other.c.id < jobs.c.id),
                    ),
                ),
            ),
        )
        pick = (
            sa.select(jobs.c.id)
            .where(
                jobs.c.status == "queued",
                jobs.c.not_before <= now,
                jobs.c.cancel_requested == sa.false(),
                sa.or_(jobs.c.lock.is_(None), ~blocked),
            )
            .order_by(jobs.c.queued_at, jobs.c.id)
            .limit(1)
            .scalar_subquery()
        )
        query = (
            jobs.update()
            .where(jobs.c.id == pick, jobs.c.status == "queued")
            .values(status="running", worker=worker, started_at=now)
            .returning(jobs.c.id)
        )
        with self._tx() as conn:
            got = conn.execute(query).first()
        return self.job(str(got[0])) if got else None

    # -- backfills -------------------------------------------------------------------------
    def add_backfill(self, id: str, *, pipeline: str, spec: Mapping[str, Any]) -> BackfillRecord:
        """Record a backfill."""
        now = _now()
        with self._tx() as conn:
            conn.execute(
                backfills.insert().values(id=id, pipeline=pipeline, spec=dict(spec), created_at=now)
            )
        return BackfillRecord(id, pipeline, dict(spec), now)

    def backfill(self, backfill_id: str) -> BackfillRecord | None:
        """One backfill (by id or unique prefix), or ``None``."""
        with self._tx() as conn:
            rows = conn.execute(
                sa.select(backfills).where(backfills.c.id.startswith(backfill_id)).limit(2)
            ).all()
        if len(rows) != 1:
            return None
        r = rows[0]
        return BackfillRecord(r.id, r.pipeline, dict(r.spec), _utc(r.created_at) or _now())

    # -- run origins -----------------------------------------------------------------------
    def record_origin(self, origin: RunOrigin) -> None:
        """Write where a run came from as it starts."""
        with self._tx() as conn:
            conn.execute(
                run_origins.insert().values(
                    run_id=origin.run_id,
                    job_id=origin.job_id,
                    schedule=origin.schedule,
                    backfill=origin.backfill,
                    period_key=origin.period_key,
                    attempt=origin.attempt,
                    worker=origin.worker,
                    started_at=origin.started_at,
                    status=origin.status,
                )
            )

    def finish_origin(self, run_id: str, status: str) -> None:
        """Record how an attempt ended (an attempt already marked ``abandoned`` stays so)."""
        with self._tx() as conn:
            conn.execute(
                run_origins.update()
                .where(run_origins.c.run_id == run_id, run_origins.c.status == "running")
                .values(status=status, ended_at=_now())
            )

    def origins(
        self, *, job_id: str | None = None, run_ids: Sequence[str] | None = None
    ) -> list[RunOrigin]:
        """Run origins of one job, or of the runs named, oldest first."""
        query = sa.select(run_origins).order_by(run_origins.c.started_at, run_origins.c.attempt)
        if job_id is not None:
            query = query.where(run_origins.c.job_id == job_id)
        if run_ids is not None:
            query = query.where(run_origins.c.run_id.in_(list(run_ids)))
        with self._tx() as conn:
            rows = conn.execute(query).all()
        return [
            RunOrigin(
                r.run_id,
                r.job_id,
                r.schedule,
                r.backfill,
                r.period_key,
                int(r.attempt),
                r.worker,
                _utc(r.started_at) or _now(),
                _utc(r.ended_at),
                r.status,
            )
            for r in rows
        ]


def _schedule(row: Mapping[Any, Any]) -> ScheduleRecord:
    return ScheduleRecord(
        name=row["name"],
        pipeline=row["pipeline"],
        source=row["source"],
        spec=dict(row["spec"] or {}),
        paused=bool(row["paused"]),
        created_at=_utc(row["created_at"]) or _now(),
        last_fire_at=_utc(row["last_fire_at"]),
    )


def _job(row: Mapping[Any, Any]) -> JobRecord:
    return JobRecord(
        id=row["id"],
        pipeline=row["pipeline"],
        source=row["source"],
        request=dict(row["request"] or {}),
        schedule=row["schedule"],
        backfill=row["backfill"],
        period_key=row["period_key"],
        period=dict(row["period"]) if row["period"] is not None else None,
        fire_at=_utc(row["fire_at"]),
        lock=row["lock"],
        status=row["status"],
        cancel_requested=bool(row["cancel_requested"]),
        attempt=int(row["attempt"]),
        max_attempts=int(row["max_attempts"]),
        backoff_s=float(row["backoff_s"]),
        not_before=_utc(row["not_before"]) or _now(),
        queued_at=_utc(row["queued_at"]) or _now(),
        started_at=_utc(row["started_at"]),
        ended_at=_utc(row["ended_at"]),
        worker=row["worker"],
        run_id=row["run_id"],
        queue_ref=row["queue_ref"],
        error_code=row["error_code"],
        error_message=row["error_message"],
    )
