"""Read a pipeline document (YAML, JSON or TOML) and remember where every field stands.

The line map lets validation errors name ``file:line`` for a field path, whatever the format.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ocht.errors import InvalidPipeline, Issue, SourceUnreachable

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
    """Read and parse a pipeline file.

    Raises:
        SourceUnreachable: the file does not exist or cannot be read.
        InvalidPipeline: the text is not valid YAML/JSON/TOML (with the line).
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceUnreachable(
            f"pipeline file not found: {p}",
            code="pipeline-not-found",
            hint="check the path; `ocht validate` takes the pipeline file as its argument",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SourceUnreachable(f"cannot read pipeline file {p}: {exc}") from None
    return parse_document(text, format_of(p), file=str(p))


def parse_document(text: str, fmt: Format = "yaml", *, file: str | None = None) -> Document:
    """Parse text in the given format into a :class:`Document`."""
    if fmt == "yaml":
        return _parse_yaml(text, file)
    if fmt == "json":
        return _parse_json(text, file)
    return _parse_toml(text, file)


def _syntax_error(fmt: str, message: str, file: str | None, line: int | None) -> InvalidPipeline:
    issue = Issue(
        code=f"invalid-{fmt}",
        message=f"not valid {fmt.upper()}: {message}",
        file=file,
        line=line,
    )
    return InvalidPipeline.from_issues([issue], file=file)


def _parse_yaml(text: str, file: str | None) -> Document:
    try:
        node = yaml.compose(text, Loader=_Loader)
        data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass: safe
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise _syntax_error("yaml", str(exc.problem or exc), file, line) from None
    except yaml.YAMLError as exc:
        raise _syntax_error("yaml", str(exc), file, None) from None
    lines: dict[PathKey, int] = {}
    if node is not None:
        _walk_yaml(node, (), lines)
    return Document(data=data, file=file, lines=lines)


def _walk_yaml(node: yaml.Node, path: PathKey, lines: dict[PathKey, int]) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = path + (str(key_node.value),)
            lines[key] = key_node.start_mark.line + 1
            _walk_yaml(value_node, key, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk_yaml(item, path + (i,), lines)


def _parse_json(text: str, file: str | None) -> Document:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _syntax_error("json", exc.msg, file, exc.lineno) from None
    lines: dict[PathKey, int] = {}
    try:  # JSON is (nearly) YAML: reuse the YAML composer for positions
        node = yaml.compose(text, Loader=_Loader)
        if node is not None:
            _walk_yaml(node, (), lines)
    except yaml.YAMLError:
        pass
    return Document(data=data, file=file, lines=lines)


_TOML_LINE = re.compile(r"line (\d+)")


def _parse_toml(text: str, file: str | None) -> Document:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        m = _TOML_LINE.search(str(exc))
        raise _syntax_error("toml", str(exc), file, int(m.group(1)) if m else None) from None
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
