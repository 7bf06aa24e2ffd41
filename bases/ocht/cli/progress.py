"""How much input a run has, estimated before it starts, for the progress line.

Parquet files say how many rows they hold (read from their footers); CSV and NDJSON
files are estimated from their size and the bytes per line of their first 64 KiB.
Inputs of unknown size (SQL tables, Kafka) make the total unknown: the progress line then
shows rows and rate only.
"""

from __future__ import annotations

import glob
from pathlib import Path
from typing import Any

SAMPLE_BYTES = 64 * 1024


def files_of(path: str, base_dir: Path) -> list[Path]:
    """The files a connector ``path`` names: one file, a glob, or a folder's files."""
    target = Path(path).expanduser()
    if not target.is_absolute():
        target = base_dir / target
    if any(c in path for c in "*?["):
        return sorted(Path(p) for p in glob.glob(str(target), recursive=True) if Path(p).is_file())
    if target.is_dir():
        return sorted(p for p in target.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [target] if target.is_file() else []


def estimate_rows(spec: Any, base_dir: Path) -> int | None:
    """Rows an input will give, exactly (Parquet) or estimated (text), or ``None``."""
    kind = getattr(spec, "type", None)
    path = getattr(spec, "path", None)
    if kind not in ("csv", "ndjson", "parquet") or not isinstance(path, str):
        return None
    files = files_of(path, base_dir)
    if not files:
        return None
    if kind == "parquet":
        import polars as pl

        try:
            return sum(int(pl.scan_parquet(f).select(pl.len()).collect().item()) for f in files)
        except Exception:  # a corrupt footer is the run's to report, not the estimate's
            return None
    total = sum(f.stat().st_size for f in files)
    with files[0].open("rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    lines = sample.count(b"\n")
    if not lines:
        return 1 if total else 0
    rows = round(total / (len(sample) / lines))
    header = 1 if kind == "csv" and getattr(spec, "header", True) else 0
    return max(rows - header * len(files), 0)


def estimate_input_rows(inputs: dict[str, Any], base_dir: Path) -> int | None:
    """Rows all inputs will give, or ``None`` when any input's size is unknown."""
    total = 0
    for spec in inputs.values():
        rows = estimate_rows(spec, base_dir)
        if rows is None:
            return None
        total += rows
    return total


def describe(rows: int, seconds: float, total: int | None) -> str:
    """The progress line: rows and rate, plus percentage and ETA when the total is known.

    Example:
        >>> describe(2_500, 2.0, 10_000)
        'read 2,500 of ~10,000 rows (25%, 1,250 rows/s, about 6s left)'
    """
    rate = rows / max(seconds, 1e-9)
    if not total or rows > total:
        return f"read {rows:,} rows ({rate:,.0f} rows/s)"
    left = (total - rows) / rate if rate > 0 else 0.0
    eta = f"{left:.0f}s" if left < 120 else f"{left / 60:.0f}m"
    return f"read {rows:,} of ~{total:,} rows ({rows / total:.0%}, {rate:,.0f} rows/s, about {eta} left)"
