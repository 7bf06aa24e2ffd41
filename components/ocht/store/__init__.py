"""The run store: run manifests, incremental state, checkpoints, schema history.

SQLAlchemy tables migrated by Alembic (from code, on open); a SQLite file in the project
(``.ocht/ocht.db``) by default, PostgreSQL (or any SQLAlchemy URL) through ``url`` or
``$OCHT_STORE_URL``. Nothing secret is stored: URLs and ``password=`` pairs are redacted.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ocht.store import Store
    >>> with Store(base_dir=Path(tempfile.mkdtemp())) as store:
    ...     store.set_state("orders", {"src": {"cursor": "ts", "value": "2024-01-01T00:00:00"}})
    ...     store.get_state("orders")["src"]["value"]
    '2024-01-01T00:00:00'
"""

from ocht.store.engine import ENV_URL, redact_text
from ocht.store.errors import InvalidStoreValue, RunNotFound, StoreError, StoreUnavailable
from ocht.store.partitions import PartitionCheckpoint, PartitionCheckpoints
from ocht.store.records import (
    FINAL_STATUSES,
    RUN_STATUSES,
    Checkpoint,
    RunRecord,
    RunStatus,
    SchemaRecord,
)
from ocht.store.store import Store, columns_hash, pid_alive

__all__ = [
    "ENV_URL",
    "FINAL_STATUSES",
    "RUN_STATUSES",
    "Checkpoint",
    "InvalidStoreValue",
    "PartitionCheckpoint",
    "PartitionCheckpoints",
    "RunNotFound",
    "RunRecord",
    "RunStatus",
    "SchemaRecord",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "columns_hash",
    "pid_alive",
    "redact_text",
]
