"""The store's errors.

OchtError                     (ocht.errors)
└── StoreError                store-error
    ├── StoreUnavailable      store-unavailable   the database cannot be opened or migrated
    ├── RunNotFound           run-not-found       no run has that id (or the prefix is ambiguous)
    ├── InvalidStoreValue     invalid-store-value a status, key or value the store refuses
    ├── PipelineNotFound      pipeline-not-found  no pipeline (or version) of that name in the tenant
    ├── PipelineConflict      pipeline-exists     a pipeline of that name exists (or is archived)
    └── KeyNotFound           key-not-found       no API key has that id
"""

from __future__ import annotations

from ocht.errors import OchtError


class StoreError(OchtError):
    """Something went wrong in the run store."""

    code = "store-error"


class StoreUnavailable(StoreError):
    """The store's database cannot be reached, created or migrated."""

    code = "store-unavailable"


class RunNotFound(StoreError):
    """No run has the id asked for (or a prefix matches several runs)."""

    code = "run-not-found"


class InvalidStoreValue(StoreError):
    """A value the store refuses: an unknown status, a value that is not JSON."""

    code = "invalid-store-value"


class PipelineNotFound(StoreError):
    """No pipeline (or no such version of it) in the tenant asked about."""

    code = "pipeline-not-found"


class PipelineConflict(StoreError):
    """The pipeline cannot be created or changed as asked: it exists, or it is archived."""

    code = "pipeline-exists"


class KeyNotFound(StoreError):
    """No API key has the id asked for."""

    code = "key-not-found"
