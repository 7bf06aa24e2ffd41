"""Compile a pipeline into a plan and run it (batch: Pull → Transform → Push).

Example:
    >>> from ocht.executor import execute
    >>> from ocht.registry import Registry
    >>> from ocht.testkit import MEMORY, recorded, reset_memory
    >>> reset_memory()
    >>> result = execute({"name": "demo",
    ...     "inputs": {"i": {"type": "memory", "rows": [{"a": 1}, {"a": 5}]}},
    ...     "steps": [{"kind": "filter", "where": "a > 2"}],
    ...     "outputs": {"o": {"type": "memory", "key": "demo"}}},
    ...     registry=Registry(connectors=[MEMORY]))
    >>> result.status, recorded("demo")["a"].to_list()
    ('succeeded', [5])
"""

from ocht.executor.accounting import (
    Accounting,
    AccountingMismatch,
    accounting,
    check_accounting,
)
from ocht.executor.api import execute, explain
from ocht.executor.contracts import SchemaContractError, schema_diff
from ocht.executor.dead_letters import DEAD_LETTER_COLUMNS, normalize_dead_letters
from ocht.executor.plan import (
    Plan,
    PlannedOutput,
    PlannedStep,
    compile_plan,
    make_context,
    new_run_id,
)
from ocht.executor.result import CheckStats, OutputStats, RunResult, StepStats
from ocht.executor.resume import ResumeUnsupported, forget_resume_point, resumable_run
from ocht.executor.runner import Cancelled, build_frames, run
from ocht.executor.stream import run_stream
from ocht.executor.stream_api import execute_stream, plan_stream
from ocht.executor.stream_types import BatchReport, StreamResult, StreamSource
from ocht.executor.timeout import RunTimedOut, run_with_timeout
from ocht.executor.trace import read_trace, trace_frame
from ocht.executor.tracking import prepare_tracked, tracked_run

__all__ = [
    "DEAD_LETTER_COLUMNS",
    "Accounting",
    "AccountingMismatch",
    "BatchReport",
    "Cancelled",
    "CheckStats",
    "OutputStats",
    "Plan",
    "PlannedOutput",
    "PlannedStep",
    "ResumeUnsupported",
    "RunResult",
    "RunTimedOut",
    "SchemaContractError",
    "StepStats",
    "StreamResult",
    "StreamSource",
    "accounting",
    "build_frames",
    "check_accounting",
    "compile_plan",
    "execute",
    "execute_stream",
    "explain",
    "forget_resume_point",
    "make_context",
    "new_run_id",
    "normalize_dead_letters",
    "plan_stream",
    "prepare_tracked",
    "read_trace",
    "resumable_run",
    "run",
    "run_stream",
    "run_with_timeout",
    "schema_diff",
    "trace_frame",
    "tracked_run",
]
