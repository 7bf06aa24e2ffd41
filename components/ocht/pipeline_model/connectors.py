"""Connector specs: where data comes from (inputs) and goes to (outputs).

One frozen model per connector ``type``; unknown types fall back to ``PluginConnector``
(checked by the plugin's own options model when the pipeline is compiled).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Discriminator, Field, Tag

from ocht.pipeline_model.contract import SchemaContract
from ocht.pipeline_model.retry import Retry
from ocht.pipeline_model.steps import Spec

#: ``scheme://`` at the start of a location (two letters or more: ``C:/`` is a drive)
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+)://")


class ConnectorBase(Spec):
    description: str = Field(default="", description="Free text for people reading the pipeline.")
    retry: Retry | None = Field(
        default=None,
        description="Retry transient failures (reset connections, timeouts, a broker not yet "
        "up) with exponential backoff: {attempts, initial, multiplier, max_delay, jitter, timeout}.",
    )
    from_: str | None = Field(
        default=None,
        alias="from",
        description="Outputs only: the step (or `step.branch`) written (default: the last step).",
    )
    contract: SchemaContract | None = Field(
        default=None,
        description="Inputs only: what happens when the data arrives with new, missing or "
        "retyped columns (`evolve`, `freeze`, `discard_row`, `discard_column`).",
    )

    def location_scheme(self) -> str | None:
        """The URL scheme of where this connector points (``s3``, ``gs``), else ``None``."""
        return None


class FileConnector(ConnectorBase):
    path: str = Field(
        min_length=1,
        description="A file, a glob (`data/*.csv`) or a directory read as one input; or an "
        "object-store URL (`s3://bucket/orders/*.parquet`, `gs://...`, `az://...`). "
        "Outputs of stream runs: the folder part files are published in.",
    )
    storage_options: dict[str, str] | None = Field(
        default=None,
        description="Object-store settings for `s3://`-style paths: `endpoint_url`, "
        "`region`, `access_key_id`, `secret_access_key` (use `${env:NAME}`), "
        "`allow_http`. Without them the standard environment (`AWS_*`) is used.",
    )
    incremental: Literal["files"] | None = Field(
        default=None,
        description="Inputs only: `files` reads only files (or objects) not loaded by an "
        "earlier successful run; `--full-refresh` reads everything again.",
    )

    def location_scheme(self) -> str | None:
        """The URL scheme of ``path`` (``s3``), or ``None`` for a local path."""
        found = _SCHEME.match(self.path)
        return found.group(1).lower() if found else None


class RollingFileConnector(FileConnector):
    """A file format that is also an output of stream runs: rolling part files."""

    roll_rows: int = Field(
        default=1_000_000,
        ge=1,
        le=1_000_000_000,
        description="Stream outputs: a part file is closed and published once it holds "
        "this many rows (at a micro-batch boundary).",
    )
    roll_bytes: int = Field(
        default=128 * 1024 * 1024,
        ge=1024,
        description="Stream outputs: a part file is closed once its staged rows take this "
        "many bytes (Arrow IPC size, before compression).",
    )
    roll_seconds: float = Field(
        default=60.0,
        gt=0,
        le=86_400,
        description="Stream outputs: a part file is closed this long after its first "
        "committed row, also when no more rows arrive (the latency of a file output).",
    )


class CsvConnector(RollingFileConnector):
    """Comma- (or otherwise) separated text."""

    type: Literal["csv"]
    delimiter: str = Field(
        description="Field separator (one character).", default=",", min_length=1, max_length=1
    )
    header: bool = Field(default=True, description="The first line names the columns.")
    quote_char: str | None = Field(default='"', description="Quote character (null: no quoting).")
    null_values: list[str] = Field(
        description='Strings read as null, e.g. `["", "NA"]`.', default_factory=list
    )
    schema_: dict[str, str] | None = Field(
        default=None, alias="schema", description="Every column's type; skips inference."
    )
    schema_overrides: dict[str, str] = Field(
        description="Types for some columns; the rest are inferred.", default_factory=dict
    )
    encoding: str = Field(
        default="utf8", description="utf8, utf8-lossy, or any Python codec (latin-1, cp1252)."
    )
    skip_rows: int = Field(description="Lines skipped before the header.", default=0, ge=0)
    comment_prefix: str | None = Field(
        default=None, description="Lines starting with this are ignored."
    )
    infer_schema_length: int | None = Field(
        description="Rows sampled to infer types (null: all rows).", default=10_000, ge=0
    )
    try_parse_dates: bool = Field(
        default=True, description="Read date and datetime columns as such when their text allows."
    )
    on_bad_lines: Literal["fail", "skip", "dead_letter"] = Field(
        default="fail",
        description="A row with the wrong field count: fail the run, skip it, or send the "
        "line to the dead-letter output (with file and line).",
    )


class ParquetConnector(RollingFileConnector):
    """Apache Parquet files."""

    type: Literal["parquet"]
    compression: Literal["zstd", "snappy", "lz4", "gzip", "uncompressed"] = Field(
        default="zstd", description="Outputs: the compression codec."
    )


class NdjsonConnector(RollingFileConnector):
    """Newline-delimited JSON: one object per line."""

    type: Literal["ndjson"]
    schema_: dict[str, str] | None = Field(
        description="Every field's type; skips inference.", default=None, alias="schema"
    )
    infer_schema_length: int | None = Field(
        description="Lines sampled to infer types (null: all lines).", default=10_000, ge=0
    )
    on_bad_lines: Literal["fail", "dead_letter"] = Field(
        default="fail",
        description="A line that is not a JSON object of the declared types: fail the run, "
        "or send it to the dead-letter output (with file and line).",
    )


class JsonConnector(FileConnector):
    """A JSON document holding an array of objects (read whole; prefer ndjson when large)."""

    type: Literal["json"]
    schema_: dict[str, str] | None = Field(
        description="Every field's type; skips inference.", default=None, alias="schema"
    )


class AvroConnector(FileConnector):
    """Apache Avro object container files (the writer's schema travels in each file)."""

    type: Literal["avro"]
    codec: Literal["null", "deflate", "snappy", "zstandard"] = Field(
        default="deflate", description="Outputs: block compression."
    )
    batch_size: int = Field(
        default=65_536, ge=1, description="Records decoded or encoded at a time (bounds memory)."
    )


class ConsoleConnector(ConnectorBase):
    """Print the first rows as a table (an output only)."""

    type: Literal["console"]
    rows: int = Field(description="Rows printed.", default=20, ge=1)


class PluginConnector(ConnectorBase):
    """A connector type provided by a plugin (or by another Ocht artifact)."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="allow")
    type: str


# After ConnectorBase: sql.py builds on it (the package imports this module first).
from ocht.pipeline_model.http import HttpConnector  # noqa: E402
from ocht.pipeline_model.kafka import KafkaConnector  # noqa: E402
from ocht.pipeline_model.sql import SqlConnector  # noqa: E402

BUILTIN_CONNECTORS: dict[str, type[ConnectorBase]] = {
    "csv": CsvConnector,
    "parquet": ParquetConnector,
    "ndjson": NdjsonConnector,
    "json": JsonConnector,
    "console": ConsoleConnector,
    "sql": SqlConnector,
    "kafka": KafkaConnector,
    "http": HttpConnector,
    "avro": AvroConnector,
}


def _connector_tag(value: Any) -> str | None:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    if kind is None:
        return None
    if not isinstance(kind, str):  # a list or a mapping: the plugin model says "a string"
        return "plugin"
    return kind if kind in BUILTIN_CONNECTORS else "plugin"


Connector = Annotated[
    Annotated[CsvConnector, Tag("csv")]
    | Annotated[ParquetConnector, Tag("parquet")]
    | Annotated[NdjsonConnector, Tag("ndjson")]
    | Annotated[JsonConnector, Tag("json")]
    | Annotated[ConsoleConnector, Tag("console")]
    | Annotated[SqlConnector, Tag("sql")]
    | Annotated[KafkaConnector, Tag("kafka")]
    | Annotated[HttpConnector, Tag("http")]
    | Annotated[AvroConnector, Tag("avro")]
    | Annotated[PluginConnector, Tag("plugin")],
    Discriminator(
        _connector_tag,
        custom_error_type="missing_type",
        custom_error_message="a connector needs a `type`",
    ),
]
