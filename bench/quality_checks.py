"""Data-quality benchmark: a pipeline with five checks vs the same pipeline without them.

    uv run python bench/quality_checks.py                      # 10M rows, 3 rounds
    uv run python bench/quality_checks.py --rows 1000000 --rounds 5

Generates synthetic orders (order_id, email, country, amount, code) as Parquet under a
temporary folder, then runs ``ocht run`` (a separate process each time, interpreter start
included) on two pipelines, alternating them round by round:

  plain    parquet -> derive -> parquet
  checked  parquet -> check (five checks) -> derive -> parquet, dead letters to NDJSON

The five checks: not_null(order_id) fail, range(amount) dead_letter, accepted_values(country)
dead_letter, regex(email) warn, length(code) fix. About 1% of rows are dead-lettered, 1% get
a fix, 1% raise a warning. Prints the median wall time and CPU time (user + system, steadier on a busy
machine) of each, and the ratios (target <= 1.5x).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

PLAIN = """
name: bench_plain
inputs:
  orders: {{type: parquet, path: {data}}}
steps:
  - kind: derive
    columns: {{amount_eur: amount * 0.92}}
outputs:
  out: {{type: parquet, path: {out}}}
"""

CHECKED = """
name: bench_checked
inputs:
  orders: {{type: parquet, path: {data}}}
steps:
  - kind: check
    checks:
      - {{type: not_null, column: order_id, action: fail}}
      - {{type: range, column: amount, min: 0, max: 10000, action: dead_letter}}
      - {{type: accepted_values, column: country, values: [DE, FR, NL, BE, IT, ES], action: dead_letter}}
      - {{type: regex, column: email, pattern: "^[^@]+@[^@]+$", action: warn}}
      - {{type: length, column: code, max: 6, action: fix}}
  - kind: derive
    columns: {{amount_eur: amount * 0.92}}
outputs:
  out: {{type: parquet, path: {out}}}
dead_letter: {{type: ndjson, path: {dead}}}
"""


def make_data(path: Path, rows: int) -> None:
    """Synthetic orders with ~1% bad amounts, ~1% unknown countries, ~1% bad emails."""
    i = pl.int_range(0, rows, eager=False, dtype=pl.Int64)
    countries = ["DE", "FR", "NL", "BE", "IT", "ES"]
    frame = (
        pl.LazyFrame()
        .select(i.alias("order_id"))
        .with_columns(
            pl.when(pl.col("order_id") % 97 == 0)
            .then(pl.lit("broken-email"))
            .otherwise(pl.format("user{}@example.com", pl.col("order_id") % 100_000))
            .alias("email"),
            pl.when(pl.col("order_id") % 101 == 0)
            .then(pl.lit("XX"))
            .otherwise(pl.lit(pl.Series(countries)).gather(pl.col("order_id") % len(countries)))
            .alias("country"),
            pl.when(pl.col("order_id") % 103 == 0)
            .then(-1.0)
            .otherwise((pl.col("order_id") % 5000).cast(pl.Float64) / 3)
            .alias("amount"),
            pl.when(pl.col("order_id") % 107 == 0)
            .then(pl.lit("  TOOLONGCODE  "))
            .otherwise(pl.lit("AB12"))
            .alias("code"),
        )
    )
    frame.sink_parquet(path)


def run(pipeline: Path) -> tuple[float, float]:
    """Wall seconds and CPU seconds (user + system) of one ``ocht run``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    ocht = Path(sys.executable).with_name("ocht")  # the console script of this venv
    subprocess.run([str(ocht), "run", "--quiet", "--no-store", str(pipeline)], check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ocht-bench-quality-"))
    try:
        data = folder / "orders.parquet"
        t0 = time.perf_counter()
        make_data(data, args.rows)
        print(f"data: {args.rows:,} rows in {time.perf_counter() - t0:.1f}s ({data})")
        pipelines = {}
        for name, text in (("plain", PLAIN), ("checked", CHECKED)):
            path = folder / f"{name}.yaml"
            path.write_text(
                text.format(data=data, out=folder / f"{name}.parquet", dead=folder / "dead.ndjson")
            )
            pipelines[name] = path
        times: dict[str, list[float]] = {"plain": [], "checked": []}
        cpus: dict[str, list[float]] = {"plain": [], "checked": []}
        run(pipelines["plain"])  # warm the file cache once
        for r in range(args.rounds):
            order = ["plain", "checked"] if r % 2 == 0 else ["checked", "plain"]
            for name in order:
                wall, cpu = run(pipelines[name])
                times[name].append(wall)
                cpus[name].append(cpu)
            print(
                f"round {r + 1}: "
                + "  ".join(f"{n} {times[n][-1]:.2f}s (cpu {cpus[n][-1]:.2f}s)" for n in order)
            )
        plain = statistics.median(times["plain"])
        checked = statistics.median(times["checked"])
        plain_cpu = statistics.median(cpus["plain"])
        checked_cpu = statistics.median(cpus["checked"])
        dead = pl.scan_ndjson(folder / "dead.ndjson").select(pl.len()).collect().item()
        print(f"median: plain {plain:.2f}s, checked {checked:.2f}s ({dead:,} dead letters)")
        print(
            f"ratio checked/plain: {checked / plain:.2f}x wall (target <= 1.5x), "
            f"{checked_cpu / plain_cpu:.2f}x cpu ({checked_cpu:.2f}s / {plain_cpu:.2f}s)"
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
