"""Start-up: each command imports only what it needs (pinned, since time is not asserted)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ocht.testkit import Workspace

HEAVY_FOR_HELP = ("polars", "pydantic", "sqlalchemy", "alembic")
#: the run store's libraries (a SQLite store is opened with the standard library)
STORE = ("sqlalchemy", "alembic")
#: bricks (and their libraries) a CSV-to-Parquet pipeline has no use for (ocht.lineage is
#: light and every recorded run keeps its lineage graph in the manifest)
UNUSED_BRICKS = (
    "ocht.ml_runtime",
    "ocht.connector_kafka",
    "ocht.connector_http",
    "ocht.connector_s3",
    "ocht.connector_sql",
    "ocht.connector_avro",
    "ocht.sql_engine",
    "ocht.scheduler",
    "confluent_kafka",
    "onnxruntime",
    "httpx",
    "prometheus_client",
)


def imported(args: list[str], cwd: Path, modules: tuple[str, ...]) -> list[str]:
    """Which of ``modules`` a fresh interpreter has imported after ``ocht ARGS``."""
    code = (
        "import sys\nfrom ocht.cli.main import cli\n"
        f"try:\n    cli({args!r}, prog_name='ocht')\nexcept SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
        f"print('IMPORTED:' + ','.join(m for m in {modules!r} if m in sys.modules))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "OCHT_STORE_URL"}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env
    )
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in reversed(proc.stdout.splitlines()) if x.startswith("IMPORTED:"))
    return [m for m in line.removeprefix("IMPORTED:").split(",") if m]


@pytest.fixture
def project(workspace: Workspace) -> Workspace:
    workspace.write_text("data/orders.csv", "order_id,amount\n1,5\n2,50\n")
    workspace.write_pipeline(
        {
            "name": "startup",
            "inputs": {"orders": {"type": "csv", "path": "data/orders.csv"}},
            "steps": [{"kind": "filter", "where": "amount > 10"}],
            "outputs": {"out": {"type": "parquet", "path": "out/o.parquet"}},
        }
    )
    return workspace


def test_run_help_imports_nothing_heavy(project: Workspace) -> None:
    assert imported(["run", "--help"], project.root, HEAVY_FOR_HELP) == []


def test_validate_reads_no_store_and_no_heavy_brick(project: Workspace) -> None:
    assert imported(["validate", "pipeline.yaml"], project.root, STORE + UNUSED_BRICKS) == []


def test_a_run_without_the_store_imports_neither_sqlalchemy_nor_alembic(
    project: Workspace,
) -> None:
    mods = STORE + UNUSED_BRICKS
    assert imported(["run", "pipeline.yaml", "-q", "--no-store"], project.root, mods) == []


def test_a_run_on_the_default_sqlite_store_needs_neither_sqlalchemy_nor_alembic(
    project: Workspace,
) -> None:
    mods = (*STORE, "sqlalchemy.dialects.postgresql", *UNUSED_BRICKS)
    # the first run creates the store (a new SQLite file), the second opens it at head
    assert imported(["run", "pipeline.yaml", "-q"], project.root, mods) == []
    assert (project.root / ".ocht" / "ocht.db").is_file()
    assert imported(["run", "pipeline.yaml", "-q"], project.root, mods) == []


def test_a_run_that_logs_nothing_does_not_import_structlog(project: Workspace) -> None:
    # on a terminal the level is `warning`: a successful run writes no log event
    args = ["--log-format", "console", "run", "pipeline.yaml", "-q"]
    assert imported(args, project.root, ("structlog",)) == []
    assert imported(["run", "pipeline.yaml", "-q"], project.root, ("structlog",)) == [
        "structlog"
    ]  # JSON lines at `info` when not a terminal: the events are written
