"""The checks and lookups compiling needs: connectors resolved against the registry,
plugin options validated, output targets checked, issues located in the document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ocht.errors import InvalidPipeline, Issue, OchtError
from ocht.pipeline_model import Document, Join, PluginConnector, PluginStep, Union, format_path
from ocht.registry import ConnectorType, Mode, Registry, RunContext, Source
from ocht.transform import StepKind

#: two outputs (or an output and the dead letters) write the same place
DUPLICATE_TARGET = "duplicate-output-target"
#: an output writes a place one of the inputs reads
OUTPUT_IS_INPUT = "output-overwrites-input"


def other_inputs(spec: Any) -> tuple[str, ...]:
    """The frames a step reads beside its main input (``with:`` of joins and unions)."""
    if isinstance(spec, Join):
        return (spec.with_,)
    if isinstance(spec, Union):
        return tuple(spec.with_)
    extra = getattr(spec, "with_", None) or (spec.model_extra or {}).get("with")
    if isinstance(extra, str):
        return (extra,)
    return tuple(extra) if isinstance(extra, list | tuple) else ()


def resolve_connector(
    reg: Registry, spec: Any, path: str, need: str, mode: Mode, issues: list[Issue]
) -> tuple[ConnectorType, Any] | None:
    """The connector type of ``spec`` and its validated options, or ``None`` with issues."""
    try:
        conn = reg.connector(spec.type, path=f"{path}.type")
    except InvalidPipeline as exc:
        issues.extend(exc.issues)
        return None
    except OchtError as exc:
        issues.append(Issue(exc.code, exc.message, f"{path}.type", hint=exc.hint))
        return None
    if (conn.source if need == "source" else conn.sink) is None:
        role = "read" if need == "source" else "written"
        issues.append(
            Issue(
                "unsupported-connector",
                f"a '{conn.name}' connector cannot be {role}",
                f"{path}.type",
            )
        )
        return None
    # a stream run reads batch inputs once, as lookups, and appends dead letters to files
    bounded = mode == "stream" and conn.batch and (need == "source" or path == "dead_letter")
    if not (conn.stream if mode == "stream" else conn.batch) and not bounded:
        issues.append(
            Issue(
                "unsupported-connector",
                f"the '{conn.name}' connector does not run in {mode} mode",
                f"{path}.type",
            )
        )
        return None
    if isinstance(spec, PluginConnector) or type(spec) is not conn.spec:
        try:
            spec = conn.spec.model_validate(spec.model_dump(by_alias=True, exclude_unset=True))
        except ValidationError as exc:
            issues.extend(pydantic_issues(exc, path))
            return None
    return conn, spec


def plugin_options(spec: Any, kind: StepKind, path: str, issues: list[Issue]) -> Any:
    """A plugin step's options validated by its own model (``None`` with issues)."""
    if not isinstance(spec, PluginStep) or kind.spec is PluginStep:
        return spec
    if not (isinstance(kind.spec, type) and issubclass(kind.spec, BaseModel)):
        return spec
    try:
        return kind.spec.model_validate(spec.model_dump(by_alias=True, exclude_unset=True))
    except ValidationError as exc:
        issues.extend(pydantic_issues(exc, path))
        return None


def pydantic_issues(exc: ValidationError, base: str) -> list[Issue]:
    """One issue per pydantic error, located under ``base``."""
    out = []
    for err in exc.errors():
        sub = format_path(tuple(err["loc"]))
        code = "unknown-key" if err["type"] == "extra_forbidden" else "invalid-value"
        out.append(Issue(code, err["msg"], f"{base}.{sub}" if sub else base))
    return out


def target_of(spec: Any, context: RunContext) -> tuple[str, ...] | None:
    """Where an input reads or an output writes, comparable between connectors.

    A file path (resolved against the pipeline's folder), or a SQL table with its
    database; ``None`` when the connector names neither.
    """
    path = getattr(spec, "path", None)
    if isinstance(path, str) and path:
        return ("file", str(_resolved(context.resolve(path))))
    url, table = getattr(spec, "url", None), getattr(spec, "table", None)
    if isinstance(url, str) and isinstance(table, str):
        schema = getattr(spec, "schema_", None)
        return ("sql", url, schema if isinstance(schema, str) else "", table.lower())
    return None


def check_targets(
    outputs: dict[str, tuple[str, ...] | None],
    inputs: dict[str, tuple[str, ...] | None],
    input_files: dict[str, set[str]],
) -> list[Issue]:
    """Two outputs writing one place, and outputs writing what an input reads.

    Args:
        outputs: ``{field path: target}`` of every output (and the dead letters).
        inputs: ``{input name: target}``.
        input_files: ``{input name: the files it reads}`` (a glob or a folder).
    """
    issues: list[Issue] = []
    seen: dict[tuple[str, ...], str] = {}
    for path, target in outputs.items():
        if target is None:
            continue
        if target in seen:
            issues.append(
                Issue(
                    DUPLICATE_TARGET,
                    f"'{path}' writes the same {_what(target)} as '{seen[target]}'",
                    path,
                    hint="give every output its own path or table",
                )
            )
            continue
        seen[target] = path
        for name, read in inputs.items():
            hit = read == target or (target[0] == "file" and target[1] in input_files.get(name, ()))
            if hit:
                issues.append(
                    Issue(
                        OUTPUT_IS_INPUT,
                        f"'{path}' would overwrite input '{name}' ({_what(target)})",
                        path,
                        hint="write the output somewhere else than the inputs",
                    )
                )
    return issues


def input_files(source: Source) -> set[str]:
    """The resolved files a file input reads (empty for anything else)."""
    try:
        files = source.files()
    except OchtError:
        return set()
    return {str(_resolved(Path(f))) for f in files or ()}


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _what(target: tuple[str, ...]) -> str:
    return f"file {target[1]}" if target[0] == "file" else f"table {target[-1]}"


def locate(issues: list[Issue], document: Document | None) -> list[Issue]:
    """Issues with the file and line of their field path, when there is a document."""
    if document is None:
        return issues
    out = []
    for i in issues:
        path: list[str | int] = []
        for part in i.path.replace("[", ".[").split("."):
            if part:
                path.append(int(part[1:-1]) if part.startswith("[") else part)
        out.append(
            Issue(
                i.code,
                i.message,
                i.path,
                document.file,
                i.line or document.line_of(tuple(path)),
                i.hint,
            )
        )
    return out
