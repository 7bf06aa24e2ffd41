"""Run pipelines: one front door, :class:`Runner`, for every base.

A base parses its input into a :class:`RunRequest`, calls the runner built with its
:class:`RunServices` (the run store, the registry, the hooks, the clock, the home
folder) and renders the :class:`RunResult` (or :class:`StreamResult`) it gets back.

Example:
    >>> from ocht.executor import Runner, RunRequest, RunServices
    >>> from ocht.registry import Registry
    >>> from ocht.testkit import MemoryConnector
    >>> memory = MemoryConnector()
    >>> runner = Runner(RunServices(registry=Registry(connectors=[memory.connector])))
    >>> result = runner.run(RunRequest({"name": "demo",
    ...     "inputs": {"i": {"type": "memory", "rows": [{"a": 1}, {"a": 5}]}},
    ...     "steps": [{"kind": "filter", "where": "a > 2"}],
    ...     "outputs": {"o": {"type": "memory", "key": "demo"}}}))
    >>> result.status, memory.recorded("demo")["a"].to_list()
    ('succeeded', [5])
"""

from ocht.executor.accounting import (
    Accounting,
    AccountingMismatch,
    accounting,
    check_accounting,
)
from ocht.executor.contracts import SchemaContractError
from ocht.executor.dead_letters import DEAD_LETTER_COLUMNS
from ocht.executor.door import Runner
from ocht.executor.plan import Plan
from ocht.executor.result import CheckStats, OutputStats, RunResult, StepStats
from ocht.executor.resume import ResumeUnsupported
from ocht.executor.samples import SampleOptions
from ocht.executor.services import (
    Cancelled,
    Clock,
    RunRequest,
    RunServices,
    RunStore,
    RunTimedOut,
    SystemClock,
)
from ocht.executor.stream_types import BatchReport, StreamResult, StreamSource
from ocht.executor.trace import latest_trace, read_trace, sample_lines, trace_text
from ocht.registry import CancelToken

__all__ = [
    "DEAD_LETTER_COLUMNS",
    "Accounting",
    "AccountingMismatch",
    "BatchReport",
    "CancelToken",
    "Cancelled",
    "CheckStats",
    "Clock",
    "OutputStats",
    "Plan",
    "ResumeUnsupported",
    "RunRequest",
    "RunResult",
    "RunServices",
    "RunStore",
    "RunTimedOut",
    "Runner",
    "SampleOptions",
    "SchemaContractError",
    "StepStats",
    "StreamResult",
    "StreamSource",
    "SystemClock",
    "accounting",
    "check_accounting",
    "latest_trace",
    "read_trace",
    "sample_lines",
    "trace_text",
]
