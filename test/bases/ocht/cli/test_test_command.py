"""`ocht test` from the command line: output, JUnit report, pytest-like exit codes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[4] / "examples"


def _ocht(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocht.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_examples_pass_and_report(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("out"))
    done = _ocht("test", "examples", "--junit-xml", "report.xml", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "passed, 0 failed" in done.stdout
    assert (tmp_path / "report.xml").read_text().count("<testcase") >= 2
    assert "Traceback" not in done.stderr


def test_a_failing_scenario_exits_1_with_its_diff(tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples", ignore=shutil.ignore_patterns("out"))
    scenario = tmp_path / "examples" / "orders_clean.ocht-test.yaml"
    scenario.write_text(scenario.read_text().replace("vat: 19.0", "vat: 18.0"))
    done = _ocht("test", "examples", cwd=tmp_path)
    assert done.returncode == 1
    assert "FAILED orders_clean.ocht-test.yaml::keeps paid orders" in done.stdout
    assert '"vat": 18.0' in done.stdout and "missing (expected, not produced)" in done.stdout


def test_an_invalid_file_exits_2_and_nothing_found_exits_5(tmp_path: Path) -> None:
    (tmp_path / "bad.ocht-test.yaml").write_text("pipeline: p.yaml\nscenarios: [{nam: x}]\n")
    done = _ocht("test", ".", cwd=tmp_path)
    assert done.returncode == 2 and "scenarios[0]" in done.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    assert _ocht("test", str(empty), cwd=tmp_path).returncode == 5


def test_help_teaches_the_format(tmp_path: Path) -> None:
    done = _ocht("test", "--help", cwd=tmp_path)
    assert done.returncode == 0 and "expect_dead_letters" in done.stdout
