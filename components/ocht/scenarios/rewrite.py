"""Test connectors in place of real ones: a pipeline rewritten to read given data and write
into a scratch folder, so a scenario touches no real file, database, broker or endpoint.

Each input keeps its own reader where it can, so given rows meet the same options (types,
``on_bad_lines``, encodings) a real run meets:

- ``csv``, ``ndjson``, ``json``: the given rows (or raw ``text``) are written in that format
  into the scratch folder and the input's ``path`` points there, every option kept;
- ``parquet``: written as Parquet;
- ``sql``: the rows go into a table of a scratch SQLite database and the input reads it
  (cursors and incremental state work as in production);
- any other type (``kafka``, ``http``, ``avro``, plugins): NDJSON with the input's declared
  ``schema`` when it has one.

Every output becomes a Parquet file in the scratch folder (``from`` kept), and the dead
letters an NDJSON file.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl

from ocht.scenarios.model import Given

_TEXT_TYPES = ("csv", "ndjson", "json")


def output_path(scratch: Path, name: str) -> Path:
    """Where the rewritten output ``name`` writes."""
    return scratch / "outputs" / f"{name}.parquet"


def dead_letter_path(scratch: Path) -> Path:
    """Where the rewritten pipeline's dead letters go."""
    return scratch / "outputs" / "_dead_letters.ndjson"


def rewrite(
    document: dict[str, Any],
    given: dict[str, Given],
    *,
    scratch: Path,
    scenario_dir: Path,
    run: int,
) -> dict[str, Any]:
    """``document`` (a validated pipeline dumped as a dict) reading ``given`` data.

    Raises:
        KeyError: a given input the pipeline does not have (the caller reports it).
    """
    doc = dict(document)
    inputs = dict(doc.get("inputs", {}))
    for name in given:
        if name not in inputs:
            raise KeyError(name)
    for name, spec in inputs.items():
        data = given.get(name)
        inputs[name] = _input(dict(spec), name, data, scratch, scenario_dir, run)
    doc["inputs"] = inputs
    outputs: dict[str, Any] = {}
    for name, spec in doc.get("outputs", {}).items():
        out: dict[str, Any] = {"type": "parquet", "path": str(output_path(scratch, name))}
        if spec.get("from"):
            out["from"] = spec["from"]
        outputs[name] = out
    doc["outputs"] = outputs
    doc["dead_letter"] = {"type": "ndjson", "path": str(dead_letter_path(scratch))}
    doc.pop("profiles", None)
    doc.pop("tests", None)
    return doc


def _input(
    spec: dict[str, Any],
    name: str,
    data: Given | None,
    scratch: Path,
    scenario_dir: Path,
    run: int,
) -> dict[str, Any]:
    kind = str(spec.get("type"))
    folder = scratch / "inputs" / name
    folder.mkdir(parents=True, exist_ok=True)
    if kind == "sql":
        return _sql_input(spec, name, data, scratch)
    fmt = kind if kind in (*_TEXT_TYPES, "parquet") else "ndjson"
    incremental = spec.get("incremental") == "files"
    if not incremental:  # a plain input holds this run's data only
        for old in folder.iterdir():
            old.unlink()
    target = folder / f"run{run:03d}.{fmt}"
    if data is None:
        _write_rows(target, fmt, [], spec)
    elif data.file is not None:
        shutil.copyfile(scenario_dir / data.file, target)
    elif data.text is not None:
        target.write_text(data.text, encoding="utf-8")
    else:
        _write_rows(target, fmt, data.rows or [], spec)
    if kind in (*_TEXT_TYPES, "parquet"):
        return {**spec, "path": str(folder), "storage_options": None}
    local: dict[str, Any] = {"type": "ndjson", "path": str(folder)}
    if spec.get("schema"):
        local["schema"] = spec["schema"]
    return local


def _write_rows(target: Path, fmt: str, rows: list[dict[str, Any]], spec: dict[str, Any]) -> None:
    if fmt in ("ndjson", "json"):
        lines = [json.dumps(r, default=str) for r in rows]
        text = "\n".join(lines) + ("\n" if lines else "")
        target.write_text(text if fmt == "ndjson" else f"[{','.join(lines)}]", encoding="utf-8")
        return
    frame = pl.DataFrame(rows, infer_schema_length=None) if rows else pl.DataFrame()
    declared = [c for c in (spec.get("schema") or {}) if c in frame.columns]
    if declared:  # a declared schema is positional for CSV: write its columns in its order
        frame = frame.select(declared, *[c for c in frame.columns if c not in declared])
    if fmt == "csv":
        frame.write_csv(
            target,
            separator=str(spec.get("delimiter", ",")),
            include_header=bool(spec.get("header", True)),
        )
    else:
        frame.write_parquet(target)


def _sql_input(
    spec: dict[str, Any], name: str, data: Given | None, scratch: Path
) -> dict[str, Any]:
    url = f"sqlite:///{scratch / 'inputs' / 'given.db'}"
    table = str(spec.get("table") or name)
    rows = (data.rows if data is not None else None) or []
    if data is not None and data.rows is not None:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        try:
            pl.DataFrame(rows, infer_schema_length=None).write_database(
                table, connection=engine, if_table_exists="append"
            )
        finally:
            engine.dispose()
    out = {**spec, "url": url, "table": table}
    out.pop("schema", None)
    return out
