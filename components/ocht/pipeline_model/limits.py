"""Bounds on what a pipeline document may cost to read: size, nesting, aliases, numbers.

A pipeline is a small, hand-written document. Anything far outside that shape (a YAML alias
bomb, a document nested hundreds of levels deep, a 400-digit integer) is refused with a
stable code before anything walks it, so reading a hostile file stays fast and bounded.

Codes (all :class:`~ocht.errors.InvalidPipeline`, exit 2):

- ``pipeline-too-large``: the file is larger than :data:`MAX_BYTES`.
- ``pipeline-too-deep``: mappings and lists nested deeper than :data:`MAX_DEPTH`.
- ``pipeline-too-many-nodes``: more than :data:`MAX_NODES` values once YAML aliases are
  expanded (an alias bomb).
- ``recursive-alias``: a YAML alias that refers to a node containing itself.
- ``duplicate-key``: the same key twice in one mapping.
- ``number-too-large``: an integer outside the signed 64-bit range.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from ocht.errors import Issue

MAX_BYTES = 4 * 1024 * 1024
"""Largest pipeline file read (4 MiB)."""
MAX_DEPTH = 64
"""Deepest nesting of mappings and lists."""
MAX_NODES = 200_000
"""Most values in a document once YAML aliases are expanded."""
INT_MIN, INT_MAX = -(2**63), 2**63 - 1

PathKey = tuple[str | int, ...]


class LimitExceeded(Exception):
    """Raised inside the checks; carries the :class:`Issue` to report."""

    def __init__(self, issue: Issue) -> None:
        super().__init__(issue.message)
        self.issue = issue


def too_deep(file: str | None, line: int | None = None) -> Issue:
    """The issue for a document nested beyond :data:`MAX_DEPTH`."""
    return Issue(
        "pipeline-too-deep",
        f"the document is nested more than {MAX_DEPTH} levels deep",
        file=file,
        line=line,
        hint="a pipeline needs a few levels; this looks like a generated or corrupted file",
    )


def check_yaml_graph(root: yaml.Node, file: str | None) -> list[Issue]:
    """Check a composed YAML node graph without expanding its aliases.

    Aliases share nodes, so the expanded size of each node is computed once (memoised by
    identity): linear in the text, whatever the alias fan-out.

    Returns:
        The duplicate keys found (every one).

    Raises:
        LimitExceeded: too deep, too many values once expanded, or a recursive alias.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()
    duplicates: list[Issue] = []

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        line = node.start_mark.line + 1
        if key in active:
            raise LimitExceeded(
                Issue("recursive-alias", "a YAML alias refers to itself", file=file, line=line)
            )
        if depth > MAX_DEPTH:
            raise LimitExceeded(too_deep(file, line))
        active.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for key_node, value_node in node.value:
                if (
                    isinstance(key_node, yaml.ScalarNode)
                    and key_node.tag != "tag:yaml.org,2002:merge"
                ):
                    name = str(key_node.value)
                    here = key_node.start_mark.line + 1
                    if name in seen:
                        duplicates.append(
                            Issue(
                                "duplicate-key",
                                f"key '{name}' appears twice in one mapping "
                                f"(first on line {seen[name]})",
                                file=file,
                                line=here,
                                hint="remove one: the second would silently replace the first",
                            )
                        )
                    else:
                        seen[name] = here
                total += size(key_node, depth + 1) + size(value_node, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for item in node.value:
                total += size(item, depth + 1)
        active.discard(key)
        if total > MAX_NODES:
            raise LimitExceeded(
                Issue(
                    "pipeline-too-many-nodes",
                    f"the document expands to more than {MAX_NODES:,} values "
                    "(YAML aliases repeated inside aliases)",
                    file=file,
                    line=line,
                    hint="write the repeated part once; aliases are for small shared blocks",
                )
            )
        sizes[key] = total
        return total

    size(root, 0)
    return duplicates


def check_data(data: Any, file: str | None) -> Iterator[tuple[PathKey, Issue]]:
    """Nesting depth and integer range of parsed data (JSON, TOML, constructed YAML).

    Yields:
        ``(path, issue)`` for each integer outside the signed 64-bit range.

    Raises:
        LimitExceeded: nested deeper than :data:`MAX_DEPTH` or more than :data:`MAX_NODES`.
    """
    count = 0
    stack: list[tuple[Any, PathKey]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        count += 1
        if count > MAX_NODES:
            raise LimitExceeded(
                Issue(
                    "pipeline-too-many-nodes",
                    f"the document holds more than {MAX_NODES:,} values",
                    file=file,
                )
            )
        if len(path) > MAX_DEPTH:
            raise LimitExceeded(too_deep(file))
        if isinstance(value, dict):
            stack.extend((v, (*path, str(k))) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(value))
        elif (
            isinstance(value, int)
            and not isinstance(value, bool)
            and not INT_MIN <= value <= INT_MAX
        ):
            digits = len(str(abs(value))) if abs(value) < 10**4000 else "over 4,000"
            yield (
                path,
                Issue(
                    "number-too-large",
                    f"an integer with {digits} digits is outside the 64-bit range",
                    file=file,
                    hint="quote it to keep it as text",
                ),
            )
