"""Install a throwaway plugin distribution so entry-point discovery can be tested for real."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def installed_plugin(
    root: Path, *, name: str, module_source: str, entry_points: Mapping[str, Mapping[str, str]]
) -> Iterator[Path]:
    """Make a distribution named ``name`` importable, with its entry points, for a block.

    Args:
        root: an empty folder to hold it.
        name: the distribution and module name (``my_plugin``).
        module_source: the module's Python source.
        entry_points: ``{group: {entry name: "module:attribute"}}``.
    """
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    info = root / f"{name}-0.1.0.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1.0\n", encoding="utf-8"
    )
    lines = []
    for group, entries in entry_points.items():
        lines.append(f"[{group}]")
        lines.extend(f"{k} = {v}" for k, v in entries.items())
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    sys.path.insert(0, str(root))
    try:
        yield root
    finally:
        sys.path.remove(str(root))
        sys.modules.pop(name, None)
