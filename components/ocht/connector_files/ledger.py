"""Incremental file loads: which files an input has loaded, kept as run-store state.

An input with ``incremental: files`` reads only files it has not loaded before. A file is
known by its location and a signature (size and modification time for local files; entity
tag and size for objects): a file rewritten in place is read again. The ledger is stored
with the run's state when the run commits, so a failed run loads the same files again.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class FileLedger:
    """The files loaded so far, and the ones this run adds.

    Example:
        >>> ledger = FileLedger({"files": {"a.csv": "10:1"}})
        >>> ledger.is_new("a.csv", "10:1"), ledger.is_new("b.csv", "4:2")
        (False, True)
        >>> ledger.add("b.csv", "4:2"); sorted(ledger.state()["files"])
        ['a.csv', 'b.csv']
    """

    def __init__(self, prior: Mapping[str, Any] | None) -> None:
        files = (prior or {}).get("files")
        self._files: dict[str, str] = dict(files) if isinstance(files, Mapping) else {}
        self.new = 0
        self.skipped = 0

    def is_new(self, location: str, signature: str) -> bool:
        """Whether ``location`` is unknown or changed since it was loaded (and count it)."""
        fresh = self._files.get(location) != signature
        if fresh:
            self.new += 1
        else:
            self.skipped += 1
        return fresh

    def add(self, location: str, signature: str) -> None:
        """Remember ``location`` as loaded with ``signature`` (stored when the run commits)."""
        self._files[location] = signature

    def state(self) -> dict[str, Any]:
        """The state to store: every file loaded, with its signature."""
        return {"kind": "files", "files": dict(self._files)}
