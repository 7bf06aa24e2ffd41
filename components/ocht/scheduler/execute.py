"""One attempt of a queued job: through the executor's front door, with cancel and retry.

Every worker, local or on PostgreSQL, runs a job with :func:`run_attempt`: it records the
attempt's origin (job, schedule, backfill, period, attempt, worker), watches for a cancel
while the run goes on, and decides what comes next: done, cancelled, or retried after the
policy's backoff.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ocht.errors import OchtError
from ocht.observability import get_logger
from ocht.registry import CancelToken
from ocht.scheduler.spec import RetryPolicy
from ocht.store import JobRecord, RunOrigin, SchedulingStore, Store

log = get_logger("ocht.scheduler")

CANCEL_POLL_S = 0.25


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended.

    Attributes:
        status: ``succeeded``, ``partial``, ``failed`` or ``cancelled``.
        run_id: the attempt's run id.
        retry_in: seconds until the next attempt, ``None`` when there is none.
        error_code: the error's code when it failed.
        error_message: the error's message.
    """

    status: str
    run_id: str
    retry_in: float | None = None
    error_code: str | None = None
    error_message: str | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def run_pipeline(
    store: Store,
    *,
    source: str,
    profile: str | None,
    variables: dict[str, Any],
    run_id: str,
    cancel: CancelToken,
    home: str | None,
) -> str:
    """Run a pipeline once through the executor's front door; its result's status.

    Raises:
        OchtError: the run failed or was cancelled (the manifest says which).
    """
    from ocht.executor import Runner, RunRequest, RunServices

    runner = Runner(RunServices(store=store, home=home))
    request = RunRequest(pipeline=source, profile=profile, variables=variables, run_id=run_id)
    return str(runner.run(request, cancel=cancel).status)


def run_attempt(
    store: Store,
    book: SchedulingStore,
    job: JobRecord,
    *,
    worker: str,
    home: str | None = None,
    aborted: Callable[[], bool] | None = None,
    runner: Callable[..., str] = run_pipeline,
) -> Outcome:
    """Run the next attempt of ``job`` and record it.

    The job row moves to ``running`` (attempt, worker, run id), a watcher thread turns a
    cancel request (``ocht`` cancel, or ``aborted()`` from the queue) into the run's
    cancel token, and at the end the job is final, or back to ``queued`` for a retry.
    """
    attempt = job.attempt + 1
    run_id = uuid.uuid4().hex
    started = _now()
    book.update_job(
        job.id, status="running", attempt=attempt, worker=worker, run_id=run_id, started_at=started
    )
    book.record_origin(
        RunOrigin(
            run_id, job.id, job.schedule, job.backfill, job.period_key, attempt, worker, started
        )
    )
    cancel = CancelToken()
    done = threading.Event()

    def watch() -> None:
        while not done.wait(CANCEL_POLL_S):
            try:
                current = book.job(job.id)
                # a cancel, or another attempt took over (this one was taken for dead):
                # either way this attempt must not commit
                taken_over = current is not None and current.run_id != run_id
                if taken_over or (current is not None and current.cancel_requested):
                    cancel.cancel()
                    return
                if aborted is not None and aborted():
                    cancel.cancel()
                    return
            except OchtError:  # a store hiccup: look again next time
                continue

    watcher = threading.Thread(target=watch, name=f"cancel-{job.id}", daemon=True)
    watcher.start()
    variables = dict(job.request.get("variables") or {})
    code = message = None
    log.info("run.start", job=job.id, run_id=run_id, attempt=attempt, worker=worker)
    try:
        status = runner(
            store,
            source=job.source,
            profile=job.request.get("profile"),
            variables=variables,
            run_id=run_id,
            cancel=cancel,
            home=home,
        )
    except Exception as exc:  # every failure is recorded on the job; nothing escapes a worker
        status = "failed"
        code = exc.code if isinstance(exc, OchtError) else "internal-error"
        message = exc.message if isinstance(exc, OchtError) else f"{type(exc).__name__}: {exc}"
    finally:
        done.set()
        watcher.join()
    if cancel.cancelled and status != "succeeded":
        status, code, message = "cancelled", "cancelled", "the run was cancelled"
    retry_in = None
    if status == "failed" and attempt < job.max_attempts:
        retry_in = RetryPolicy(max_attempts=job.max_attempts, backoff_s=job.backoff_s).wait(attempt)
    outcome = Outcome(status, run_id, retry_in, code, message)
    record(book, job.id, outcome)
    log.info("run.end", job=job.id, run_id=run_id, status=status, retry_in=retry_in)
    return outcome


def record(book: SchedulingStore, job_id: str, outcome: Outcome) -> None:
    """Write an attempt's end on its origin and its job (queued again for a retry).

    The job row changes only while this attempt is still its latest one: an attempt that
    was taken for dead and replaced does not overwrite its successor's story.
    """
    book.finish_origin(outcome.run_id, outcome.status)
    values: dict[str, Any] = {
        "error_code": outcome.error_code,
        "error_message": outcome.error_message,
    }
    if outcome.retry_in is not None:
        from datetime import timedelta

        values.update(status="queued", not_before=_now() + timedelta(seconds=outcome.retry_in))
    else:
        values.update(status=outcome.status, ended_at=_now())
    book.update_job(job_id, only_run=outcome.run_id, **values)
