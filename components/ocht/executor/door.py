"""The front door: one object every base calls to validate, explain and run pipelines.

The example of its use is the package's own (:mod:`ocht.executor`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from ocht.config import LoadedPipeline, load_pipeline
from ocht.errors import InvalidPipeline, Issue, OchtError
from ocht.executor.plan import Plan, compile_plan, make_context, new_run_id
from ocht.executor.result import RunResult
from ocht.executor.resume import ResumeUnsupported, resumable_run
from ocht.executor.runner import build_frames, run
from ocht.executor.samples import SampleOptions
from ocht.executor.services import (
    Cancelled,
    RunRequest,
    RunServices,
    RunTimedOut,
    SystemClock,
)
from ocht.executor.stream_manifest import stream_extra
from ocht.executor.stream_types import BatchReport, StreamResult
from ocht.executor.tracking import (
    record_commit,
    record_failure,
    record_preparation_failure,
    start_record,
)
from ocht.observability import RunHooks, add_secrets
from ocht.registry import CancelToken, Mode, Registry, default_registry

_T = TypeVar("_T")


class Runner:
    """Validate, compile, explain and run pipelines with one set of :class:`RunServices`.

    Every base (the CLI, the worker, the HTTP API, the REPL) parses its input into a
    :class:`RunRequest`, calls one method here and renders what comes back. A runner holds
    no state between calls, so one may serve many runs (one at a time per call).
    """

    def __init__(self, services: RunServices | None = None) -> None:
        self.services = services or RunServices()
        self.clock = self.services.clock or SystemClock()
        self.home = self.services.home if self.services.home is not None else ".ocht"

    # -- reading ---------------------------------------------------------------------------
    def _registry(self) -> Registry:
        return self.services.registry or default_registry()

    def _load(self, source: Any, request: RunRequest) -> LoadedPipeline:
        try:  # unknown kinds load as plugins: compiling names them beside column problems
            return load_pipeline(source, profile=request.profile, variables=request.variables)
        except InvalidPipeline:
            # the document itself is wrong: its unknown kinds and types join that answer
            from ocht.quality import check_types

            registry = self._registry()
            load_pipeline(
                source,
                profile=request.profile,
                variables=request.variables,
                known_steps=registry.step_names(),
                known_connectors=registry.connector_names(),
                known_checks=check_types(),
            )
            raise

    def load(self, request: RunRequest) -> LoadedPipeline:
        """The request's pipeline loaded (profile and variables applied), secrets noted.

        Unknown step kinds and connector types are reported with every other problem of
        the document, in one answer (the registry says what is installed).

        Raises:
            InvalidPipeline: the document does not parse or validate.
        """
        source = request.pipeline
        loaded = source if isinstance(source, LoadedPipeline) else self._load(source, request)
        add_secrets(loaded.secrets)
        return loaded

    def compile(self, request: RunRequest, *, mode: Mode = "batch") -> Plan:
        """Validate and compile: connectors resolved, input schemas read, every step built.

        Reads schemas (a file header, a table's columns) but no data, and writes nothing.
        The plan's sources are open: run it, or :meth:`close` it.

        Raises:
            InvalidPipeline: every problem found.
            OchtError: a source could not be reached to read its schema.
        """
        return self._compile(self.load(request), request, mode, CancelToken(), store=None)

    def validate(self, request: RunRequest, *, mode: Mode = "batch") -> list[Issue]:
        """Every problem with the pipeline at once (an empty list: it is valid).

        An unreachable source is reported as one issue with its code.
        """
        try:
            plan = self.compile(request, mode=mode)
        except InvalidPipeline as exc:
            return list(exc.issues) or [Issue(exc.code, exc.message, "")]
        except OchtError as exc:
            return [Issue(exc.code, exc.message, "", hint=exc.hint)]
        close(plan)
        return []

    def explain(self, request: RunRequest, *, mode: Mode = "batch") -> str:
        """The step graph and, per output, Polars' optimized streaming plan."""
        plan = self.compile(request, mode=mode)
        try:
            parts = [plan.describe()]
            frames = build_frames(plan)
            for out in plan.outputs:
                text = frames[out.reads].explain(engine="streaming")
                parts.append(f"\n-- output {out.name} ({out.sink.describe()}) --\n{text}")
            return "\n".join(parts)
        finally:
            close(plan)

    # -- running ---------------------------------------------------------------------------
    def run(self, request: RunRequest, *, cancel: CancelToken | None = None) -> RunResult:
        """Run the pipeline once in batch mode: Pull → Transform → Push, all or nothing.

        Args:
            request: what to run (``dry_run`` compiles only; ``resume`` runs file by file).
            cancel: cancel it from another thread; the run then commits nothing.

        Returns:
            The run's result (status ``succeeded``, or ``planned`` for a dry run).

        Raises:
            Cancelled: the token was cancelled or Ctrl-C pressed (status ``cancelled``).
            RunTimedOut: ``request.timeout`` passed (error code ``run-timeout``).
            OchtError: invalid pipeline (exit code 2) or failed run (1); in every case the
                outputs are as they were before the run.
        """
        token = cancel or CancelToken()
        store = None if request.dry_run else self.services.store
        loaded, plan = self._prepared(request, "batch", token)
        if request.dry_run:
            close(plan)
            return RunResult(
                run_id=plan.context.run_id,
                pipeline=plan.pipeline.name,
                status="planned",
                content_hash=plan.pipeline.content_hash,
                profile=plan.profile,
            )
        if store is None and request.resume:
            close(plan)
            raise ResumeUnsupported(
                "a resumable run keeps its checkpoints in the run store; none was given",
                hint="run with a store (without --no-store)",
            )
        if store is None:
            return self._watched(
                lambda: run(
                    plan,
                    hooks=self.services.hooks,
                    limit=request.limit,
                    samples=SampleOptions(size=request.trace_samples),
                ),
                request,
                token,
                plan,
            )
        if request.resume:
            return self._watched(
                lambda: resumable_run(
                    loaded,
                    plan,
                    store,
                    resume=True,
                    hooks=self.services.hooks,
                    registry=self.services.registry,
                    home=self.home,
                ),
                request,
                token,
                plan,
            )
        start_record(plan, store, limit=request.limit)

        def tracked() -> RunResult:
            try:
                result = run(
                    plan,
                    hooks=self.services.hooks,
                    limit=request.limit,
                    samples=SampleOptions(size=request.trace_samples),
                )
            except BaseException as exc:
                if token.reason not in _WATCHDOG:  # else the watchdog recorded it already
                    record_failure(store, plan.context.run_id, exc)
                raise
            record_commit(plan, store, result)
            return result

        return self._watched(tracked, request, token, plan)

    def stream(
        self,
        request: RunRequest,
        *,
        cancel: CancelToken | None = None,
        on_batch: Callable[[BatchReport], None] | None = None,
        stop: threading.Event | None = None,
        on_ready: Callable[[Plan], None] | None = None,
    ) -> StreamResult:
        """Run the pipeline in stream mode, micro-batch after micro-batch.

        Args:
            request: what to run; ``max_batches``, ``drain``, ``lookup_refresh`` and
                ``max_in_flight`` shape the loop.
            cancel: cancel the run: it stops before the next commit and raises
                :class:`Cancelled`; the batches not committed are read again next time.
                ``request.timeout`` does the same after that many seconds, with
                :class:`RunTimedOut`.
            on_batch: called after every committed batch (metrics).
            stop: set it to stop cleanly: the batch in flight is finished and committed,
                and the run returns (a signal in the worker).
            on_ready: called with the compiled plan just before the first poll.

        Raises:
            Cancelled: the token was cancelled or Ctrl-C pressed.
            RunTimedOut: ``request.timeout`` passed.
            OchtError: the pipeline cannot stream, or a batch failed (not committed).
        """
        from ocht.executor.stream import run_stream

        token = cancel or CancelToken()
        _, plan = self._prepared(request, "stream", token)
        store = self.services.store
        if on_ready is not None:
            on_ready(plan)
        if store is not None:
            start_record(plan, store)
        timer = None
        if request.timeout is not None:  # the loop sees the token before its next commit
            timer = threading.Timer(request.timeout, token.cancel, args=("timeout",))
            timer.daemon = True
            timer.start()
        try:
            result = run_stream(
                plan,
                hooks=self.services.hooks,
                stop=stop,
                max_batches=request.max_batches,
                idle_stop_s=request.drain,
                on_batch=on_batch,
                max_in_flight=request.max_in_flight,
                lookup_refresh_s=request.lookup_refresh,
                clock=self.clock,
                store=store,
            )
        except BaseException as exc:
            if store is not None:
                record_failure(store, plan.context.run_id, exc)
            if isinstance(exc, KeyboardInterrupt):
                raise Cancelled("stream cancelled; the batch in flight was not committed") from None
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if store is not None:
            record_commit(plan, store, result, status="stopped", **stream_extra(result))
        return result

    # -- internals -------------------------------------------------------------------------
    def _prepared(
        self, request: RunRequest, mode: Mode, token: CancelToken
    ) -> tuple[LoadedPipeline, Plan]:
        """Load and compile for a run, each phase reported to the hooks; a failure while
        compiling is recorded as a failed run (with a store)."""
        store = None if request.dry_run else self.services.store
        hooks = self.services.hooks or RunHooks()
        run_id = request.run_id or new_run_id(self.clock.now())
        started = time.perf_counter()
        loaded = self.load(request)
        hooks.on_phase(run_id=run_id, phase="load", seconds=time.perf_counter() - started)
        started = time.perf_counter()
        try:
            plan = self._compile(loaded, request, mode, token, store=store, run_id=run_id)
        except BaseException as exc:
            if store is not None and not isinstance(exc, InvalidPipeline):
                record_preparation_failure(store, loaded, run_id=run_id, mode=mode, exc=exc)
            if isinstance(exc, KeyboardInterrupt):
                raise Cancelled("run cancelled while preparing; nothing was read") from None
            raise
        hooks.on_phase(run_id=run_id, phase="compile", seconds=time.perf_counter() - started)
        return loaded, plan

    def _compile(
        self,
        loaded: LoadedPipeline,
        request: RunRequest,
        mode: Mode,
        token: CancelToken,
        *,
        store: Any,
        run_id: str | None = None,
    ) -> Plan:
        state = (
            {} if (store is None or request.full_refresh) else store.get_state(loaded.pipeline.name)
        )
        context = make_context(
            loaded,
            mode=mode,
            run_id=run_id or request.run_id or new_run_id(self.clock.now()),
            home=self.home,
            full_refresh=request.full_refresh,
            state=state,
            cancel=token,
        )
        return compile_plan(
            loaded, mode=mode, registry=self.services.registry, context=context, store=store
        )

    def _watched(
        self, work: Callable[[], _T], request: RunRequest, token: CancelToken, plan: Plan
    ) -> _T:
        """``work()`` under the request's time limit and Ctrl-C, both through ``token``."""
        if request.timeout is None:
            try:
                return work()
            except KeyboardInterrupt:
                token.cancel()
                raise Cancelled("run cancelled; no output was changed") from None
        return self._in_thread(work, request.timeout, token, plan)

    def _in_thread(
        self, work: Callable[[], _T], timeout: float, token: CancelToken, plan: Plan
    ) -> _T:
        """``work()`` in a worker thread, given up after ``timeout`` seconds or Ctrl-C.

        A Polars query cannot be interrupted from Python: the worker finishes its query in
        the background, sees the cancelled token and commits nothing.
        """
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                box["result"] = work()
            except BaseException as exc:  # handed to the caller's thread below
                box["error"] = exc

        name = f"ocht-run-{plan.context.run_id}"
        worker = threading.Thread(target=target, name=name, daemon=True)
        worker.start()
        try:
            worker.join(timeout)
        except KeyboardInterrupt:
            token.cancel("interrupt")
            self._record_watchdog(plan, Cancelled("run cancelled; no output was changed"))
            raise Cancelled("run cancelled; no output was changed") from None
        if worker.is_alive():
            token.cancel("timeout")
            error = RunTimedOut(
                f"the run did not finish within {timeout:g}s; no output was changed",
                hint="raise --timeout, or use --limit to try the pipeline on fewer rows",
                timeout=timeout,
            )
            self._record_watchdog(plan, error)
            raise error
        if "error" in box:
            raise box["error"]
        result: _T = box["result"]
        return result

    def _record_watchdog(self, plan: Plan, error: OchtError) -> None:
        """Record a run the watchdog gave up on (the worker, still busy, will not)."""
        if self.services.store is not None:
            record_failure(self.services.store, plan.context.run_id, error)


#: cancel reasons set by the watchdog, which records the run's end itself
_WATCHDOG = ("timeout", "interrupt")


def close(plan: Plan) -> None:
    """Release a compiled plan's sources (when it will not be run)."""
    for source in plan.sources.values():
        source.close()
