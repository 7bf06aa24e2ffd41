"""A temporary project folder with a pipeline file and data, for tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import yaml


class Workspace:
    """A folder to write pipelines and data into; paths are relative to it.

    Example:
        >>> import tempfile
        >>> ws = Workspace(Path(tempfile.mkdtemp()))
        >>> ws.write_text("a.txt", "hi").read_text()
        'hi'
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path(self, name: str) -> Path:
        """``name`` under the workspace root."""
        return self.root / name

    def write_text(self, name: str, text: str, encoding: str = "utf-8") -> Path:
        """Write text to ``name`` (folders created)."""
        p = self.path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding=encoding)
        return p

    def write_csv(self, name: str, data: pl.DataFrame | list[dict[str, Any]]) -> Path:
        """Write rows as CSV."""
        df = data if isinstance(data, pl.DataFrame) else pl.DataFrame(data)
        p = self.path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        df.write_csv(p)
        return p

    def write_parquet(self, name: str, data: pl.DataFrame) -> Path:
        """Write a frame as Parquet."""
        p = self.path(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        data.write_parquet(p)
        return p

    def write_pipeline(self, spec: dict[str, Any] | str, name: str = "pipeline.yaml") -> Path:
        """Write a pipeline (a dict is dumped as YAML, or JSON for a ``.json`` name)."""
        if isinstance(spec, str):
            return self.write_text(name, spec)
        text = (
            json.dumps(spec, indent=2)
            if name.endswith(".json")
            else yaml.safe_dump(spec, sort_keys=False)
        )
        return self.write_text(name, text)

    def files(self, pattern: str = "**/*") -> list[str]:
        """Relative paths of files under the root matching ``pattern``."""
        return sorted(str(p.relative_to(self.root)) for p in self.root.glob(pattern) if p.is_file())
