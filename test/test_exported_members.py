"""Every brick exports exactly its public names (as httpx's tests/test_exported_members.py).

``__all__`` must list every public name its ``__init__`` takes from the brick's own
modules, and every name in it must exist. A name imported but missing from ``__all__``
fails here. Names a brick imports from another brick to use (a ``ConnectorType`` to build
its connector) may stay out of ``__all__``; when listed, they are re-exports.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
BRICKS = sorted(
    target.replace("/", ".")
    for target in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["polylith"][
        "bricks"
    ].values()
)


def public_names(module: ModuleType) -> set[str]:
    """Public names the brick defines (in its own modules), without its submodules."""
    prefix = f"{module.__name__}."
    out = set()
    for name, value in vars(module).items():
        if name.startswith("_") or name == "annotations":  # from __future__ import ...
            continue
        if isinstance(value, ModuleType):
            continue
        home = getattr(value, "__module__", None)
        if isinstance(home, str) and home != module.__name__ and not home.startswith(prefix):
            continue  # imported from elsewhere: a re-export only when listed
        out.add(name)
    return out


def test_every_brick_is_checked() -> None:
    assert {"ocht.executor", "ocht.registry", "ocht.cli", "ocht.worker"} <= set(BRICKS)


@pytest.mark.parametrize("brick", BRICKS)
def test_all_lists_exactly_the_public_names(brick: str) -> None:
    module = importlib.import_module(brick)
    exported = list(getattr(module, "__all__", []))
    assert len(exported) == len(set(exported)), f"{brick}.__all__ repeats a name"
    assert sorted(public_names(module) - set(exported)) == [], "public but not in __all__"
    assert [n for n in exported if not hasattr(module, n)] == [], "in __all__ but missing"


def test_a_name_imported_but_not_exported_is_caught() -> None:
    fake = ModuleType("ocht.fake")
    fake.__all__ = ["Kept"]  # type: ignore[attr-defined]
    kept = type("Kept", (), {"__module__": "ocht.fake.kept"})
    forgotten = type("Forgotten", (), {"__module__": "ocht.fake.other"})
    foreign = type("Foreign", (), {"__module__": "ocht.elsewhere"})
    vars(fake).update(Kept=kept, Forgotten=forgotten, Foreign=foreign, _private=1)
    assert public_names(fake) == {"Kept", "Forgotten"}
