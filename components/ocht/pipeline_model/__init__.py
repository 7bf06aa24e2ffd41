"""The pipeline spec: typed, frozen pydantic models, loading, validation and JSON Schema.

Example:
    >>> from ocht.pipeline_model import validate
    >>> p = validate({"name": "demo",
    ...               "inputs": {"src": {"type": "csv", "path": "in.csv"}},
    ...               "outputs": {"dst": {"type": "parquet", "path": "out.parquet"}}})
    >>> p.name
    'demo'
"""

from ocht.pipeline_model.connectors import (
    BUILTIN_CONNECTORS,
    ConnectorBase,
    ConsoleConnector,
    CsvConnector,
    FileConnector,
    JsonConnector,
    NdjsonConnector,
    ParquetConnector,
    PluginConnector,
)
from ocht.pipeline_model.document import Document, parse_document, read_document
from ocht.pipeline_model.kafka import KafkaConnector
from ocht.pipeline_model.model import Pipeline, Profile, json_schema
from ocht.pipeline_model.sql import SqlConnector
from ocht.pipeline_model.steps import (
    BUILTIN_STEPS,
    Aggregate,
    Cast,
    Dedupe,
    Derive,
    Drop,
    Explode,
    FillNull,
    Filter,
    Join,
    Limit,
    PluginStep,
    Rename,
    Route,
    Select,
    Sort,
    Spec,
    Sql,
    StepBase,
    Union,
    Unnest,
    Window,
)
from ocht.pipeline_model.validation import (
    did_you_mean,
    format_path,
    resolve_input,
    resolve_output_source,
    suggest,
    validate,
)

__all__ = [
    "BUILTIN_CONNECTORS",
    "BUILTIN_STEPS",
    "Aggregate",
    "Cast",
    "ConnectorBase",
    "ConsoleConnector",
    "CsvConnector",
    "Dedupe",
    "Derive",
    "Document",
    "Drop",
    "Explode",
    "FileConnector",
    "FillNull",
    "Filter",
    "Join",
    "JsonConnector",
    "KafkaConnector",
    "Limit",
    "NdjsonConnector",
    "ParquetConnector",
    "Pipeline",
    "PluginConnector",
    "PluginStep",
    "Profile",
    "Rename",
    "Route",
    "Select",
    "Sort",
    "Spec",
    "Sql",
    "SqlConnector",
    "StepBase",
    "Union",
    "Unnest",
    "Window",
    "did_you_mean",
    "format_path",
    "json_schema",
    "parse_document",
    "read_document",
    "resolve_input",
    "resolve_output_source",
    "suggest",
    "validate",
]
