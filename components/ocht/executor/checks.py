"""Results of the ``check`` steps of a run, and the end-of-run judgement.

A step's compiled state may report data-quality results: any object with
``check_results() -> list[dict]`` and ``verify() -> None`` (the quality brick's
``CheckRun``). The executor does not know the check step itself; it asks every step's
state through this small protocol.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from ocht.executor.plan import Plan
from ocht.executor.result import CheckStats, json_ready


@runtime_checkable
class ReportsChecks(Protocol):
    """What a step's state implements to report check results."""

    def check_results(self) -> list[dict[str, Any]]:
        """One dict per check: step, check, type, action, rows_checked, failed, samples."""

    def verify(self) -> None:
        """Raise an :class:`~ocht.errors.OchtError` if the run must fail."""


def _reporters(plan: Plan) -> list[ReportsChecks]:
    return [s.compiled.state for s in plan.steps if isinstance(s.compiled.state, ReportsChecks)]


def verify_checks(plan: Plan) -> None:
    """Let every check step judge the finished query (raises before any commit)."""
    for reporter in _reporters(plan):
        reporter.verify()


def check_stats(plan: Plan) -> list[CheckStats]:
    """Every check's result, in pipeline order."""
    out: list[CheckStats] = []
    for reporter in _reporters(plan):
        for r in reporter.check_results():
            out.append(
                CheckStats(
                    step=str(r["step"]),
                    check=str(r["check"]),
                    type=str(r["type"]),
                    action=str(r["action"]),
                    rows_checked=int(r["rows_checked"]),
                    failed=int(r["failed"]),
                    samples=[json_ready(v) for v in r.get("samples", [])],
                    changes=[json_ready(v) for v in r.get("changes", [])],
                )
            )
    return out


@runtime_checkable
class ReportsUsage(Protocol):
    """What a step's state implements to put facts in the run manifest and trace."""

    def report(self) -> dict[str, Any]:
        """JSON-ready facts about the step in this run (a model's sha256, tokens used)."""


def step_reports(plan: Plan) -> dict[str, dict[str, Any]]:
    """Every reporting step's facts, by step id."""
    return {
        s.id: s.compiled.state.report()
        for s in plan.steps
        if isinstance(s.compiled.state, ReportsUsage)
    }
