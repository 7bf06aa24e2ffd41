"""Putting jobs on the queue and taking them off: one seam, two queues.

On PostgreSQL the queue is procrastinate (:class:`~ocht.scheduler.pg_queue.PgQueue`);
on the embedded SQLite store the jobs table itself is the queue (:class:`LocalQueue`,
run by :class:`~ocht.scheduler.local_pool.LocalPool`). Either way a job is first a row
in the store (what the CLI, the API and ``ocht runs`` read), then a queue entry.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Protocol

from ocht.scheduler.errors import JobNotFound
from ocht.store import JobRecord, SchedulingStore, Store


class Queue(Protocol):
    """Where jobs wait for a worker."""

    def submit(self, job: JobRecord) -> None:
        """Make ``job`` visible to workers."""

    def cancel(self, job: JobRecord) -> None:
        """Withdraw a waiting ``job``, or ask its worker to abort it."""

    def close(self) -> None:
        """Release what the queue holds."""


class LocalQueue:
    """The embedded store's queue: the jobs table is all there is."""

    def submit(self, job: JobRecord) -> None:
        """Nothing to do: workers claim rows from the jobs table."""

    def cancel(self, job: JobRecord) -> None:
        """Nothing to do: workers watch the job's cancel flag."""

    def close(self) -> None:
        """Nothing to release."""


def uses_postgres(store: Store) -> bool:
    """Whether ``store`` lives on PostgreSQL (so runs go through procrastinate)."""
    return store.engine.url.get_backend_name() == "postgresql"


def open_queue(store: Store) -> Queue:
    """The queue for ``store``: procrastinate on PostgreSQL, the local queue on SQLite."""
    if uses_postgres(store):
        from ocht.scheduler.pg_queue import PgQueue

        return PgQueue(store)
    return LocalQueue()


def enqueue(store: Store, queue: Queue, **fields: Any) -> JobRecord | None:
    """Add a job row and submit it; ``None`` (nothing submitted) if its id exists already."""
    job = SchedulingStore(store).add_job(**fields)
    if job is not None and job.status == "queued":
        queue.submit(job)
    return job


def cancel_job(store: Store, job_id: str, queue: Queue | None = None) -> JobRecord:
    """Cancel a job: a queued one never starts, a running one is told to stop.

    A running run sees the cancel within a fraction of a second, commits nothing and is
    recorded ``cancelled``; a finished job is left as it is.

    Raises:
        JobNotFound: no job has ``job_id`` (or a unique prefix of it).
    """
    book = SchedulingStore(store)
    job = book.job(job_id)
    if job is None:
        raise JobNotFound(f"no queued run with id '{job_id}'", hint="see `ocht schedule list`")
    own = queue is None
    queue = queue or open_queue(store)
    try:
        if job.status == "queued" and book.update_job(
            job.id,
            only_if=["queued"],
            status="cancelled",
            cancel_requested=True,
            ended_at=datetime.now(UTC),
            error_code="cancelled",
            error_message="cancelled before it started",
        ):
            queue.cancel(job)
        elif job.status in ("queued", "running"):
            book.update_job(job.id, cancel_requested=True)
            queue.cancel(job)
    finally:
        if own:
            queue.close()
    found = book.job(job.id)
    assert found is not None
    return found
