"""A time limit for a whole batch run.

The run goes on in a worker thread; when the limit passes, the caller gets
:class:`RunTimedOut` at once and the run is marked cancelled, so it never commits: the
executor checks the mark between the query and the commit of any output (outputs are
written to temporary places until then). A Polars query cannot be interrupted from
Python, so the worker finishes its current query in the background; a CLI process simply
exits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ocht.errors import OchtError
from ocht.executor.plan import Plan
from ocht.executor.result import RunResult

CANCEL = "cancel"  # the run option holding the threading.Event that cancels a run


class RunTimedOut(OchtError):
    """The run did not finish within its time limit; no output was changed."""

    code = "run-timeout"


def raise_if_cancelled(plan: Plan) -> None:
    """Raise :class:`RunTimedOut` if the run was cancelled (called before committing).

    Raises:
        RunTimedOut: the run's cancel event is set.
    """
    event = plan.context.options.get(CANCEL)
    if isinstance(event, threading.Event) and event.is_set():
        raise RunTimedOut("the run was cancelled after its time limit; no output was changed")


def run_with_timeout(
    plan: Plan,
    *,
    timeout: float,
    runner: Callable[[Plan], RunResult] | None = None,
) -> RunResult:
    """Run ``plan`` (with ``runner``, default :func:`ocht.executor.run`) for at most
    ``timeout`` seconds.

    Raises:
        RunTimedOut: the limit passed first; no output will be committed.
        OchtError: the run failed within the limit.

    Example:
        >>> from ocht.executor import compile_plan   # doctest: +SKIP
        >>> run_with_timeout(compile_plan(p), timeout=60).status  # doctest: +SKIP
        'succeeded'
    """
    if runner is None:
        from ocht.executor.runner import run

        runner = run
    call: Callable[[Plan], RunResult] = runner
    cancel = threading.Event()
    plan.context.options[CANCEL] = cancel
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["result"] = call(plan)
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    worker = threading.Thread(target=work, name=f"ocht-run-{plan.context.run_id}", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        cancel.set()
        raise RunTimedOut(
            f"the run did not finish within {timeout:g}s; no output was changed",
            hint="raise --timeout, or use --limit to try the pipeline on fewer rows",
            timeout=timeout,
        )
    if "error" in box:
        raise box["error"]
    result: RunResult = box["result"]
    return result
