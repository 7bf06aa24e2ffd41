"""Scenario tests for pipelines: given rows in, expected rows out, as data.

Scenario files (``*.ocht-test.yaml``) name a pipeline and list scenarios; the harness
rewrites the pipeline onto the given data (test connectors in place of the real ones: no
real file, database, broker or endpoint is touched), runs it through the executor as a
real run would, and compares every output and the dead letters with what is expected.
``ocht test`` and the pytest plugin (``ocht.testkit.scenario_plugin``) both drive it.

Example:
    >>> from ocht.scenarios import compare_rows
    >>> import polars as pl
    >>> compare_rows(pl.DataFrame({"a": [1]}), [{"a": 1}], what="output 'o'")
    []
"""

from ocht.scenarios.compare import compare_dead_letters, compare_rows
from ocht.scenarios.harness import (
    SUFFIX,
    Case,
    InvalidScenario,
    Outcome,
    Played,
    cases,
    discover,
    load_file,
    play,
    run_case,
)
from ocht.scenarios.model import (
    Expect,
    ExpectDeadLetters,
    Given,
    Run,
    Scenario,
    ScenarioFile,
)
from ocht.scenarios.report import (
    EXIT_FAILED,
    EXIT_NONE,
    EXIT_PASSED,
    EXIT_USAGE,
    exit_code,
    failure_text,
    summary_line,
    write_junit,
)

__all__ = [
    "EXIT_FAILED",
    "EXIT_NONE",
    "EXIT_PASSED",
    "EXIT_USAGE",
    "SUFFIX",
    "Case",
    "Expect",
    "ExpectDeadLetters",
    "Given",
    "InvalidScenario",
    "Outcome",
    "Played",
    "Run",
    "Scenario",
    "ScenarioFile",
    "cases",
    "compare_dead_letters",
    "compare_rows",
    "discover",
    "exit_code",
    "failure_text",
    "load_file",
    "play",
    "run_case",
    "summary_line",
    "write_junit",
]
