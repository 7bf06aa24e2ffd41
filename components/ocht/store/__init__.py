"""The run store: run manifests, incremental state, checkpoints, schema history.

SQLAlchemy tables migrated by Alembic (from code, on open); a SQLite file in the project
(``.ocht/ocht.db``) by default, PostgreSQL (or any SQLAlchemy URL) through ``url`` or
``$OCHT_STORE_URL``. Nothing secret is stored: URLs and ``password=`` pairs are redacted.

A run on a SQLite store needs neither SQLAlchemy nor Alembic (see :mod:`ocht.store.db`),
so the names built on SQLAlchemy (the catalog, API keys, partition checkpoints, run
requests, scheduling) are imported when first used.

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from ocht.store import Store
    >>> with Store(base_dir=Path(tempfile.mkdtemp())) as store:
    ...     store.set_state("orders", {"src": {"cursor": "ts", "value": "2024-01-01T00:00:00"}})
    ...     store.get_state("orders")["src"]["value"]
    '2024-01-01T00:00:00'
"""

import typing as _typing

from ocht.store.engine import ENV_URL, redact_text
from ocht.store.errors import (
    InvalidStoreValue,
    KeyNotFound,
    PipelineConflict,
    PipelineNotFound,
    RunNotFound,
    StoreError,
    StoreUnavailable,
)
from ocht.store.records import (
    FINAL_STATUSES,
    RUN_STATUSES,
    Checkpoint,
    RunRecord,
    RunStatus,
    SchemaRecord,
)
from ocht.store.scheduling_records import (
    ACTIVE_JOB_STATUSES,
    FINAL_JOB_STATUSES,
    JOB_STATUSES,
    BackfillRecord,
    JobRecord,
    JobStatus,
    RunOrigin,
    ScheduleRecord,
)
from ocht.store.store import Store, columns_hash, pid_alive

if _typing.TYPE_CHECKING:
    from ocht.store.catalog import (
        PIPELINE_STATUSES,
        Catalog,
        PipelineRecord,
        PipelineStatus,
        VersionRecord,
        document_hash,
    )
    from ocht.store.keys import (
        ROLES,
        ApiKey,
        ApiKeys,
        NewApiKey,
        Role,
        check_role,
        check_tenant,
    )
    from ocht.store.partitions import PartitionCheckpoint, PartitionCheckpoints
    from ocht.store.run_requests import (
        REQUEST_FINAL,
        REQUEST_STATUSES,
        RunRequest,
        RunRequests,
    )
    from ocht.store.scheduling import SchedulingStore

#: name -> the module defining it, for the names built on SQLAlchemy
_LAZY = {
    **dict.fromkeys(
        (
            "PIPELINE_STATUSES",
            "Catalog",
            "PipelineRecord",
            "PipelineStatus",
            "VersionRecord",
            "document_hash",
        ),
        "catalog",
    ),
    **dict.fromkeys(
        ("ROLES", "ApiKey", "ApiKeys", "NewApiKey", "Role", "check_role", "check_tenant"), "keys"
    ),
    **dict.fromkeys(("PartitionCheckpoint", "PartitionCheckpoints"), "partitions"),
    **dict.fromkeys(
        ("REQUEST_FINAL", "REQUEST_STATUSES", "RunRequest", "RunRequests"), "run_requests"
    ),
    "SchedulingStore": "scheduling",
}


def __getattr__(name: str) -> _typing.Any:
    """Import a SQLAlchemy-backed name on first use (PEP 562)."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "ACTIVE_JOB_STATUSES",
    "ENV_URL",
    "FINAL_JOB_STATUSES",
    "FINAL_STATUSES",
    "JOB_STATUSES",
    "PIPELINE_STATUSES",
    "REQUEST_FINAL",
    "REQUEST_STATUSES",
    "ROLES",
    "RUN_STATUSES",
    "ApiKey",
    "ApiKeys",
    "BackfillRecord",
    "Catalog",
    "Checkpoint",
    "InvalidStoreValue",
    "JobRecord",
    "JobStatus",
    "KeyNotFound",
    "NewApiKey",
    "PartitionCheckpoint",
    "PartitionCheckpoints",
    "PipelineConflict",
    "PipelineNotFound",
    "PipelineRecord",
    "PipelineStatus",
    "Role",
    "RunNotFound",
    "RunOrigin",
    "RunRecord",
    "RunRequest",
    "RunRequests",
    "RunStatus",
    "ScheduleRecord",
    "SchedulingStore",
    "SchemaRecord",
    "Store",
    "StoreError",
    "StoreUnavailable",
    "VersionRecord",
    "check_role",
    "check_tenant",
    "columns_hash",
    "document_hash",
    "pid_alive",
    "redact_text",
]
