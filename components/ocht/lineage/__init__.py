"""Lineage: a run's inputs → steps → outputs as OpenLineage datasets and run events.

The graph is built from the pipeline (datasets named per the OpenLineage naming spec,
schema facets from the compiled schemas, identity column lineage where a column is carried
through unchanged); events go to a file or an HTTP consumer (openlineage-python, an extra).

Example:
    >>> from pathlib import Path
    >>> from ocht.pipeline_model import validate
    >>> p = validate({"name": "demo",
    ...     "inputs": {"src": {"type": "parquet", "path": "s3://lake/raw/*.parquet"}},
    ...     "outputs": {"dst": {"type": "kafka", "brokers": "k1:9092,k2:9092", "topic": "t"}}})
    >>> g = graph(p, base_dir=Path("."))
    >>> [(d.namespace, d.name) for d in (*g.inputs, *g.outputs)]
    [('s3://lake', 'raw/*.parquet'), ('kafka://k1:9092', 't')]
"""

from ocht.lineage.events import LineageEmitter, run_event, run_uuid
from ocht.lineage.graph import Dataset, LineageGraph, dataset_name, graph, render
from ocht.lineage.hooks import LineageHooks, graph_of

__all__ = [
    "Dataset",
    "LineageEmitter",
    "LineageGraph",
    "LineageHooks",
    "dataset_name",
    "graph",
    "graph_of",
    "render",
    "run_event",
    "run_uuid",
]
