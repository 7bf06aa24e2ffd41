"""The local pool: the same queue semantics on the embedded store, on one machine.

With a SQLite store there is no queue server: the store's jobs table is the queue. Each
of the pool's threads claims the oldest startable job in one atomic statement (a held
lock makes a job wait, as on PostgreSQL), runs it through :func:`run_attempt`, and
records the outcome. A job whose worker process died (same host, pid gone) is found
abandoned by the next pool or scheduler that looks, and retried by its policy.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from datetime import UTC, datetime, timedelta

from ocht.errors import OchtError
from ocht.observability import get_logger
from ocht.scheduler.execute import run_attempt
from ocht.scheduler.spec import RetryPolicy
from ocht.store import JobRecord, RunNotFound, SchedulingStore, Store, pid_alive

log = get_logger("ocht.scheduler")


def worker_name(slot: int | str) -> str:
    """``host:pid/slot``: who runs an attempt (abandonment is judged by host and pid)."""
    return f"{socket.gethostname()}:{os.getpid()}/{slot}"


def _alive(worker: str | None) -> bool:
    if not worker or ":" not in worker:
        return False
    host, _, rest = worker.partition(":")
    if host != socket.gethostname():
        return True  # another machine's process cannot be seen from here
    try:
        return pid_alive(int(rest.split("/", 1)[0]))
    except ValueError:
        return False


def abandon(store: Store, book: SchedulingStore, job: JobRecord, reason: str) -> str:
    """Record that ``job``'s running attempt was lost; retry it by policy.

    Returns:
        ``queued`` when another attempt is allowed, else ``abandoned``.
    """
    if job.run_id:
        book.finish_origin(job.run_id, "abandoned")
        try:
            if store.run(job.run_id).status == "running":
                store.finish_run(
                    job.run_id, "abandoned", error_code="abandoned", error_message=reason
                )
        except RunNotFound:
            pass
    now = datetime.now(UTC)
    if job.attempt < job.max_attempts:
        wait = RetryPolicy(max_attempts=job.max_attempts, backoff_s=job.backoff_s).wait(job.attempt)
        book.update_job(
            job.id,
            only_if=["running"],
            status="queued",
            not_before=now + timedelta(seconds=wait),
            error_code="abandoned",
            error_message=reason,
        )
        log.warning("run.abandoned", job=job.id, run_id=job.run_id, retry_in=wait)
        return "queued"
    book.update_job(
        job.id,
        only_if=["running"],
        status="abandoned",
        ended_at=now,
        error_code="abandoned",
        error_message=reason,
    )
    log.warning("run.abandoned", job=job.id, run_id=job.run_id, retry_in=None)
    return "abandoned"


def reap_local(store: Store, book: SchedulingStore) -> list[str]:
    """Running jobs whose worker process is gone from this host: abandoned, retried by policy."""
    lost = [j for j in book.jobs(statuses=["running"]) if not _alive(j.worker)]
    for job in lost:
        abandon(store, book, job, f"worker {job.worker} ended without finishing the run")
    return [j.id for j in lost]


class LocalPool:
    """Threads that run queued jobs from the store, ``concurrency`` at a time.

    Args:
        store: the run store (its jobs table is the queue).
        concurrency: jobs run at once by this process.
        home: the folder for run data.
        poll_s: how often an idle thread looks for work.
        reap_every_s: how often the pool looks for runs of workers that died.

    Example:
        >>> pool = LocalPool(store, concurrency=2)  # doctest: +SKIP
        >>> pool.run(until_idle=True)               # doctest: +SKIP
    """

    def __init__(
        self,
        store: Store,
        *,
        concurrency: int = 1,
        home: str | None = None,
        poll_s: float = 0.2,
        reap_every_s: float = 10.0,
    ) -> None:
        self.store = store
        self.book = SchedulingStore(store)
        self.concurrency = max(1, concurrency)
        self.home = home
        self.poll_s = poll_s
        self.reap_every_s = reap_every_s
        self._reaped_at = 0.0
        self.stop = threading.Event()
        self.ran = 0
        self._lock = threading.Lock()

    def run(self, *, until_idle: bool = False, max_jobs: int | None = None) -> int:
        """Run jobs until :attr:`stop` is set (or, ``until_idle``, until none is left).

        Returns:
            How many attempts this pool ran.
        """
        reap_local(self.store, self.book)
        threads = [
            threading.Thread(target=self._loop, args=(i, until_idle, max_jobs), name=f"ocht-{i}")
            for i in range(self.concurrency)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return self.ran

    def _maybe_reap(self) -> None:
        """While idle, now and then, retry the runs of local workers that died."""
        now = time.monotonic()
        with self._lock:
            if now - self._reaped_at < self.reap_every_s:
                return
            self._reaped_at = now
        try:
            reap_local(self.store, self.book)
        except OchtError as exc:
            log.warning("queue.reap_failed", error=exc.message)

    def _loop(self, slot: int, until_idle: bool, max_jobs: int | None) -> None:
        name = worker_name(slot)
        while not self.stop.is_set():
            with self._lock:
                if max_jobs is not None and self.ran >= max_jobs:
                    return
            try:
                job = self.book.claim(name)
            except OchtError as exc:
                log.warning("queue.claim_failed", error=exc.message)
                job = None
            if job is None:
                self._maybe_reap()
                if until_idle and not self.book.jobs(statuses=["queued", "running"], limit=1):
                    return
                self.stop.wait(self.poll_s)
                continue
            with self._lock:
                self.ran += 1
            run_attempt(self.store, self.book, job, worker=name, home=self.home)
