"""Reports of a scenario run: text for people, JUnit XML for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from ocht.executor import trace_text
from ocht.scenarios.harness import Outcome

#: exit codes, as pytest's
EXIT_PASSED, EXIT_FAILED, EXIT_USAGE, EXIT_NONE = 0, 1, 2, 5


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """0 all passed, 1 a case failed, 5 nothing ran."""
    ran = [o for o in outcomes if o.skipped is None]
    if not ran:
        return EXIT_NONE
    return EXIT_FAILED if any(o.problems for o in ran) else EXIT_PASSED


def summary_line(outcomes: Sequence[Outcome], seconds: float) -> str:
    """``3 passed, 1 failed, 2 skipped in 0.41s``."""
    passed = sum(o.passed for o in outcomes)
    failed = sum(bool(o.problems) for o in outcomes)
    skipped = sum(o.skipped is not None for o in outcomes)
    text = f"{passed} passed, {failed} failed"
    if skipped:
        text += f", {skipped} skipped"
    return f"{text} in {seconds:.2f}s"


def failure_text(outcome: Outcome) -> str:
    """The problems of a failed case, and the trace of its last run (failed or not): rows
    per step, and a few rows each step dropped, changed and dead-lettered."""
    lines = [f"FAILED {outcome.case.id}"]
    lines.extend(f"  {p}" for p in outcome.problems)
    if outcome.trace is not None and outcome.trace.height:
        lines.append("  trace of the last run:")
        lines.extend(f"    {line}" for line in trace_text(outcome.trace))
    elif outcome.steps:
        lines.append("  rows per step: " + "; ".join(outcome.steps))
    return "\n".join(lines)


def write_junit(outcomes: Sequence[Outcome], path: Path) -> None:
    """A JUnit XML report (one testsuite per scenario file)."""
    root = ET.Element("testsuites", name="ocht test")
    by_file: dict[Path, list[Outcome]] = {}
    for o in outcomes:
        by_file.setdefault(o.case.file, []).append(o)
    for file, group in by_file.items():
        suite = ET.SubElement(
            root,
            "testsuite",
            name=file.name,
            tests=str(len(group)),
            failures=str(sum(bool(o.problems) for o in group)),
            skipped=str(sum(o.skipped is not None for o in group)),
            time=f"{sum(o.seconds for o in group):.3f}",
        )
        for o in group:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=file.name,
                name=f"{o.case.scenario.name}[{o.case.mode}]",
                time=f"{o.seconds:.3f}",
            )
            if o.problems:
                failure = ET.SubElement(case, "failure", message=o.problems[0])
                failure.text = "\n".join(o.problems)
            elif o.skipped is not None:
                ET.SubElement(case, "skipped", message=o.skipped)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
