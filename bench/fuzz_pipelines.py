"""The long fuzzing run: the corpus plus N generated cases through ``ocht run``; counts.

    uv run python bench/fuzz_pipelines.py            # 2,000 generated cases
    uv run python bench/fuzz_pipelines.py --cases 5000 --show 20

Prints, for the corpus and the generated cases: how many ended well, the exit codes and
error codes, internal errors, tracebacks, leaked canaries, partial outputs, accounting
mismatches, and every problem with the part of Ocht that owns it (``new`` = unknown).
Exits 1 when a problem matches no known owner.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1] / "test" / "fuzz"))

import harness
import strategies
from hypothesis import HealthCheck, Phase, given, settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000, help="generated cases")
    parser.add_argument("--show", type=int, default=10, help="problems to print in full")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ocht-fuzz-"))
    started = time.perf_counter()
    corpus = [harness.run_case(c, work / "corpus") for c in harness.corpus_cases()]
    generated: list[harness.Outcome] = []
    examples: list[tuple[harness.Outcome, harness.Case]] = []

    @settings(
        max_examples=args.cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategies.cases())
    def one(case: harness.Case) -> None:
        outcome = harness.run_case(case, work / "gen")
        generated.append(outcome)
        new = any(harness.owner_of(p) is None for p in outcome.problems)
        if outcome.problems and (new or len(examples) < args.show):
            examples.append((outcome, case))

    one()
    seconds = time.perf_counter() - started
    report = {
        "corpus": harness.summarize(corpus),
        "generated": harness.summarize(generated),
        "seconds": round(seconds, 1),
    }
    print(json.dumps(report, indent=2))
    for o in corpus:
        for p in o.problems:
            print(f"corpus  {o.case}: [{harness.owner_of(p) or 'new'}] {p[:200]}")
    examples.sort(key=lambda e: all(harness.owner_of(p) for p in e[0].problems))
    for o, case in examples[: max(args.show, 1)]:
        print(f"\n--- generated ({o.exit_code}, {o.code}): {o.problems[:3]}\n{case.pipeline[:600]}")
    unknown = report["corpus"]["unknown_problems"] + report["generated"]["unknown_problems"]
    return 1 if unknown else 0


if __name__ == "__main__":
    raise SystemExit(main())
