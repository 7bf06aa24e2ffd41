"""Scenario-suite speed: CPU time of 100 small scenarios through the `ocht test` harness.

    uv run python bench/scenarios.py [--scenarios 100]

Each scenario runs the orders_clean example on five given rows and compares its output;
the figure is process CPU time (what a CI machine pays), after one warm-up scenario.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import yaml

from ocht.scenarios import cases, run_case

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", type=int, default=100)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="ocht-bench-scenarios-"))
    shutil.copy(EXAMPLES / "orders_clean.yaml", folder)
    rows = [
        {
            "order_id": i,
            "customer_id": 1,
            "country": "DE",
            "amount": 10.0 * i,
            "currency": "EUR",
            "ts": "2024-03-01 10:00:00",
            "status": "paid",
        }
        for i in range(1, 6)
    ]
    scenarios = [
        {"name": f"s{i}", "given": {"orders": {"rows": rows}}, "expect": {"clean": {"count": 4}}}
        for i in range(args.scenarios)
    ]
    suite = folder / "bench.ocht-test.yaml"
    suite.write_text(yaml.safe_dump({"pipeline": "orders_clean.yaml", "scenarios": scenarios}))
    found = list(cases(suite))
    assert run_case(found[0]).passed
    cpu, wall = time.process_time(), time.perf_counter()
    outcomes = [run_case(c) for c in found]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    assert all(o.passed for o in outcomes)
    print(
        f"{len(found)} scenarios: {cpu:.2f} s CPU, {wall:.2f} s wall ({cpu / len(found) * 1000:.1f} ms CPU each)"
    )


if __name__ == "__main__":
    main()
