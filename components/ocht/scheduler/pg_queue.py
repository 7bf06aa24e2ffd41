"""The run queue on PostgreSQL, through procrastinate.

Every job of the store's ``ocht_jobs`` table that must run is also a procrastinate job
(task ``ocht.run``, argument the job's id) in the same database. procrastinate brings
what a queue needs and Ocht does not re-invent: ``FOR UPDATE SKIP LOCKED`` fetching,
``LISTEN/NOTIFY`` wake-ups, per-job ``lock`` (jobs sharing a lock run one at a time, in
the order they were queued), ``schedule_at``, retries that keep the job's place, abort
requests, and worker heartbeats to find the jobs of a worker that died.

Workers: :func:`run_worker` (``ocht-worker runs``) on any number of machines pointed at
the database; each runs ``concurrency`` jobs at once, in threads, and every
``reap_every_s`` looks for jobs of workers whose heartbeat stopped. Such a job's attempt
is recorded ``abandoned`` and the job is retried by its policy (procrastinate's
``retry_job``, under the same lock, so the lost attempt and the new one never overlap:
the lost one is dead by then).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ocht.errors import OchtError
from ocht.observability import get_logger
from ocht.scheduler.errors import QueueUnavailable
from ocht.scheduler.execute import run_attempt
from ocht.scheduler.local_pool import abandon
from ocht.scheduler.spec import DEFAULT_QUEUE
from ocht.store import JobRecord, SchedulingStore, Store

if TYPE_CHECKING:
    import procrastinate

log = get_logger("ocht.scheduler")

TASK_NAME = "ocht.run"
POLL_S = 0.25  # the longest an idle worker can overlook a new job
_SCHEMA_LOCK = 0x0C47_5351  # serialises the schema's creation by concurrent workers


class RetryRun(Exception):
    """Raised by the task to ask procrastinate for another attempt later."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry in {seconds:g}s")
        self.seconds = seconds


def conninfo(store: Store) -> str:
    """The libpq connection string of a PostgreSQL store (for procrastinate)."""
    url = store.engine.url
    if url.get_backend_name() != "postgresql":
        raise QueueUnavailable(
            "the PostgreSQL queue needs a PostgreSQL store",
            hint="set OCHT_STORE_URL=postgresql://...; SQLite stores use the local pool",
        )
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def ensure_schema(store: Store) -> None:
    """Create procrastinate's tables in the store's database unless they exist."""
    import psycopg

    try:
        with psycopg.connect(conninfo(store), autocommit=True) as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            row = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()
            if row is None or row[0] is None:
                from procrastinate.schema import SchemaManager

                conn.execute(SchemaManager.get_schema())
    except psycopg.Error as exc:
        raise QueueUnavailable(f"cannot prepare the queue at {store.url}: {exc}") from None


def _retry_strategy() -> Any:
    from procrastinate import BaseRetryStrategy, RetryDecision

    class PolicyRetry(BaseRetryStrategy):
        """Retry exactly when the attempt said so, after the wait it computed."""

        def get_retry_decision(self, *, exception: BaseException, job: Any) -> Any:
            if isinstance(exception, RetryRun):
                return RetryDecision(retry_in={"seconds": max(0, round(exception.seconds))})
            return None

    return PolicyRetry()


class PgQueue:
    """Submits and cancels jobs on procrastinate (synchronous: the CLI and the scheduler).

    Args:
        store: a PostgreSQL run store; procrastinate's tables go in its database.
    """

    def __init__(self, store: Store) -> None:
        import procrastinate

        ensure_schema(store)
        self.book = SchedulingStore(store)
        self.app = procrastinate.App(
            connector=procrastinate.SyncPsycopgConnector(conninfo=conninfo(store))
        )
        self.app.open()

    def submit(self, job: JobRecord) -> None:
        """Put ``job`` on its queue (at ``not_before``, under its lock)."""
        queue = str(job.request.get("queue") or DEFAULT_QUEUE)
        ref = self.app.configure_task(
            TASK_NAME,
            allow_unknown=True,
            queue=queue,
            lock=job.lock,
            schedule_at=job.not_before,
        ).defer(job_id=job.id)
        self.book.update_job(job.id, queue_ref=int(ref))

    def cancel(self, job: JobRecord) -> None:
        """Cancel a waiting job, or ask its worker to abort a running one."""
        if job.queue_ref is not None:
            self.app.job_manager.cancel_job_by_id(int(job.queue_ref), abort=True)

    def close(self) -> None:
        """Release the connections."""
        self.app.close()


def _build_worker_app(store: Store, home: str | None) -> procrastinate.App:
    import procrastinate
    from procrastinate.exceptions import JobAborted

    book = SchedulingStore(store)
    app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=conninfo(store)))
    me = f"{socket.gethostname()}:{os.getpid()}"

    @app.task(name=TASK_NAME, pass_context=True, retry=_retry_strategy())
    def ocht_run(context: Any, job_id: str) -> str:
        job = book.job(job_id)
        if job is None or job.status != "queued":
            return "gone"  # cancelled or finished meanwhile: nothing to run
        if job.cancel_requested:
            book.update_job(job.id, status="cancelled", ended_at=datetime.now(UTC))
            raise JobAborted("cancelled before it started")
        outcome = run_attempt(
            store,
            book,
            job,
            worker=f"{me}/{context.job.id}",
            home=home,
            aborted=context.should_abort,
        )
        if outcome.retry_in is not None:
            raise RetryRun(outcome.retry_in)
        if outcome.status == "cancelled":
            raise JobAborted(outcome.error_message or "cancelled")
        return outcome.status  # a failed run is a handled job: its story is in ocht_jobs

    return app


async def _reap(app: procrastinate.App, store: Store, stalled_s: float) -> list[str]:
    """Jobs of workers whose heartbeat stopped: abandoned, retried by policy."""
    from procrastinate.jobs import Status

    book = SchedulingStore(store)
    found: list[str] = []
    stalled = await app.job_manager.get_stalled_jobs(
        task_name=TASK_NAME, seconds_since_heartbeat=stalled_s
    )
    for qjob in stalled:
        job_id = str(qjob.task_kwargs.get("job_id"))
        job = book.job(job_id)
        next_status = "abandoned"
        if job is not None and job.status == "running":
            reason = f"worker {job.worker} stopped sending heartbeats mid-run"
            next_status = await asyncio.to_thread(abandon, store, book, job, reason)
        if next_status == "queued":
            again = book.job(job_id)
            await app.job_manager.retry_job(qjob, retry_at=again.not_before if again else None)
        else:
            await app.job_manager.finish_job(qjob, status=Status.FAILED, delete_job=False)
        found.append(job_id)
    if stalled:
        await app.job_manager.prune_stalled_workers(seconds_since_heartbeat=stalled_s)
    return found


def run_worker(
    store: Store,
    *,
    concurrency: int = 1,
    queues: list[str] | None = None,
    home: str | None = None,
    wait: bool = True,
    heartbeat_s: float = 10.0,
    stalled_s: float = 30.0,
    reap_every_s: float = 10.0,
    install_signal_handlers: bool = True,
) -> None:
    """Run jobs from PostgreSQL until a signal stops the worker (or, ``wait=False``, until idle).

    Args:
        store: a PostgreSQL run store (the queue lives in its database).
        concurrency: jobs this worker runs at once (threads).
        queues: the queues to take jobs from (default: ``ocht``).
        home: the folder for run data.
        wait: keep waiting for jobs; ``False`` stops once the queue is empty.
        heartbeat_s: how often this worker says it is alive.
        stalled_s: a worker silent this long is taken for dead; its jobs are retried.
        reap_every_s: how often to look for such jobs.
        install_signal_handlers: SIGTERM/SIGINT stop the worker gracefully.
    """
    ensure_schema(store)
    app = _build_worker_app(store, home)

    async def main() -> None:
        async with app.open_async():

            async def reaper() -> None:
                while True:
                    try:
                        await _reap(app, store, stalled_s)
                    except (OchtError, OSError) as exc:
                        log.warning("queue.reap_failed", error=str(exc))
                    await asyncio.sleep(reap_every_s)

            side = asyncio.create_task(reaper())
            try:
                await app.run_worker_async(
                    queues=queues or [DEFAULT_QUEUE],
                    concurrency=concurrency,
                    wait=wait,
                    name=f"ocht-{socket.gethostname()}-{os.getpid()}",
                    install_signal_handlers=install_signal_handlers,
                    update_heartbeat_interval=heartbeat_s,
                    stalled_worker_timeout=stalled_s,
                    # procrastinate can miss a NOTIFY that lands while it clears its
                    # wake-up event after an empty fetch: a short poll bounds that wait
                    fetch_job_polling_interval=POLL_S,
                    abort_job_polling_interval=0.5,
                    listen_notify=True,
                )
            finally:
                side.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await side

    asyncio.run(main())


def reap(store: Store, stalled_s: float = 30.0) -> list[str]:
    """One look for abandoned jobs (the scheduler process calls this)."""
    app = _build_worker_app(store, None)

    async def main() -> list[str]:
        async with app.open_async():
            return await _reap(app, store, stalled_s)

    return asyncio.run(main())
