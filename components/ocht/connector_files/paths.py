"""Turn an input's ``path`` (a file, a glob or a directory) into the files it names."""

from __future__ import annotations

import difflib
import glob
import os
from pathlib import Path

from ocht.errors import SourceUnreachable
from ocht.registry import RunContext

_GLOB_CHARS = frozenset("*?[")

#: what a directory input picks up, per format
CSV_EXTENSIONS = (".csv", ".tsv")
PARQUET_EXTENSIONS = (".parquet", ".pq")
NDJSON_EXTENSIONS = (".ndjson", ".jsonl")
JSON_EXTENSIONS = (".json",)


def is_glob(path: str) -> bool:
    """Whether ``path`` holds a glob pattern (``*``, ``?``, ``[``)."""
    return any(ch in _GLOB_CHARS for ch in path)


def resolve_inputs(path: str, context: RunContext, extensions: tuple[str, ...]) -> list[Path]:
    """The files an input reads, sorted.

    ``path`` may be a single file, a glob (``data/*.csv``, ``data/**/*.csv``) or a
    directory; a directory stands for the files directly in it whose name ends with one of
    ``extensions`` (hidden files and files starting with ``_`` left out). Use a ``**`` glob
    to reach into sub-folders.

    Raises:
        SourceUnreachable: nothing to read (a missing file, a glob matching no file, a
            directory without a matching file) or a file that cannot be read; the hint
            names a near file name when there is one.

    Example:
        >>> from ocht.registry import RunContext
        >>> from ocht.errors import SourceUnreachable
        >>> try:
        ...     resolve_inputs("nope.csv", RunContext("r", "p"), (".csv",))
        ... except SourceUnreachable as exc:
        ...     exc.code
        'source-unreachable'
    """
    full = context.resolve(path)
    if is_glob(path):
        files = sorted(Path(p) for p in glob.glob(str(full), recursive=True) if os.path.isfile(p))
        if not files:
            raise _unreachable(f"no file matches '{path}'", path, full, glob_pattern=True)
    elif full.is_dir():
        files = sorted(
            p
            for p in full.iterdir()
            if p.is_file()
            and not p.name.startswith((".", "_"))
            and p.name.lower().endswith(extensions)
        )
        if not files:
            kinds = " or ".join(f"'{e}'" for e in extensions)
            raise SourceUnreachable(
                f"directory '{path}' holds no {kinds} file",
                hint="put the files there, or name them with a glob (e.g. 'dir/*.txt')",
                path=path,
            )
    elif full.is_file():
        files = [full]
    else:
        raise _unreachable(f"input file not found: {path}", path, full, glob_pattern=False)
    for file in files:
        if not os.access(file, os.R_OK):
            raise SourceUnreachable(
                f"input file '{file}' cannot be read (permission denied)",
                hint="check the file's permissions",
                path=str(file),
            )
    return files


def _unreachable(message: str, path: str, full: Path, *, glob_pattern: bool) -> SourceUnreachable:
    best = _near_file(path, full, glob_pattern=glob_pattern)
    if best is not None:
        hint = f"did you mean '{best}'?"
    elif not _existing_folder(full, glob_pattern=glob_pattern):
        hint = f"the folder '{_shown_parent(path, glob_pattern=glob_pattern)}' does not exist"
    else:
        hint = "check the path (relative paths start at the pipeline file's folder)"
    extra = {"suggestion": best} if best is not None else {}
    return SourceUnreachable(f"{message} (looked for {full})", hint=hint, path=path, **extra)


def _split(full: Path, *, glob_pattern: bool) -> tuple[Path, str]:
    """The deepest folder without glob characters, and the name (or pattern) inside it."""
    if not glob_pattern:
        return full.parent, full.name
    parts = full.parts
    cut = next(i for i, part in enumerate(parts) if is_glob(part))
    return Path(*parts[:cut]), parts[-1]


def _existing_folder(full: Path, *, glob_pattern: bool) -> bool:
    return _split(full, glob_pattern=glob_pattern)[0].is_dir()


def _shown_parent(path: str, *, glob_pattern: bool) -> str:
    parts = Path(path).parts
    if glob_pattern:
        parts = parts[: next(i for i, p in enumerate(parts) if is_glob(p))]
        return str(Path(*parts)) if parts else "."
    return str(Path(path).parent)


def _near_file(path: str, full: Path, *, glob_pattern: bool) -> str | None:
    """A file name close to the one asked for, written the way the user wrote the path."""
    folder, name = _split(full, glob_pattern=glob_pattern)
    if not folder.is_dir():
        return None
    try:
        names = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
    except OSError:
        return None
    if glob_pattern:
        return _near_pattern(path, name, names)
    lowered = {n.lower(): n for n in names}
    match = lowered.get(name.lower())
    if match is None:
        close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
        match = close[0] if close else None
    if match is None:
        return None
    parent = str(Path(path).parent)
    return match if parent == "." else f"{parent}/{match}"


def _near_pattern(path: str, pattern: str, names: list[str]) -> str | None:
    """A pattern near-misses on its literal tail: ``*.cvs`` is close to ``orders.csv``."""
    head = str(Path(path).parent)
    if is_glob(head) or "[" in pattern:
        return None
    tail = pattern.rsplit("*", 1)[-1].replace("?", "")
    if not tail:
        return None
    tails = {n[-len(tail) :]: n for n in names if len(n) >= len(tail)}
    found = difflib.get_close_matches(tail, list(tails), n=1, cutoff=0.6)
    if not found or found[0] == tail:
        return None
    fixed = pattern[: len(pattern) - len(tail)] + found[0]
    return fixed if head == "." else f"{head}/{fixed}"
