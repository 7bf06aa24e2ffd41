"""The fuzzing harness: run a pipeline and its files through ``ocht run``, judge the ending.

A case is a pipeline document (text, any format) and the files beside it. It is run by
the real command (in process, through click's runner: the same code path as the
``ocht`` executable, without a process start per case) and judged:

- it ends with exit 0 (a correct run) or with ``error[<stable code>]`` and exit 1 or 2;
- never ``error[internal]``, never a traceback, never an exception escaping the command;
- a failed run leaves no new output file (nothing partial), and no run leaves temporary
  files behind;
- a successful run balances: read = written + dead letters + dropped;
- the canary (``${env:FUZZ_SECRET}``'s value) is found in no output, log or file.

The generator (:mod:`strategies`) mutates valid pipelines and files with hypothesis.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from click.testing import CliRunner

from ocht.cli.main import cli
from ocht.errors import OchtError
from ocht.executor import OutputStats, RunResult, StepStats, check_accounting

CANARY = "fzCANARYk4"
ENV = {"FUZZ_SECRET": CANARY, "OCHT_STORE_URL": ""}
CORPUS = Path(__file__).parents[1] / "corpus"
_CODE = re.compile(r"^error\[(?P<code>[a-z0-9-]+)\]", re.MULTILINE)
_EXPECT = re.compile(r"^# expect-exit: (?P<exit>\d)", re.MULTILINE)

#: problems known and owned elsewhere, as (pattern, owner): reported as expected failures,
#: anything else fails the tests. Empty: the corpus and the long generated run end
#: cleanly (see docs/fuzzing.md).
KNOWN: list[tuple[re.Pattern[str], str]] = []


@dataclass
class Case:
    """A pipeline document and the files it reads (name → bytes)."""

    name: str
    pipeline: str
    suffix: str = ".yaml"
    files: dict[str, bytes] = field(default_factory=dict)
    args: tuple[str, ...] = ()


@dataclass
class Outcome:
    """How a case ended, and what was wrong with the ending (empty: a good ending)."""

    case: str
    exit_code: int
    code: str | None
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def _snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*") if p.is_file()}


def _result(data: dict[str, Any]) -> RunResult:
    data = dict(data)
    data["steps"] = [StepStats(**s) for s in data.get("steps", [])]
    data["outputs"] = [OutputStats(**o) for o in data.get("outputs", [])]
    data.pop("checks", None)
    known = set(RunResult.__dataclass_fields__)
    return RunResult(**{k: v for k, v in data.items() if k in known})


def _text_of(path: Path) -> str:
    if path.suffix == ".parquet":
        try:
            return str(pl.read_parquet(path).rows())
        except Exception:  # not ours to judge: an input file the case made unreadable
            return ""
    return path.read_bytes().decode("utf-8", "replace")


def run_case(case: Case, folder: Path) -> Outcome:
    """Run ``case`` in ``folder`` (emptied first) and judge how it ended."""
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, data in case.files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    pipeline = folder / f"pipeline{case.suffix}"
    pipeline.write_text(case.pipeline, encoding="utf-8", errors="surrogatepass")
    before = _snapshot(folder)
    env = {**ENV, "OCHT_HOME": str(folder / ".ocht")}
    runner = CliRunner()
    args = ["--log-format", "json", "run", str(pipeline), "--json", *case.args]
    with contextlib.chdir(folder):
        res = runner.invoke(cli, args, env=env, catch_exceptions=True)
    problems: list[str] = []
    out, err = res.stdout, res.stderr
    match = _CODE.search(err)
    code = match["code"] if match else None
    if res.exception is not None and not isinstance(res.exception, SystemExit):
        problems.append(f"exception escaped: {type(res.exception).__name__}: {res.exception}")
    if "Traceback (most recent call last)" in out + err:
        problems.append("traceback shown")
    if code == "internal":
        problems.append("error[internal]: " + err.splitlines()[0] if err else "internal")
    if res.exit_code not in (0, 1, 2):
        problems.append(f"exit code {res.exit_code}")
    if res.exit_code != 0 and code is None:
        problems.append(f"exit {res.exit_code} without a stable error code: {err[:300]!r}")
    if CANARY in out + err:
        problems.append("canary leaked in stdout/stderr")
    after = _snapshot(folder)
    new = sorted(after - before)
    for path in new:
        rel = path.relative_to(folder).as_posix()
        if ".tmp" in path.name or "ocht-tmp" in rel:
            problems.append(f"temporary file left: {rel}")
        elif res.exit_code != 0 and not rel.startswith(".ocht/"):
            problems.append(f"partial output after a failed run: {rel}")
        if CANARY in _text_of(path):
            problems.append(f"canary leaked in {rel}")
    expect = _EXPECT.search(case.pipeline)
    if expect and res.exit_code != int(expect["exit"]):
        problems.append(f"expected exit {expect['exit']}, got {res.exit_code} ({code})")
    if res.exit_code == 0 and "--dry-run" not in case.args:
        try:
            check_accounting(_result(json.loads(out)))
        except OchtError as exc:
            problems.append(f"accounting: {exc.message}")
        except (ValueError, TypeError, KeyError) as exc:
            problems.append(f"no run result on stdout: {type(exc).__name__}: {exc}")
    return Outcome(case.name, res.exit_code, code, problems)


def corpus_cases() -> list[Case]:
    """The bad-pipeline and bad-file corpus: ``test/corpus/pipelines`` and ``test/corpus/files``.

    Every ``pipelines/<name>.<yaml|json|toml>`` is run with every file of ``files/`` beside
    it (so it can name any of them); every ``files/<bad file>`` is also read by a small
    pipeline of its format (``files/<name>`` with ``csv``, ``ndjson``, ``parquet`` ...).
    """
    files_dir = CORPUS / "files"
    files = {p.name: p.read_bytes() for p in sorted(files_dir.iterdir()) if p.is_file()}
    cases = []
    for path in sorted((CORPUS / "pipelines").glob("*")):
        if path.suffix in (".yaml", ".yml", ".json", ".toml"):
            text = path.read_bytes().decode("utf-8", "surrogateescape")
            cases.append(Case(f"pipelines/{path.name}", text, path.suffix, dict(files)))
    for name, data in files.items():
        fmt = name.rsplit(".", 1)[-1]
        fmt = {"jsonl": "ndjson"}.get(fmt, fmt)
        if fmt not in ("csv", "ndjson", "json", "parquet"):
            continue
        for mode in ("fail", "skip", "dead_letter"):
            bad_lines = f", on_bad_lines: {mode}" if fmt in ("csv", "ndjson") else ""
            text = (
                f"name: file_case\ninputs:\n  src: {{type: {fmt}, path: {name}{bad_lines}}}\n"
                "outputs:\n  out: {type: parquet, path: out/o.parquet}\n"
            )
            cases.append(Case(f"files/{name} ({mode})", text, ".yaml", {name: data}))
            if not bad_lines:
                break
    return cases


def owner_of(problem: str) -> str | None:
    """The part of Ocht a known problem belongs to, or ``None`` for a new one."""
    for pattern, owner in KNOWN:
        if pattern.search(problem):
            return owner
    return None


def summarize(outcomes: list[Outcome]) -> dict[str, Any]:
    """Counts: cases, good endings, exit codes, error codes, and every kind of problem."""
    kinds: Counter[str] = Counter()
    for o in outcomes:
        for p in o.problems:
            kinds[p.split(":")[0]] += 1
    return {
        "cases": len(outcomes),
        "ok": sum(o.ok for o in outcomes),
        "exit_codes": dict(Counter(o.exit_code for o in outcomes)),
        "error_codes": dict(Counter(o.code or "-" for o in outcomes).most_common()),
        "problems": dict(kinds),
        "unknown_problems": sum(owner_of(p) is None for o in outcomes for p in o.problems),
        "by_owner": dict(Counter(owner_of(p) or "new" for o in outcomes for p in o.problems)),
        "internal": sum(o.code == "internal" for o in outcomes),
        "tracebacks": sum(
            any("traceback" in p or "escaped" in p for p in o.problems) for o in outcomes
        ),
        "canary_leaks": sum(any("canary" in p for p in o.problems) for o in outcomes),
        "partial_outputs": sum(
            any("partial" in p or "temporary" in p for p in o.problems) for o in outcomes
        ),
        "accounting_mismatches": sum(
            any(p.startswith("accounting") for p in o.problems) for o in outcomes
        ),
    }
