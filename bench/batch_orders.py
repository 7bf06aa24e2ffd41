"""Batch benchmark: `ocht run` against hand-written Polars and DuckDB on the same data.

    uv run python bench/batch_orders.py                 # 10M rows, both variants and styles
    uv run python bench/batch_orders.py --rows 50000000 --variants all_rows --rounds 1

Generates synthetic orders (order_id, customer_id, country, amount, ts, status) as CSV
under bench/data/, in two timestamp styles (``space``: ``2024-03-01 12:34:56``; ``iso``:
``2024-03-01T12:34:56.123456``), then times each engine as a separate process (end to
end, interpreter start included), alternating engines round by round, and reports the
median wall time, the peak RSS (from /usr/bin/time) and the ratio to hand-written Polars.

The hand-written Polars reference is the fastest code a competent engineer writes by
hand: the timestamp read as text and parsed with its explicit format (``str.strptime``),
and the result written by the streaming ``sink_parquet``. Ocht's pipeline declares
nothing: it finds the timestamp column and its format from a sample.

Variants:
  group_by   filter status/amount, derive a converted amount, group by country and day
  all_rows   filter + derive, every surviving row written to Parquet

Engines ``ocht_skip`` and ``ocht_dead`` run the same pipeline with ``on_bad_lines: skip``
and ``dead_letter`` (every row checked; compare them with each other and with ``ocht``);
``ocht_untraced`` runs it with ``--trace-samples 0`` (what sampling rows for ``ocht trace``
costs). The ``cpu s`` column is user + system time of the process (median).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).parent
DATA = HERE / "data"

PIPELINES = {
    "group_by": """
        name: bench_group_by
        inputs:
          orders: {{type: csv, path: {csv}{options}}}
        steps:
          - kind: filter
            where: status = 'paid' AND amount > 10
          - kind: derive
            columns:
              amount_eur: amount * 0.92
              day: cast(ts AS date)
          - kind: aggregate
            by: [country, day]
            aggs:
              orders: count(*)
              revenue_eur: sum(amount_eur)
        outputs:
          out: {{type: parquet, path: {out}}}
    """,
    "all_rows": """
        name: bench_all_rows
        inputs:
          orders: {{type: csv, path: {csv}{options}}}
        steps:
          - kind: filter
            where: status = 'paid' AND amount > 10
          - kind: derive
            columns:
              amount_eur: amount * 0.92
              day: cast(ts AS date)
        outputs:
          out: {{type: parquet, path: {out}}}
    """,
}

POLARS = {
    "group_by": """
        import polars as pl
        (pl.scan_csv({csv!r}, schema_overrides={{"ts": pl.String}})
           .with_columns(pl.col("ts").str.strptime(pl.Datetime("us"), {fmt!r}))
           .filter((pl.col("status") == "paid") & (pl.col("amount") > 10))
           .with_columns(amount_eur=pl.col("amount") * 0.92, day=pl.col("ts").dt.date())
           .group_by("country", "day")
           .agg(orders=pl.len(), revenue_eur=pl.col("amount_eur").sum())
           .sink_parquet({out!r}))
    """,
    "all_rows": """
        import polars as pl
        (pl.scan_csv({csv!r}, schema_overrides={{"ts": pl.String}})
           .with_columns(pl.col("ts").str.strptime(pl.Datetime("us"), {fmt!r}))
           .filter((pl.col("status") == "paid") & (pl.col("amount") > 10))
           .with_columns(amount_eur=pl.col("amount") * 0.92, day=pl.col("ts").dt.date())
           .sink_parquet({out!r}))
    """,
}

#: timestamp style -> (strftime format used to write, strptime format the reference uses)
STYLES = {
    "space": ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S"),
    "iso": ("%Y-%m-%dT%H:%M:%S%.6f", "%Y-%m-%dT%H:%M:%S%.f"),
}

DUCKDB = {
    "group_by": """
        import duckdb
        duckdb.sql('''COPY (SELECT country, CAST(ts AS DATE) AS day, count(*) AS orders,
                      sum(amount * 0.92) AS revenue_eur
                    FROM read_csv({csv!r}) WHERE status = 'paid' AND amount > 10
                    GROUP BY ALL) TO {out!r} (FORMAT parquet)''')
    """,
    "all_rows": """
        import duckdb
        duckdb.sql('''COPY (SELECT *, amount * 0.92 AS amount_eur, CAST(ts AS DATE) AS day
                    FROM read_csv({csv!r}) WHERE status = 'paid' AND amount > 10)
                    TO {out!r} (FORMAT parquet)''')
    """,
}


def generate(rows: int, style: str) -> Path:
    """Write (once) a CSV of synthetic orders with ``rows`` rows, timestamps in ``style``."""
    path = DATA / f"orders_{rows}_{style}.csv"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    print(f"generating {rows:,} rows -> {path}", flush=True)
    chunk = 5_000_000
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        for start in range(0, rows, chunk):
            n = min(chunk, rows - start)
            df = _frame(start, n)
            df.write_csv(fh, include_header=start == 0, datetime_format=STYLES[style][0])
    tmp.rename(path)
    return path


def _frame(start: int, n: int) -> pl.DataFrame:
    return pl.select(idx=pl.int_range(start, start + n, dtype=pl.Int64)).select(
        order_id=pl.col("idx"),
        customer_id=(pl.col("idx") * 7919) % 100_003,
        country=pl.lit(pl.Series(["DE", "FR", "NL", "IE", "ES", "IT", "PL", "SE"])).gather(
            (pl.col("idx") * 31) % 8
        ),
        amount=((pl.col("idx") * 104_729) % 50_000).cast(pl.Float64) / 100.0,
        ts=pl.datetime(2024, 1, 1)
        + pl.duration(
            seconds=pl.col("idx") % 7_776_000, microseconds=(pl.col("idx") * 7) % 1_000_000
        ),
        status=pl.lit(pl.Series(["paid", "paid", "paid", "refunded", "pending"])).gather(
            (pl.col("idx") * 13) % 5
        ),
    )


def timed(cmd: list[str]) -> tuple[float, float, float]:
    """(wall seconds, peak RSS MiB, CPU seconds) of one process."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M %U %S", *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stdout}\n{proc.stderr}")
    rss_kib, user, system = proc.stderr.strip().splitlines()[-1].split()
    return wall, int(rss_kib) / 1024, float(user) + float(system)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--variants", nargs="+", default=["group_by", "all_rows"], choices=list(PIPELINES)
    )
    ap.add_argument("--styles", nargs="+", default=list(STYLES), choices=list(STYLES))
    ap.add_argument("--engines", nargs="+", default=["ocht", "polars", "duckdb"])
    ap.add_argument("--generate-only", action="store_true", help="write the data and stop")
    args = ap.parse_args()
    files = {style: generate(args.rows, style) for style in args.styles}
    if args.generate_only:
        return
    work = Path(tempfile.mkdtemp(prefix="ocht-bench-"))
    python = sys.executable
    ocht = str(Path(python).parent / "ocht")
    print(f"rows={args.rows:,} rounds={args.rounds}")
    for style, csv in files.items():
        print(f"\nstyle={style} csv={csv.stat().st_size / 2**20:,.0f} MiB")
        for variant in args.variants:
            run_variant(args, style, csv, variant, work, python, ocht)


def run_variant(
    args: argparse.Namespace,
    style: str,
    csv: Path,
    variant: str,
    work: Path,
    python: str,
    ocht: str,
) -> None:
    """Time every engine on one (style, variant) and print the table."""
    out = {e: str(work / f"{style}_{variant}_{e}.parquet") for e in args.engines}
    pipe = work / f"{style}_{variant}.yaml"
    pipe.write_text(
        textwrap.dedent(PIPELINES[variant]).format(csv=csv, out=out.get("ocht", ""), options="")
    )
    modes = {}  # ocht under on_bad_lines skip / dead_letter: the cost of checking every row
    for engine, mode in (("ocht_skip", "skip"), ("ocht_dead", "dead_letter")):
        if engine in args.engines:
            modes[engine] = work / f"{style}_{variant}_{mode}.yaml"
            modes[engine].write_text(
                textwrap.dedent(PIPELINES[variant]).format(
                    csv=csv, out=out[engine], options=f", on_bad_lines: {mode}"
                )
            )
    fmt = STYLES[style][1]
    commands = {
        "ocht": [ocht, "run", str(pipe), "--quiet"],
        "ocht_untraced": [ocht, "run", str(pipe), "--quiet", "--trace-samples", "0"],
        **{e: [ocht, "run", str(path), "--quiet"] for e, path in modes.items()},
        "polars": [
            python,
            "-c",
            textwrap.dedent(POLARS[variant]).format(
                csv=str(csv), out=out.get("polars", ""), fmt=fmt
            ),
        ],
        "duckdb": [
            python,
            "-c",
            textwrap.dedent(DUCKDB[variant]).format(csv=str(csv), out=out.get("duckdb", "")),
        ],
    }
    walls: dict[str, list[float]] = {e: [] for e in args.engines}
    cpus: dict[str, list[float]] = {e: [] for e in args.engines}
    rss: dict[str, float] = dict.fromkeys(args.engines, 0.0)
    for _ in range(args.rounds):
        for engine in args.engines:
            wall, peak, cpu = timed(commands[engine])
            walls[engine].append(wall)
            cpus[engine].append(cpu)
            rss[engine] = max(rss[engine], peak)
    base = statistics.median(walls["polars"]) if "polars" in walls else None
    print(f"\n{style} / {variant}")
    print(
        f"  {'engine':13} {'median s':>9} {'cpu s':>7} {'rows/s':>12} {'peak RSS MiB':>13} "
        f"{'vs polars':>10}"
    )
    for engine in args.engines:
        med = statistics.median(walls[engine])
        cpu = statistics.median(cpus[engine])
        ratio = f"{med / base:.2f}x" if base else "-"
        print(
            f"  {engine:13} {med:9.2f} {cpu:7.2f} {args.rows / med:12,.0f} "
            f"{rss[engine]:13,.0f} {ratio:>10}"
        )
    if "ocht" in out and "polars" in out:
        a = pl.read_parquet(out["ocht"])
        b = pl.read_parquet(out["polars"])
        same = a.height == b.height and a.columns == b.columns
        print(
            f"  ocht and polars outputs: {a.height:,} vs {b.height:,} rows "
            f"({'same rows and columns' if same else 'DIFFERENT'})"
        )


if __name__ == "__main__":
    main()
