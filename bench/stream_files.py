"""Stream file outputs: what rolling, crash-safe part files cost against writing the same
micro-batches straight into part files.

    uv run python bench/stream_files.py                       # 100 batches of 10,000 rows
    uv run python bench/stream_files.py --batches 200 --rows 5000 --roll-rows 200000

The same micro-batches (orders-like rows) go, per format, through:

  ocht      ``PartFiles`` as a stream run drives it: ``write`` (a fsynced Arrow chunk in
            staging) → ``stage`` (a part built every ``--roll-rows``) → ``journal`` →
            ``publish`` (rename into the folder); the checkpoint save is not included
            (the offsets cost it without file outputs too)
  direct    a loop that keeps the batches in memory and writes one part with Polars'
            ``write_*`` every ``--roll-rows`` rows: no staging, no fsync, nothing
            survives a crash

Engines alternate (direct, ocht, direct, ocht); CPU time is this process's user + system
time (``resource.getrusage``), so other load on the machine shows less than in wall time.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import polars as pl

from ocht.connector_files import CsvParts, NdjsonParts, ParquetParts
from ocht.pipeline_model import CsvConnector, NdjsonConnector, ParquetConnector
from ocht.registry import RunContext

KINDS = {
    "parquet": (ParquetParts, ParquetConnector, lambda df, p: df.write_parquet(p)),
    "csv": (CsvParts, CsvConnector, lambda df, p: df.write_csv(p)),
    "ndjson": (NdjsonParts, NdjsonConnector, lambda df, p: df.write_ndjson(p)),
}


def batches(n: int, rows: int) -> list[pl.DataFrame]:
    out = []
    t0 = datetime(2024, 1, 1)
    for b in range(n):
        base = b * rows
        out.append(
            pl.DataFrame(
                {
                    "order_id": pl.int_range(base, base + rows, eager=True),
                    "country": pl.Series(["DE", "FR", "NL", "IE", "ES"] * (rows // 5 + 1))[:rows],
                    "amount": pl.int_range(0, rows, eager=True).cast(pl.Float64) * 0.37,
                    "ts": pl.datetime_range(t0, t0 + timedelta(seconds=rows - 1), "1s", eager=True),
                }
            )
        )
    return out


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def run_ocht(kind: str, data: list[pl.DataFrame], roll: int, work: Path) -> tuple[float, float]:
    cls, model, _ = KINDS[kind]
    folder = work / "ocht" / "out"
    ctx = RunContext("20260101T000000-bench0", "bench", base_dir=work, mode="stream")
    spec = model(type=kind, path=str(folder), roll_rows=roll, roll_seconds=86_400)
    c0, w0 = cpu(), time.perf_counter()
    sink = cls(spec, name="out", context=ctx)
    sink.recover({}, scope="bench")
    for df in data:
        sink.write(df)
        sink.stage()
        sink.journal()
        sink.publish()
    sink.roll(force=True)
    sink.publish()
    sink.close()
    seconds = (cpu() - c0, time.perf_counter() - w0)
    assert sum(
        pl.scan_parquet(p).select(pl.len()).collect().item() if kind == "parquet" else 1
        for p in folder.iterdir()
    )
    return seconds


def run_direct(kind: str, data: list[pl.DataFrame], roll: int, work: Path) -> tuple[float, float]:
    _, _, write = KINDS[kind]
    folder = work / "direct" / "out"
    folder.mkdir(parents=True)
    c0, w0 = cpu(), time.perf_counter()
    held: list[pl.DataFrame] = []
    rows, seq = 0, 0
    for df in data:
        held.append(df)
        rows += df.height
        if rows >= roll:
            seq += 1
            write(pl.concat(held), folder / f"part-{seq:06d}.{kind}")
            held, rows = [], 0
    if held:
        seq += 1
        write(pl.concat(held), folder / f"part-{seq:06d}.{kind}")
    return cpu() - c0, time.perf_counter() - w0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=100)
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--roll-rows", type=int, default=100_000)
    ap.add_argument("--formats", default="parquet,csv,ndjson")
    args = ap.parse_args()
    data = batches(args.batches, args.rows)
    total = args.batches * args.rows
    print(f"{args.batches} batches x {args.rows} rows, a part every {args.roll_rows} rows")
    print("format   engine   cpu s (2 runs)      wall s (2 runs)     rows/s cpu")
    for kind in args.formats.split(","):
        got: dict[str, list[tuple[float, float]]] = {"direct": [], "ocht": []}
        for _ in range(2):
            for engine, fn in (("direct", run_direct), ("ocht", run_ocht)):
                work = Path(tempfile.mkdtemp(prefix="ocht-bench-files-"))
                try:
                    got[engine].append(fn(kind, data, args.roll_rows, work))
                finally:
                    shutil.rmtree(work, ignore_errors=True)
        for engine, runs in got.items():
            c = " / ".join(f"{r[0]:.2f}" for r in runs)
            w = " / ".join(f"{r[1]:.2f}" for r in runs)
            best = min(r[0] for r in runs)
            print(f"{kind:8} {engine:8} {c:19} {w:19} {total / best:,.0f}")
        ratio = min(r[0] for r in got["ocht"]) / min(r[0] for r in got["direct"])
        wall = min(r[1] for r in got["ocht"]) / min(r[1] for r in got["direct"])
        print(f"{kind:8} ocht/direct: cpu {ratio:.2f}x, wall {wall:.2f}x")


if __name__ == "__main__":
    main()
