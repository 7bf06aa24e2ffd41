"""A run's lineage graph from its pipeline: datasets named per the OpenLineage spec.

Dataset names follow https://openlineage.io/docs/spec/naming:

| where | namespace | name |
|---|---|---|
| local file | ``file://{host}`` | absolute path |
| S3 / GCS / Azure | ``s3://{bucket}`` (``gs://``, ``abfss://``) | key |
| PostgreSQL | ``postgres://{host}:{port}`` | ``{database}.{schema}.{table}`` |
| other SQL | ``{scheme}://{host}:{port}`` (``sqlite`` → ``file://{host}``) | table (or path) |
| Kafka | ``kafka://{first bootstrap server}`` | topic |
| HTTP | ``{scheme}://{host}:{port}`` | path |

Credentials never enter a name: URLs are rebuilt from host, port and path only.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import polars as pl

from ocht.pipeline_model import (
    FileConnector,
    HttpConnector,
    KafkaConnector,
    Pipeline,
    SqlConnector,
)

_DEFAULT_PORTS = {"postgres": 5432, "mysql": 3306, "http": 80, "https": 443}


@dataclass(frozen=True)
class Dataset:
    """One input or output as OpenLineage names it, with its columns when known."""

    role: str  # "input" or "output"
    key: str  # the input or output name in the pipeline
    namespace: str
    name: str
    columns: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (kept in the run manifest)."""
        return {
            "role": self.role,
            "key": self.key,
            "namespace": self.namespace,
            "name": self.name,
            "columns": [list(c) for c in self.columns],
        }


@dataclass(frozen=True)
class LineageGraph:
    """Inputs → steps → outputs of one pipeline."""

    job: str
    inputs: tuple[Dataset, ...]
    steps: tuple[tuple[str, str, tuple[str, ...]], ...]  # (id, kind, reads)
    outputs: tuple[Dataset, ...]
    column_lineage: dict[str, dict[str, list[tuple[str, str, str]]]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (kept in the run manifest, read by ``ocht lineage``)."""
        return {
            "job": self.job,
            "inputs": [d.to_dict() for d in self.inputs],
            "steps": [{"id": i, "kind": k, "reads": list(r)} for i, k, r in self.steps],
            "outputs": [d.to_dict() for d in self.outputs],
            "column_lineage": self.column_lineage,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LineageGraph:
        """The graph :meth:`to_dict` wrote."""

        def ds(d: Mapping[str, Any]) -> Dataset:
            cols = tuple((str(a), str(b)) for a, b in d.get("columns", []))
            return Dataset(d["role"], d["key"], d["namespace"], d["name"], cols)

        return cls(
            job=str(data["job"]),
            inputs=tuple(ds(d) for d in data.get("inputs", [])),
            steps=tuple(
                (s["id"], s["kind"], tuple(s.get("reads", []))) for s in data.get("steps", [])
            ),
            outputs=tuple(ds(d) for d in data.get("outputs", [])),
            column_lineage={
                out: {
                    col: [(str(a), str(b), str(c)) for a, b, c in src] for col, src in cols.items()
                }
                for out, cols in data.get("column_lineage", {}).items()
            },
        )


def dataset_name(spec: Any, base_dir: Path) -> tuple[str, str]:
    """(namespace, name) of a connector spec per the OpenLineage naming spec.

    Example:
        >>> from ocht.pipeline_model import ParquetConnector
        >>> dataset_name(ParquetConnector(type="parquet", path="s3://lake/o/x.parquet"), Path("."))
        ('s3://lake', 'o/x.parquet')
    """
    if isinstance(spec, FileConnector):
        scheme = spec.location_scheme()
        if scheme is not None:
            parts = urlsplit(spec.path)
            return f"{scheme}://{parts.netloc}", parts.path.lstrip("/")
        path = Path(spec.path).expanduser()
        full = path if path.is_absolute() else (base_dir / path)
        return f"file://{socket.gethostname()}", str(full.resolve())
    if isinstance(spec, SqlConnector):
        return _sql_name(spec, base_dir)
    if isinstance(spec, KafkaConnector):
        first = spec.brokers.split(",")[0].strip()
        topic = spec.topic or ",".join(spec.topics or []) or spec.pattern or ""
        return f"kafka://{first}", topic
    if isinstance(spec, HttpConnector):
        parts = urlsplit(spec.url)
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
        return f"{parts.scheme}://{parts.hostname}:{port}", parts.path or "/"
    return f"ocht://{spec.type}", str(getattr(spec, "path", "") or spec.type)


def _sql_name(spec: SqlConnector, base_dir: Path) -> tuple[str, str]:
    parts = urlsplit(str(spec.url))
    scheme = parts.scheme.split("+")[0]
    table = spec.table or "query"
    if scheme == "sqlite":
        db = parts.path.lstrip("/") or ":memory:"
        full = Path(db) if Path(db).is_absolute() else base_dir / db
        return f"file://{socket.gethostname()}", f"{full.resolve()}.{table}"
    if scheme in ("postgresql", "postgres"):
        scheme = "postgres"
    port = parts.port or _DEFAULT_PORTS.get(scheme, 0)
    database = parts.path.lstrip("/")
    schema = spec.schema_ or ("public" if scheme == "postgres" else None)
    qualified = (
        ".".join(p for p in (database, schema, table) if p)
        if "." not in table
        else (f"{database}.{table}")
    )
    return f"{scheme}://{parts.hostname}:{port}", qualified


def graph(
    pipeline: Pipeline,
    *,
    base_dir: Path,
    schemas: Mapping[str, pl.Schema] | None = None,
    output_frames: Mapping[str, str] | None = None,
) -> LineageGraph:
    """The lineage graph of ``pipeline``.

    Args:
        pipeline: the validated pipeline.
        base_dir: where relative paths resolve (the pipeline's folder).
        schemas: compiled schemas per frame (input names, step ids): column facets.
        output_frames: the frame each output writes (for its columns).
    """
    schemas = schemas or {}
    output_frames = output_frames or {}

    def columns(frame: str | None) -> tuple[tuple[str, str], ...]:
        schema = schemas.get(frame) if frame else None
        return tuple((n, str(t)) for n, t in schema.items()) if schema is not None else ()

    inputs = tuple(
        Dataset("input", name, *dataset_name(spec, base_dir), columns(name))
        for name, spec in pipeline.inputs.items()
    )
    outputs = tuple(
        Dataset("output", name, *dataset_name(spec, base_dir), columns(output_frames.get(name)))
        for name, spec in pipeline.outputs.items()
    )
    steps = tuple(
        (str(getattr(s, "id", None) or f"{s.kind}_{i + 1}"), str(s.kind), ())
        for i, s in enumerate(pipeline.steps)
    )
    return LineageGraph(
        job=pipeline.name,
        inputs=inputs,
        steps=steps,
        outputs=outputs,
        column_lineage={o.key: _identity(o, inputs) for o in outputs if o.columns},
    )


def _identity(
    output: Dataset, inputs: tuple[Dataset, ...]
) -> dict[str, list[tuple[str, str, str]]]:
    """Output columns carried through unchanged: same name and type in exactly one input,
    as (namespace, dataset name, field)."""
    found: dict[str, list[tuple[str, str, str]]] = {}
    for col, dtype in output.columns:
        sources = [i for i in inputs if (col, dtype) in i.columns]
        if len(sources) == 1:
            found[col] = [(sources[0].namespace, sources[0].name, col)]
    return found


def render(data: LineageGraph) -> str:
    """``inputs → steps → outputs`` as text (what ``ocht lineage RUN_ID`` prints).

    Example:
        >>> g = LineageGraph("p", (Dataset("input", "i", "file://h", "/d/a.csv"),),
        ...                  (("f", "filter", ()),), (Dataset("output", "o", "s3://b", "x"),))
        >>> print(render(g))
        job p
          input  i   file://h/d/a.csv
          step   f   [filter]
          output o   s3://b/x
    """
    width = max(
        [len(d.key) for d in (*data.inputs, *data.outputs)] + [len(s[0]) for s in data.steps] + [1]
    )
    lines = [f"job {data.job}"]
    for d in data.inputs:
        lines.append(f"  input  {d.key:<{width}}   {_url(d)}")
    for step_id, kind, _ in data.steps:
        lines.append(f"  step   {step_id:<{width}}   [{kind}]")
    for d in data.outputs:
        lines.append(f"  output {d.key:<{width}}   {_url(d)}")
    return "\n".join(lines)


def _url(d: Dataset) -> str:
    return (
        f"{d.namespace}/{d.name.lstrip('/')}"
        if d.namespace.startswith("file")
        else (f"{d.namespace}/{d.name}")
    )
