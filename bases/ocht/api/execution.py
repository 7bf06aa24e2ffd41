"""Where runs execute: a bounded pool inside the server, behind one small seam.

:class:`Execution` is the seam: ``submit`` a :class:`RunJob`, ``cancel`` it by id,
``close``. :class:`LocalPool` runs ``workers`` jobs at a time and keeps at most
``queue_size`` waiting; a submit beyond that raises :class:`RunQueueFull` (answered
``429`` with ``Retry-After``). A pool of workers fed through a queue implements the same
three methods, and nothing else in the server changes.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from ocht.errors import OchtError
from ocht.executor import CancelToken
from ocht.observability import get_logger


class RunQueueFull(OchtError):
    """Every worker is busy and the queue is full; try again after ``retry_after`` s."""

    code = "run-queue-full"

    def __init__(self, message: str, *, retry_after: float, **kw: Any) -> None:
        super().__init__(message, hint=f"retry after {retry_after:g}s", **kw)
        self.retry_after = retry_after


@dataclass(frozen=True)
class RunJob:
    """One run to execute: a stored pipeline version and how to run it.

    Attributes:
        run_id: the id the run is recorded under.
        tenant: the tenant it belongs to.
        pipeline: the pipeline's name.
        version: the version run.
        document: that version's document (the same the CLI reads).
        profile: the profile to apply.
        variables: values for ``${name}``.
        sandbox: for a draft run, the folder every output is written to instead.
    """

    run_id: str
    tenant: str
    pipeline: str
    version: int
    document: Mapping[str, Any]
    profile: str | None = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    sandbox: str | None = None


class Execution(Protocol):
    """Runs submitted jobs somewhere; the server only submits and cancels."""

    def submit(self, job: RunJob) -> None:
        """Accept ``job`` or raise :class:`RunQueueFull`."""

    def cancel(self, run_id: str) -> bool:
        """Ask the run to stop; whether it was queued or running here."""

    def close(self) -> None:
        """Stop taking jobs; cancel what runs and wait for the workers."""


#: What a pool calls for each job: run it, honouring the cancel token.
Work = Callable[[RunJob, CancelToken], None]


class LocalPool:
    """``workers`` threads taking jobs from a queue of at most ``queue_size``.

    Example:
        >>> done = []
        >>> pool = LocalPool(lambda job, cancel: done.append(job.run_id), workers=1)
        >>> pool.submit(RunJob("r1", "t", "p", 1, {}))
        >>> pool.close(); done
        ['r1']
    """

    def __init__(self, work: Work, *, workers: int = 2, queue_size: int = 100) -> None:
        self.work = work
        self.workers = max(1, workers)
        self._queue: queue.Queue[RunJob | None] = queue.Queue(maxsize=max(1, queue_size))
        self._lock = threading.Lock()
        self._tokens: dict[str, CancelToken] = {}
        self._running: set[str] = set()
        self._threads = [
            threading.Thread(target=self._loop, name=f"ocht-api-run-{i}", daemon=True)
            for i in range(self.workers)
        ]
        for t in self._threads:
            t.start()

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker."""
        return self._queue.qsize()

    @property
    def running(self) -> int:
        """Jobs being run."""
        with self._lock:
            return len(self._running)

    def submit(self, job: RunJob) -> None:
        """Queue ``job``.

        Raises:
            RunQueueFull: the queue holds ``queue_size`` jobs already.
        """
        with self._lock:
            self._tokens[job.run_id] = CancelToken()
        try:
            self._queue.put_nowait(job)
        except queue.Full:
            with self._lock:
                self._tokens.pop(job.run_id, None)
            raise RunQueueFull(
                "too many runs are waiting; this one was not accepted",
                retry_after=float(max(1, self.workers)),
            ) from None

    def cancel(self, run_id: str) -> bool:
        """Cancel the run's token (a queued run is then skipped, a running one stops
        before it commits)."""
        with self._lock:
            token = self._tokens.get(run_id)
        if token is None:
            return False
        token.cancel()
        return True

    def close(self) -> None:
        """Cancel everything, let the workers finish their current job and stop."""
        with self._lock:
            for token in self._tokens.values():
                token.cancel()
        for _ in self._threads:
            try:
                self._queue.put(None, timeout=5)
            except queue.Full:
                break
        for t in self._threads:
            t.join(timeout=30)

    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                return
            with self._lock:
                token = self._tokens.setdefault(job.run_id, CancelToken())
                self._running.add(job.run_id)
            try:
                self.work(job, token)
            except BaseException:  # a job must never take its worker down
                get_logger("ocht.api").error("run job failed", run_id=job.run_id, exc_info=True)
            finally:
                with self._lock:
                    self._running.discard(job.run_id)
                    self._tokens.pop(job.run_id, None)
