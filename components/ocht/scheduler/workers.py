"""Run-consuming workers, whichever queue the store has (``ocht-worker runs``)."""

from __future__ import annotations

from ocht.scheduler.dispatch import uses_postgres
from ocht.scheduler.spec import DEFAULT_QUEUE
from ocht.store import Store


def run_workers(
    store: Store,
    *,
    concurrency: int = 1,
    queues: list[str] | None = None,
    home: str | None = None,
    wait: bool = True,
    heartbeat_s: float = 10.0,
    stalled_s: float = 30.0,
) -> int | None:
    """Take runs from the queue and run them, ``concurrency`` at a time, until stopped.

    On PostgreSQL this is a procrastinate worker (SIGTERM finishes the runs in flight);
    on SQLite a :class:`~ocht.scheduler.LocalPool` of threads.

    Args:
        store: the run store (PostgreSQL: the queue is in its database).
        concurrency: runs at once in this process.
        queues: queues to take runs from (PostgreSQL; default ``ocht``).
        home: the folder for run data.
        wait: keep waiting for runs; ``False`` stops when none is left.
        heartbeat_s: how often a PostgreSQL worker says it is alive.
        stalled_s: after this long without a heartbeat a worker's runs are retried.

    Returns:
        How many attempts ran (local pool), ``None`` on PostgreSQL.
    """
    if uses_postgres(store):
        from ocht.scheduler.pg_queue import run_worker

        run_worker(
            store,
            concurrency=concurrency,
            queues=queues or [DEFAULT_QUEUE],
            home=home,
            wait=wait,
            heartbeat_s=heartbeat_s,
            stalled_s=stalled_s,
            reap_every_s=max(1.0, stalled_s / 3),
        )
        return None
    import signal
    import threading

    from ocht.scheduler.local_pool import LocalPool

    pool = LocalPool(store, concurrency=concurrency, home=home)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: pool.stop.set())
    return pool.run(until_idle=not wait)
