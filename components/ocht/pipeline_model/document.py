"""Read a pipeline document (YAML, JSON or TOML) and remember where every field stands.

The line map lets validation errors name ``file:line`` for a field path, whatever the format.
"""

from __future__ import annotations

import json
import re
import stat
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ocht.errors import InvalidPipeline, Issue
from ocht.pipeline_model.limits import (
    MAX_BYTES,
    LimitExceeded,
    check_data,
    check_yaml_graph,
    too_deep,
)

Format = Literal["yaml", "json", "toml"]
PathKey = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """YAML with YAML 1.2 booleans: only true/false are booleans.

    YAML 1.1 also reads ``on``, ``off``, ``yes``, ``no``, ``y`` and ``n`` as booleans, which
    turns a join's ``on:`` key into ``True`` and the country code ``NO`` into ``False``.
    """


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)

_SUFFIXES: dict[str, Format] = {
    ".yaml": "yaml",
    ".yml": "yaml",
    ".json": "json",
    ".toml": "toml",
}


@dataclass(frozen=True)
class Document:
    """A parsed document: its data, its file (if any) and the line of each field path."""

    data: Any
    file: str | None = None
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(path[:cut])
            if line is not None:
                return line
        return None


def format_of(path: str | Path) -> Format:
    """The document format implied by a file suffix (YAML when unknown)."""
    return _SUFFIXES.get(Path(path).suffix.lower(), "yaml")


def read_document(path: str | Path) -> Document:
    """Read and parse a pipeline file, within the bounds of :mod:`ocht.pipeline_model.limits`.

    Raises:
        InvalidPipeline: the file is missing (``pipeline-not-found``), not a readable regular
            file (``pipeline-unreadable``), too large, not UTF-8 (``invalid-encoding``), or
            not valid YAML/JSON/TOML (with the line). Every case exits 2.
    """
    p = Path(path)
    file = str(p)
    try:
        info = p.stat()
    except FileNotFoundError:
        raise _file_error(
            "pipeline-not-found",
            f"pipeline file not found: {p}",
            file,
            "check the path; `ocht validate` takes the pipeline file as its argument",
        ) from None
    except OSError as exc:
        raise _file_error(
            "pipeline-unreadable", f"cannot read {p}: {exc.strerror or exc}", file
        ) from None
    if stat.S_ISDIR(info.st_mode):
        raise _file_error(
            "pipeline-unreadable",
            f"{p} is a directory, not a pipeline file",
            file,
            "give the pipeline's .yaml, .json or .toml file",
        )
    if not stat.S_ISREG(info.st_mode):  # a FIFO or a device would block or never end
        raise _file_error("pipeline-unreadable", f"{p} is not a regular file", file)
    try:
        with p.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _file_error(
            "pipeline-unreadable", f"cannot read {p}: {exc.strerror or exc}", file
        ) from None
    if len(raw) > MAX_BYTES:
        raise _file_error(
            "pipeline-too-large",
            f"{p} is larger than {MAX_BYTES // (1024 * 1024)} MiB",
            file,
            "a pipeline is a small hand-written file; is this the right one?",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _file_error(
            "invalid-encoding",
            f"{p} is not UTF-8 text (byte {exc.start})",
            file,
            "save the file as UTF-8",
        ) from None
    return parse_document(text, format_of(p), file=file)


def _file_error(code: str, message: str, file: str, hint: str | None = None) -> InvalidPipeline:
    return InvalidPipeline.from_issues([Issue(code, message, file=file, hint=hint)], file=file)


def parse_document(text: str, fmt: Format = "yaml", *, file: str | None = None) -> Document:
    """Parse text in the given format into a :class:`Document`.

    Raises:
        InvalidPipeline: a syntax error, a duplicate key, or a document beyond the limits
            (size, depth, expanded aliases, integer range), each with its own code.
    """
    if len(text) > MAX_BYTES:
        raise InvalidPipeline.from_issues(
            [Issue("pipeline-too-large", f"the document is larger than {MAX_BYTES:,} bytes")],
            file=file,
        )
    try:
        if fmt == "yaml":
            document = _parse_yaml(text, file)
        elif fmt == "json":
            document = _parse_json(text, file)
        else:
            document = _parse_toml(text, file)
        numbers = [
            Issue(i.code, i.message, _format_path(path), file, document.line_of(path), i.hint)
            for path, i in check_data(document.data, file)
        ]
    except LimitExceeded as exc:
        raise InvalidPipeline.from_issues([exc.issue], file=file) from None
    except RecursionError:
        raise InvalidPipeline.from_issues([too_deep(file)], file=file) from None
    if numbers:
        raise InvalidPipeline.from_issues(numbers, file=file)
    return document


def _format_path(path: PathKey) -> str:
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def _syntax_error(fmt: str, message: str, file: str | None, line: int | None) -> InvalidPipeline:
    issue = Issue(
        code=f"invalid-{fmt}",
        message=f"not valid {fmt.upper()}: {message}",
        file=file,
        line=line,
    )
    return InvalidPipeline.from_issues([issue], file=file)


def _compose(text: str, file: str | None) -> tuple[yaml.Node | None, Any]:
    """Compose the node graph, check it (aliases unexpanded), then construct the data."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, None
        duplicates = check_yaml_graph(node, file)
        if duplicates:
            raise InvalidPipeline.from_issues(duplicates, file=file)
        return node, loader.construct_document(node)
    finally:
        loader.dispose()


def _parse_yaml(text: str, file: str | None) -> Document:
    try:
        node, data = _compose(text, file)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise _syntax_error("yaml", str(exc.problem or exc), file, line) from None
    except (yaml.YAMLError, ValueError) as exc:
        raise _syntax_error("yaml", str(exc), file, None) from None
    lines: dict[PathKey, int] = {}
    if node is not None:
        _walk_yaml(node, (), lines, set())
    return Document(data=data, file=file, lines=lines)


def _walk_yaml(node: yaml.Node, path: PathKey, lines: dict[PathKey, int], seen: set[int]) -> None:
    """Record the line of every path; a node reached again through an alias is not re-walked
    (its fields take the alias's line through :meth:`Document.line_of`)."""
    lines.setdefault(path, node.start_mark.line + 1)
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = path + (str(key_node.value),)
            lines[key] = key_node.start_mark.line + 1
            _walk_yaml(value_node, key, lines, seen)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_yaml(item, path + (i,), lines, seen)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _parse_json(text: str, file: str | None) -> Document:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise _syntax_error("json", exc.msg, file, exc.lineno) from None
    except _DuplicateKey as exc:
        located: list[Issue] = []
        try:  # the YAML composer knows the lines of JSON's keys
            node = _Loader(text).get_single_node()
            if node is not None:
                located = check_yaml_graph(node, file)
        except (yaml.YAMLError, LimitExceeded, RecursionError):
            pass
        issue = Issue(
            "duplicate-key",
            f"key '{exc.key}' appears twice in one object",
            file=file,
            hint="remove one: the second would silently replace the first",
        )
        raise InvalidPipeline.from_issues(located or [issue], file=file) from None
    except ValueError as exc:  # an integer too long for Python's int parser
        raise _syntax_error("json", str(exc), file, None) from None
    list(check_data(data, file))  # bounds first: the YAML walk below recurses
    lines: dict[PathKey, int] = {}
    try:  # JSON is (nearly) YAML: reuse the YAML composer for positions
        node = _Loader(text).get_single_node()
        if node is not None:
            _walk_yaml(node, (), lines, set())
    except (yaml.YAMLError, RecursionError):
        pass
    return Document(data=data, file=file, lines=lines)


_TOML_LINE = re.compile(r"line (\d+)")


def _parse_toml(text: str, file: str | None) -> Document:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        line = int(m.group(1)) if m else None
        if "overwrite" in str(exc) or "twice" in str(exc):
            issue = Issue(
                "duplicate-key",
                f"a key is declared twice: {exc}",
                file=file,
                line=line,
                hint="remove one: the second would silently replace the first",
            )
            raise InvalidPipeline.from_issues([issue], file=file) from None
        raise _syntax_error("toml", str(exc), file, line) from None
    except ValueError as exc:  # an integer too long for Python's int parser
        raise _syntax_error("toml", str(exc), file, None) from None
    list(check_data(data, file))  # depth first: the line walk recurses
    return Document(data=data, file=file, lines=_toml_lines(text, data))


def _toml_lines(text: str, data: Any) -> dict[PathKey, int]:
    """Approximate positions for TOML: the first line, after the parent's, naming the key."""
    source = text.splitlines()
    lines: dict[PathKey, int] = {(): 1}

    def find(key: str, start: int) -> int | None:
        pat = re.compile(rf"^\s*(\[+\s*)?([\w\-\.\"']*\.)?[\"']?{re.escape(key)}[\"']?\s*(=|\]|\.)")
        for n in range(start, len(source)):
            if pat.search(source[n]):
                return n + 1
        return None

    def walk(value: Any, path: PathKey, start: int) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                line = find(str(k), start - 1)
                if line is not None:
                    lines[path + (k,)] = line
                walk(v, path + (k,), line or start)
        elif isinstance(value, list):
            pos = start
            for i, item in enumerate(value):
                lines[path + (i,)] = pos
                walk(item, path + (i,), pos)
                if isinstance(item, dict) and item:
                    # the next table of an array starts after this one's first key
                    first = lines.get(path + (i, next(iter(item))))
                    pos = (first or pos) + 1

    walk(data, (), 1)
    return lines
