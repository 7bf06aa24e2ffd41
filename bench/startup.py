"""Start-up benchmark: what `ocht` adds to importing Polars.

    uv sync --compile-bytecode && unset PYTHONDONTWRITEBYTECODE
    uv run python bench/startup.py --rounds 15

Times, as separate processes alternating round by round (so a burst of load on a shared
machine hits every command alike):

- ``python -c "import polars"`` (the reference: what any Polars program pays);
- ``ocht --help``;
- ``ocht validate EXAMPLE``;
- ``ocht run EXAMPLE --no-store``;
- ``ocht run EXAMPLE`` (the run store on, the default: a SQLite file in the project home).

EXAMPLE is ``examples/orders_clean.yaml`` (2,000 rows) copied into a temporary folder, so
its outputs and run store land there. Each command's wall time is the median over the
rounds; its CPU time (user + system, from ``RUSAGE_CHILDREN``) too, which a loaded machine
disturbs less. The first round warms the caches and is not counted. The table shows each
command's median, and for the ``ocht`` commands what they add to the reference and the
ratio to it.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
EXAMPLES = HERE.parent / "examples"
PYTHON = sys.executable
OCHT = str(Path(sys.executable).parent / "ocht")


def commands(pipeline: Path) -> dict[str, list[str]]:
    """The commands timed, by label; the first one is the reference."""
    return {
        "import polars": [PYTHON, "-c", "import polars"],
        "ocht --help": [OCHT, "--help"],
        "ocht validate": [OCHT, "validate", str(pipeline)],
        "ocht run --no-store": [OCHT, "run", str(pipeline), "--no-store"],
        "ocht run": [OCHT, "run", str(pipeline)],
    }


def timed(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``argv`` (which must succeed)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        print("note: PYTHONDONTWRITEBYTECODE is set; unset it to time what users' installs run")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "data").mkdir()
        shutil.copy(EXAMPLES / "orders_clean.yaml", root / "orders_clean.yaml")
        shutil.copy(EXAMPLES / "data" / "orders.csv", root / "data" / "orders.csv")
        cmds = commands(root / "orders_clean.yaml")
        walls: dict[str, list[float]] = {k: [] for k in cmds}
        cpus: dict[str, list[float]] = {k: [] for k in cmds}
        for round_ in range(args.rounds + 1):
            for label, argv in cmds.items():
                wall, cpu = timed(argv, root)
                if round_:  # the first round warms the caches
                    walls[label].append(wall)
                    cpus[label].append(cpu)
    load = os.getloadavg()
    print(
        f"{args.rounds} rounds, medians; load average {load[0]:.1f} / {load[1]:.1f} / "
        f"{load[2]:.1f} (1 / 5 / 15 min) at the end"
    )
    ref = "import polars"
    ref_wall, ref_cpu = statistics.median(walls[ref]), statistics.median(cpus[ref])
    print("| command | wall s | CPU s | wall added | CPU added | wall ratio | CPU ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label in cmds:
        wall, cpu = statistics.median(walls[label]), statistics.median(cpus[label])
        added = "" if label == ref else f"{wall - ref_wall:+.3f} | {cpu - ref_cpu:+.3f}"
        ratio = "" if label == ref else f"{wall / ref_wall:.2f}x | {cpu / ref_cpu:.2f}x"
        print(f"| `{label}` | {wall:.3f} | {cpu:.3f} | {added or ' | '} | {ratio or ' | '} |")


if __name__ == "__main__":
    main()
