"""A pytest plugin that collects scenario files (``*.ocht-test.yaml``) as tests.

Enabled by the ``pytest11`` entry point of the development project (or with
``pytest_plugins = ["ocht.testkit.scenario_plugin"]`` in a conftest), so ``pytest``
collects every scenario file under its test paths, one test per scenario and mode.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.Collector | None:
    """Collect ``*.ocht-test.yaml`` files."""
    from ocht.scenarios import SUFFIX

    if file_path.name.endswith(SUFFIX):
        collected: pytest.Collector = ScenarioFileItem.from_parent(parent, path=file_path)
        return collected
    return None


class ScenarioFileItem(pytest.File):
    """One scenario file: an item per scenario and mode."""

    def collect(self) -> Iterator[pytest.Item]:
        from ocht.scenarios import InvalidScenario, cases

        try:
            found = list(cases(self.path))
        except InvalidScenario as exc:
            raise self.CollectError(
                "\n".join([exc.message, *(f"  {i.render()}" for i in exc.issues)])
            ) from None
        for case in found:
            yield ScenarioItem.from_parent(
                self, name=f"{case.scenario.name}[{case.mode}]", case=case
            )


class ScenarioFailed(AssertionError):
    """A scenario's expectations were not met (its message is the diff)."""


class ScenarioItem(pytest.Item):
    """One scenario in one mode."""

    def __init__(self, *, case: Any, **kw: Any) -> None:
        super().__init__(**kw)
        self.case = case

    def runtest(self) -> None:
        from ocht.scenarios import failure_text, run_case

        outcome = run_case(self.case)
        if outcome.skipped is not None:
            pytest.skip(outcome.skipped)
        if outcome.problems:
            raise ScenarioFailed(failure_text(outcome))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> str:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"scenario: {self.name}"
