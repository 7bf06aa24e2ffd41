from __future__ import annotations

import subprocess
import sys

from ocht.connector_files import (
    CONNECTORS,
    ConsoleSink,
    CsvOutput,
    CsvSink,
    CsvSource,
    JsonSource,
)
from ocht.registry import Registry


def test_connector_types_and_capabilities() -> None:
    caps = {c.name: c.capabilities for c in CONNECTORS}
    assert caps == {
        "csv": ("read", "write", "batch", "stream"),
        "parquet": ("read", "write", "batch", "stream"),
        "ndjson": ("read", "write", "batch", "stream"),
        "json": ("read", "batch"),
        "console": ("write", "batch"),
    }
    assert all(c.summary for c in CONNECTORS)


def test_the_registry_loads_this_brick_by_name() -> None:
    reg = Registry(plugins=False)
    assert reg.connector("csv").source is CsvSource
    assert reg.connector("csv").sink is CsvOutput  # a CsvSink in batch runs
    assert issubclass(CsvOutput, CsvSink)
    assert reg.connector("json").source is JsonSource
    assert reg.connector("console").sink is ConsoleSink


def test_importing_the_brick_does_not_import_rich() -> None:
    code = "import sys, ocht.connector_files; print('rich' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
