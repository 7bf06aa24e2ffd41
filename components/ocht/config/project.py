"""The project home: where a pipeline's run store, state, traces and dead letters live.

The home is found from the pipeline file, never from the working directory, so a pipeline
run from anywhere finds the same state:

1. ``$OCHT_HOME``, when set;
2. else ``<root>/.ocht``, where ``<root>`` is the nearest folder at or above the pipeline
   file that holds an ``ocht.toml`` (written by ``ocht init``);
3. else ``.ocht`` next to the pipeline file.

Commands that take no pipeline (``ocht runs``, ``ocht state``, ``ocht trace``) start the
search from the working directory instead.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

PROJECT_FILE = "ocht.toml"
"""The file that marks a project's root folder."""
HOME_DIR = ".ocht"
"""The folder, under the project root, that holds the run data."""
ENV_HOME = "OCHT_HOME"

_TEMPLATE = """\
# An Ocht project. Pipelines in this folder and below keep their run store, incremental
# state, traces and dead letters in .ocht/ here, whatever folder `ocht` runs from.
# OCHT_HOME overrides the location; OCHT_STORE_URL puts the run store in a database.
[project]
name = "{name}"
"""


def project_root(start: str | Path) -> Path | None:
    """The nearest folder at or above ``start`` holding ``ocht.toml``, or ``None``."""
    here = Path(start).resolve()
    if not here.is_dir():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / PROJECT_FILE).is_file():
            return folder
    return None


def project_home(
    pipeline: str | Path | None = None,
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> Path:
    """The folder for run data of ``pipeline`` (or of the working directory when ``None``).

    Args:
        pipeline: the pipeline file the run is for.
        env: the environment (default ``os.environ``), read for ``OCHT_HOME``.
        cwd: the folder to search from when there is no pipeline (default: the working one).

    Example:
        >>> project_home("/tmp/no/such/project/p.yaml", env={}).as_posix()
        '/tmp/no/such/project/.ocht'
    """
    environ = os.environ if env is None else env
    override = environ.get(ENV_HOME)
    if override:
        return Path(override).expanduser().resolve()
    start = Path(pipeline).resolve().parent if pipeline is not None else Path(cwd or Path.cwd())
    root = project_root(start) if start.exists() else None
    return (root or start.resolve()) / HOME_DIR


def init_project(folder: str | Path, *, name: str | None = None) -> Path:
    """Write ``ocht.toml`` in ``folder`` (created if needed) and return its path.

    Raises:
        FileExistsError: the folder already holds an ``ocht.toml``.
    """
    root = Path(folder).resolve()
    root.mkdir(parents=True, exist_ok=True)
    path = root / PROJECT_FILE
    project = (name or root.name or "project").replace('"', "")
    with path.open("x", encoding="utf-8") as handle:
        handle.write(_TEMPLATE.format(name=project))
    return path
