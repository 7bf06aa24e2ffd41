"""The store's errors.

OchtError                     (ocht.errors)
└── StoreError                store-error
    ├── StoreUnavailable      store-unavailable   the database cannot be opened or migrated
    ├── RunNotFound           run-not-found       no run has that id (or the prefix is ambiguous)
    └── InvalidStoreValue     invalid-store-value a status, key or value the store refuses
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
