"""Run scenarios: load, rewrite the pipeline onto given data, run, compare, report."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import yaml
from pydantic import ValidationError

from ocht.config import LoadedPipeline, load_pipeline
from ocht.errors import InvalidPipeline, Issue, OchtError
from ocht.executor import Runner, RunRequest, RunResult, RunServices, latest_trace
from ocht.pipeline_model import format_path, validate
from ocht.scenarios.compare import compare_dead_letters, compare_rows
from ocht.scenarios.model import Expect, Given, Mode, Run, Scenario, ScenarioFile
from ocht.scenarios.rewrite import dead_letter_path, output_path, rewrite

SUFFIX = ".ocht-test.yaml"


class InvalidScenario(InvalidPipeline):
    """A scenario file that does not parse or validate (named with file and field)."""

    code = "invalid-scenario"


@dataclass(frozen=True)
class Case:
    """One scenario of one file, in one mode: what ``ocht test`` runs and reports."""

    file: Path
    suite: ScenarioFile
    scenario: Scenario
    mode: Mode

    @property
    def id(self) -> str:
        """``file::scenario[mode]``."""
        return f"{self.file.name}::{self.scenario.name}[{self.mode}]"


@dataclass
class Outcome:
    """What happened to a case: passed, or the problems found (each a readable block)."""

    case: Case
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0
    skipped: str | None = None
    actual: dict[str, pl.DataFrame] = field(default_factory=dict)
    steps: list[str] = field(default_factory=list)
    trace: pl.DataFrame | None = None

    @property
    def passed(self) -> bool:
        """No problem found (and not skipped)."""
        return not self.problems and self.skipped is None


def load_file(path: Path) -> ScenarioFile:
    """A scenario file, validated.

    Raises:
        InvalidScenario: not YAML, or not a valid scenario file (every problem, located).
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidScenario(f"{path}: cannot read the scenario file: {exc}") from None
    try:
        return ScenarioFile.model_validate(data)
    except ValidationError as exc:
        issues = [
            Issue("invalid-scenario", e["msg"], format_path(tuple(e["loc"])), file=str(path))
            for e in exc.errors()
        ]
        raise InvalidScenario(
            f"{path}: {len(issues)} problem{'s' if len(issues) != 1 else ''} in the scenario file",
            issues=issues,
        ) from None


def discover(paths: list[Path]) -> list[Path]:
    """Scenario files under ``paths`` (files named ``*.ocht-test.yaml``, folders searched)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob(f"*{SUFFIX}")) if not _hidden(p.relative_to(path))
            )
        elif path.exists():
            found.append(path)
    return found


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") or part in ("out", "node_modules") for part in rel.parts[:-1])


def cases(path: Path, modes: tuple[Mode, ...] = ("batch",)) -> Iterator[Case]:
    """Every (scenario, mode) of one file."""
    suite = load_file(path)
    for scenario in suite.scenarios:
        for mode in scenario.modes or list(modes):
            if mode in modes or scenario.modes:
                yield Case(path, suite, scenario, mode)


def run_case(case: Case, *, update: bool = False) -> Outcome:
    """Run one case and compare it with its expectations (``update``: rewrite goldens)."""
    started = time.perf_counter()
    outcome = Outcome(case)
    if case.mode == "stream":
        outcome.skipped = "stream replay is not available for this pipeline"
        return outcome
    pipeline_file = (case.file.parent / case.suite.pipeline).resolve()
    with tempfile.TemporaryDirectory(prefix="ocht-test-") as tmp:
        scratch = Path(tmp)
        # state only matters across runs: a single-run scenario needs no run store
        store = _store(scratch) if case.scenario.runs is not None else None
        try:
            for number, run in enumerate(case.scenario.steps(), start=1):
                prefix = f"run {number}: " if case.scenario.runs else ""
                problems = _run_once(
                    case, run, pipeline_file, scratch, store, number, outcome, update=update
                )
                outcome.problems.extend(prefix + p if i == 0 else p for i, p in enumerate(problems))
                if problems:
                    break
        finally:
            outcome.trace = latest_trace(scratch / ".ocht")  # the last run, failed or not
            if store is not None:
                store.close()
    outcome.seconds = time.perf_counter() - started
    return outcome


def _store(scratch: Path) -> Any:
    from ocht.store import Store

    return Store(base_dir=scratch)


def _run_once(
    case: Case,
    run: Run,
    pipeline_file: Path,
    scratch: Path,
    store: Any,
    number: int,
    outcome: Outcome,
    *,
    update: bool,
) -> list[str]:
    variables = {**case.scenario.vars, **run.vars}
    try:
        result, rewritten = _play(
            pipeline_file,
            run.given,
            scratch=scratch,
            scenario_dir=case.file.parent,
            store=store,
            number=number,
            variables=variables,
            profile=case.scenario.profile,
            full_refresh=run.full_refresh,
        )
    except KeyError as exc:
        return [f"given: the pipeline has no input {exc}"]
    except OchtError as exc:
        if run.expect_error is not None and exc.code == run.expect_error:
            return []
        expected = f" (expected {run.expect_error})" if run.expect_error else ""
        return [f"the run failed: {exc.code}: {exc.message}{expected}"]
    outcome.steps = [f"{s.step} [{s.kind}] {s.rows_in} → {s.rows_out}" for s in result.steps]
    if run.expect_error is not None:
        return [f"the run succeeded, expected the error {run.expect_error}"]
    problems: list[str] = []
    for name, expect in run.expect.items():
        if name not in rewritten["outputs"]:
            problems.append(f"expect: the pipeline has no output '{name}'")
            continue
        target = output_path(scratch, name)
        actual = pl.read_parquet(target) if target.exists() else pl.DataFrame()
        outcome.actual[name] = actual
        problems.extend(_check_output(case, name, expect, actual, update=update))
    if run.expect_dead_letters is not None:
        dead = _dead_letters(scratch)
        problems.extend(
            compare_dead_letters(
                dead, count=run.expect_dead_letters.count, rows=run.expect_dead_letters.rows
            )
        )
    return problems


def _play(
    pipeline: str | Path | Mapping[str, Any],
    given: Mapping[str, Given],
    *,
    scratch: Path,
    scenario_dir: Path,
    store: Any,
    number: int,
    variables: Mapping[str, Any],
    profile: str | None,
    full_refresh: bool = False,
) -> tuple[RunResult, dict[str, Any]]:
    """One run of ``pipeline`` rewritten onto ``given`` data in ``scratch``."""
    loaded = load_pipeline(pipeline, profile=profile, variables=variables)
    doc = loaded.pipeline.model_dump(by_alias=True, exclude_unset=True, mode="json")
    rewritten = rewrite(doc, dict(given), scratch=scratch, scenario_dir=scenario_dir, run=number)
    for path in scratch.glob("outputs/*"):
        path.unlink(missing_ok=True)
    test_loaded = LoadedPipeline(
        pipeline=validate(rewritten),
        document=None,
        base_dir=loaded.base_dir,
        profile=loaded.profile,
        secrets=loaded.secrets,
    )
    runner = Runner(RunServices(store=store, home=scratch / ".ocht"))
    return runner.run(RunRequest(test_loaded, full_refresh=full_refresh)), rewritten


@dataclass
class Played:
    """What a pipeline produced from given rows: every output, the dead letters, the run."""

    outputs: dict[str, pl.DataFrame]
    dead_letters: list[dict[str, Any]]
    result: RunResult


def play(
    pipeline: str | Path | Mapping[str, Any],
    given: Mapping[str, Given | list[dict[str, Any]]],
    *,
    variables: Mapping[str, Any] | None = None,
    profile: str | None = None,
) -> Played:
    """Run ``pipeline`` once on ``given`` rows, as a scenario does (test connectors in place
    of the real ones), and return what it produced.

    Raises:
        OchtError: ``unknown-input`` for a given input the pipeline does not have; the
            run's own error when it fails.

    Example:
        >>> out = play({"name": "p", "inputs": {"i": {"type": "ndjson", "path": "x.ndjson"}},
        ...             "steps": [{"kind": "filter", "where": "a > 1"}],
        ...             "outputs": {"o": {"type": "parquet", "path": "o.parquet"}}},
        ...            {"i": [{"a": 1}, {"a": 2}]})
        >>> out.outputs["o"]["a"].to_list()
        [2]
    """
    rows = {
        name: value if isinstance(value, Given) else Given(rows=list(value))
        for name, value in given.items()
    }
    with tempfile.TemporaryDirectory(prefix="ocht-play-") as tmp:
        scratch = Path(tmp)
        try:
            result, rewritten = _play(
                pipeline,
                rows,
                scratch=scratch,
                scenario_dir=Path.cwd(),
                store=None,
                number=1,
                variables=variables or {},
                profile=profile,
            )
        except KeyError as exc:
            raise OchtError(
                f"the pipeline has no input {exc}", code="unknown-input", hint="check its name"
            ) from None
        outputs = {}
        for name in rewritten["outputs"]:
            target = output_path(scratch, name)
            outputs[name] = pl.read_parquet(target) if target.exists() else pl.DataFrame()
        return Played(outputs, _dead_letters(scratch), result)


def _check_output(
    case: Case, name: str, expect: Expect, actual: pl.DataFrame, *, update: bool
) -> list[str]:
    what = f"output '{name}'"
    if expect.golden is not None:
        golden = case.file.parent / expect.golden
        if update:
            golden.parent.mkdir(parents=True, exist_ok=True)
            actual.write_ndjson(golden)
            return []
        if not golden.exists():
            return [f"{what}: golden file {expect.golden} is missing (run `ocht test --update`)"]
        rows = pl.read_ndjson(golden).to_dicts() if golden.stat().st_size else []
        return compare_rows(
            actual, rows, what=what, ordered=expect.ordered, tolerance=expect.tolerance
        )
    problems: list[str] = []
    if expect.count is not None and actual.height != expect.count:
        problems.append(f"{what}: {actual.height} rows, expected {expect.count}")
    if expect.rows is not None:
        problems.extend(
            compare_rows(
                actual,
                expect.rows,
                what=what,
                ordered=expect.ordered,
                subset=expect.subset,
                tolerance=expect.tolerance,
            )
        )
    return problems


def _dead_letters(scratch: Path) -> list[dict[str, Any]]:
    """The run's dead letters (one file per run, named after the declared path)."""
    import json

    stem = dead_letter_path(scratch)
    rows: list[dict[str, Any]] = []
    for path in sorted(stem.parent.glob(f"{stem.stem}*{stem.suffix}")):
        text = path.read_text(encoding="utf-8")
        rows.extend(json.loads(line) for line in text.splitlines() if line)
    return rows
