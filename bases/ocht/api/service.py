"""What the routers share: the store's parts, the front door, the run pool, the metrics.

:class:`Services` is built once per app (``app.state.services``). :meth:`Services.execute`
is the work each pooled job does: mark the request running, run it through the front door
with a log of its lifecycle events, and record how it ended (``cancelled`` when its cancel
event was set, whatever the executor raised).
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocht.api.execution import Execution, LocalPool, RunJob
from ocht.api.frontdoor import FrontDoor
from ocht.api.metrics import ApiMetrics
from ocht.api.redaction import scrub
from ocht.api.settings import ApiSettings
from ocht.errors import OchtError
from ocht.executor import Cancelled, CancelToken
from ocht.observability import HookGroup, LoggingHooks, RunHooks, get_logger
from ocht.registry import Registry
from ocht.store import ApiKeys, Catalog, RunNotFound, RunRequests, Store

LOG_FILE = "log.ndjson"


class RunLog(RunHooks):
    """Writes a run's lifecycle events, redacted, to ``<run dir>/log.ndjson``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def write(self, event: str, level: str = "info", **fields: Any) -> None:
        """Append one event."""
        record = {"ts": datetime.now(UTC).isoformat(), "level": level, "event": event, **fields}
        line = json.dumps(scrub(record), default=str)
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")

    def on_run_start(self, *, run_id: str, pipeline: str, mode: str, **future: Any) -> None:
        self.write("run started", mode=mode, **future)

    def on_step_end(self, *, step: str, **future: Any) -> None:
        self.write("step finished", step=step, **future)

    def on_output(self, *, name: str, target: str, rows: int, **future: Any) -> None:
        self.write("output written", output=name, target=target, rows=rows)

    def on_run_end(self, *, run_id: str, status: str, seconds: float, **future: Any) -> None:
        level = "info" if status == "succeeded" else "error"
        self.write(f"run {status}", level, seconds=round(seconds, 3), **future)


class Services:
    """Everything a request handler needs, opened once."""

    def __init__(
        self,
        settings: ApiSettings,
        *,
        store: Store | None = None,
        registry: Registry | None = None,
        execution: Execution | None = None,
    ) -> None:
        self.settings = settings
        self.store = store or Store(settings.store_url, base_dir=settings.workdir)
        self.catalog = Catalog(self.store)
        self.keys = ApiKeys(self.store)
        self.requests = RunRequests(self.store)
        self.metrics = ApiMetrics()
        self.door = FrontDoor(
            self.store,
            home=settings.run_home,
            workdir=settings.workdir.resolve(),
            default_tenant=settings.default_tenant,
            registry=registry,
        )
        self.execution: Execution = execution or LocalPool(
            self.execute, workers=settings.workers, queue_size=settings.queue_size
        )
        self.log = get_logger("ocht.api")
        self.recover()

    def recover(self) -> list[str]:
        """Requests left ``running`` by a server that stopped take their manifest's end.

        The manifest is the executor's word (a run whose process died on this host is
        marked ``abandoned`` first), so this is safe with several servers on one store.

        Returns:
            The ids of the requests updated.
        """
        self.store.mark_abandoned()
        fixed = []
        for req in self.requests.stale():
            try:
                record = self.store.run(req.run_id)
            except RunNotFound:
                continue
            if record.run_id == req.run_id and record.status != "running":
                self.requests.set_status(
                    req.run_id,
                    record.status,
                    error_code=record.error_code,
                    error_message=record.error_message,
                    only_from=("running",),
                )
                fixed.append(req.run_id)
        return fixed

    def run_dir(self, run_id: str) -> Path:
        """The run's own folder (trace, logs, default dead letters)."""
        return self.settings.run_home / "runs" / run_id

    def sandbox_for(self, tenant: str, run_id: str) -> Path:
        """Where a draft run of ``tenant`` writes."""
        return self.settings.sandbox_dir / tenant / run_id

    def close(self) -> None:
        """Stop the pool, then close the store."""
        self.execution.close()
        self.store.close()

    def execute(self, job: RunJob, cancel: CancelToken) -> None:
        """Run one job to its end (the pool's work); never raises."""
        started = self.requests.set_status(job.run_id, "running", only_from=("queued",))
        if started.status != "running":  # cancelled while it waited
            return
        if cancel.cancelled:
            self._finish(job, "cancelled", "cancelled", "the run was cancelled before it started")
            return
        log = RunLog(self.run_dir(job.run_id) / LOG_FILE)
        hooks = HookGroup([LoggingHooks(), log])
        self.metrics.running.inc()
        try:
            result = self.door.run(
                run_id=job.run_id,
                document=job.document,
                tenant=job.tenant,
                profile=job.profile,
                variables=job.variables,
                sandbox=Path(job.sandbox) if job.sandbox else None,
                cancel=cancel,
                hooks=hooks,
            )
        except OchtError as exc:
            if isinstance(exc, Cancelled) or cancel.cancelled:
                log.write("run cancelled", "warning")
                self._finish(
                    job, "cancelled", "cancelled", "the run was cancelled; no output was changed"
                )
            else:
                log.write("run failed", "error", code=exc.code, error=exc.message)
                self._finish(job, "failed", exc.code, exc.message)
        except Exception as exc:  # reported by code and class only: the text may hold data
            log.write("run failed", "error", code="internal-error", error=type(exc).__name__)
            self._finish(job, "failed", "internal-error", f"the run failed: {type(exc).__name__}")
        else:
            status = result.status if result.status in ("succeeded", "partial") else "failed"
            self._finish(job, status, None, None)
        finally:
            self.metrics.running.dec()

    def _finish(self, job: RunJob, status: str, code: str | None, message: str | None) -> None:
        self.requests.set_status(
            job.run_id,
            status,
            error_code=code,
            error_message=message,
            only_from=("queued", "running"),
        )
        self.metrics.runs.labels(status=status).inc()
        self.log.info("run ended", run_id=job.run_id, status=status, code=code)
