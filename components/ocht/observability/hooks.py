"""Run lifecycle hooks: the executor calls them; logs, progress displays and metrics listen.

Every hook takes keyword-only arguments plus ``**future`` so that new fields never break
an existing hook.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ocht.observability.logging import get_logger


class RunHooks:
    """Base hook: every method is a no-op; override what you need.

    Example:
        >>> class Count(RunHooks):
        ...     def __init__(self): self.steps = 0
        ...     def on_step_end(self, *, step, **future): self.steps += 1
        >>> h = Count(); h.on_step_end(step="s", rows_in=1); h.steps
        1
    """

    def on_run_start(self, *, run_id: str, pipeline: str, mode: str, **future: Any) -> None:
        """The run has been compiled and is about to read data."""

    def on_phase(self, *, run_id: str, phase: str, seconds: float, **future: Any) -> None:
        """A phase (``load``, ``compile``, then in batch ``prepare``, ``execute``, ``commit``)
        finished."""

    def on_progress(self, *, run_id: str, rows: int, **future: Any) -> None:
        """Rows read so far (called from the engine's threads; keep it cheap)."""

    def on_step_end(self, *, step: str, **future: Any) -> None:
        """A step finished; ``rows_in``/``rows_out`` in ``future``."""

    def on_output(self, *, name: str, target: str, rows: int, **future: Any) -> None:
        """An output was committed."""

    def on_run_end(self, *, run_id: str, status: str, seconds: float, **future: Any) -> None:
        """The run ended (``succeeded`` or ``failed``; ``error`` in ``future`` when failed)."""


class LoggingHooks(RunHooks):
    """Writes every lifecycle event as a structured log event."""

    def __init__(self) -> None:
        self.log = get_logger("ocht.run")

    def on_run_start(self, *, run_id: str, pipeline: str, mode: str, **future: Any) -> None:
        self.log.info("run started", run_id=run_id, pipeline=pipeline, mode=mode, **future)

    def on_phase(self, *, run_id: str, phase: str, seconds: float, **future: Any) -> None:
        self.log.debug("phase finished", phase=phase, seconds=round(seconds, 4))

    def on_step_end(self, *, step: str, **future: Any) -> None:
        self.log.info("step finished", step=step, **future)

    def on_output(self, *, name: str, target: str, rows: int, **future: Any) -> None:
        self.log.info("output written", output=name, target=target, rows=rows)

    def on_run_end(self, *, run_id: str, status: str, seconds: float, **future: Any) -> None:
        level = self.log.info if status == "succeeded" else self.log.error
        level(f"run {status}", run_id=run_id, seconds=round(seconds, 3), **future)


class HookGroup(RunHooks):
    """Calls several hooks in order; a failing hook is logged, never fatal."""

    def __init__(self, hooks: Sequence[RunHooks]) -> None:
        self.hooks = list(hooks)

    def _each(self, name: str, /, **kwargs: Any) -> None:
        for hook in self.hooks:
            try:
                getattr(hook, name)(**kwargs)
            except Exception:  # an observer must never break a run
                get_logger("ocht.hooks").exception("hook failed", hook=type(hook).__name__)

    def on_run_start(self, **kwargs: Any) -> None:
        self._each("on_run_start", **kwargs)

    def on_phase(self, **kwargs: Any) -> None:
        self._each("on_phase", **kwargs)

    def on_progress(self, **kwargs: Any) -> None:
        self._each("on_progress", **kwargs)

    def on_step_end(self, **kwargs: Any) -> None:
        self._each("on_step_end", **kwargs)

    def on_output(self, **kwargs: Any) -> None:
        self._each("on_output", **kwargs)

    def on_run_end(self, **kwargs: Any) -> None:
        self._each("on_run_end", **kwargs)
