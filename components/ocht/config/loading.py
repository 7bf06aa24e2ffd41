"""From a pipeline file (or dict) to a validated :class:`~ocht.pipeline_model.Pipeline`.

Order: parse → merge overlay files → apply the profile (its vars, inputs and outputs) →
``--set`` values → interpolate ``${...}`` → validate. Secrets met on the way are returned
so logs and errors can redact them.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ocht.config.interpolation import interpolate
from ocht.errors import InvalidPipeline, Issue
from ocht.pipeline_model import (
    Document,
    Pipeline,
    did_you_mean,
    read_document,
    suggest,
    validate,
)


@dataclass(frozen=True)
class LoadedPipeline:
    """A validated pipeline and where it came from.

    Attributes:
        pipeline: the validated, frozen model (profile applied, vars interpolated).
        document: the parsed source document (file and line numbers).
        base_dir: the folder relative paths resolve against.
        profile: the profile applied, if any.
        secrets: values taken from the environment (to redact from output).
        warnings: problems that do not stop the pipeline (a ``--set`` name no ``${...}``
            uses, code ``unused-variable``), for the caller to show.
    """

    pipeline: Pipeline
    document: Document | None
    base_dir: Path
    profile: str | None = None
    secrets: frozenset[str] = field(default_factory=frozenset)
    warnings: tuple[Issue, ...] = ()


def deep_merge(base: Any, overlay: Any) -> Any:
    """Merge ``overlay`` into ``base``: mappings merge key by key, anything else replaces.

    A connector overlay that changes ``type`` replaces the connector whole (its old
    options would not fit the new type).

    Example:
        >>> deep_merge({"a": {"x": 1, "y": 2}}, {"a": {"y": 3}})
        {'a': {'x': 1, 'y': 3}}
    """
    if isinstance(base, Mapping) and isinstance(overlay, Mapping):
        if "type" in overlay and base.get("type") not in (None, overlay["type"]):
            return copy.deepcopy(dict(overlay))
        out = dict(base)
        for key, value in overlay.items():
            out[key] = deep_merge(base[key], value) if key in base else copy.deepcopy(value)
        return out
    return copy.deepcopy(overlay)


def parse_set(values: Sequence[str]) -> dict[str, Any]:
    """``["a=1", "b=x"]`` → ``{"a": 1, "b": "x"}`` (values parsed as YAML scalars).

    Raises:
        InvalidPipeline: ``invalid-set`` for an item without ``=``.
    """
    out: dict[str, Any] = {}
    for item in values:
        if "=" not in item:
            raise InvalidPipeline(
                f"--set expects NAME=VALUE, got '{item}'",
                code="invalid-set",
                hint="for example --set min_amount=10",
            )
        key, _, raw = item.partition("=")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def apply_profile(data: dict[str, Any], profile: str | None, *, file: str | None) -> dict[str, Any]:
    """Overlay the named profile's vars, inputs, outputs and dead_letter onto the document."""
    if not profile:
        return data
    profiles = data.get("profiles") or {}
    if not isinstance(profiles, Mapping) or profile not in profiles:
        names = list(profiles) if isinstance(profiles, Mapping) else []
        best = suggest(profile, names)
        hint = (
            f"did you mean '{best}'?"
            if best
            else (
                f"profiles defined: {', '.join(names)}"
                if names
                else "this pipeline has no profiles:"
            )
        )
        raise InvalidPipeline.from_issues(
            [Issue("unknown-profile", f"no profile '{profile}'", "profiles", file, hint=hint)],
            file=file,
        )
    overlay = profiles[profile] or {}
    out = dict(data)
    for section in ("vars", "inputs", "outputs", "dead_letter"):
        if section in overlay:
            out[section] = deep_merge(out.get(section) or {}, overlay[section])
    unknown_inputs = set(overlay.get("inputs") or {}) - set(data.get("inputs") or {})
    unknown_outputs = set(overlay.get("outputs") or {}) - set(data.get("outputs") or {})
    issues = [
        Issue(
            "unknown-reference",
            f"profile '{profile}' overlays {kind} '{n}', which the pipeline does not declare",
            f"profiles.{profile}.{kind}s.{n}",
            file,
        )
        for kind, names in (("input", unknown_inputs), ("output", unknown_outputs))
        for n in sorted(names)
    ]
    if issues:
        raise InvalidPipeline.from_issues(issues, file=file)
    return out


def load_pipeline(
    source: str | Path | Mapping[str, Any],
    *,
    profile: str | None = None,
    variables: Mapping[str, Any] | None = None,
    overlays: Sequence[str | Path] = (),
    env: Mapping[str, str] | None = None,
    known_steps: Collection[str] | None = None,
    known_connectors: Collection[str] | None = None,
    known_checks: Collection[str] | None = None,
) -> LoadedPipeline:
    """Load, overlay, interpolate and validate a pipeline.

    Args:
        source: a path to a YAML/JSON/TOML file, or the pipeline as a dict.
        profile: a profile name from the pipeline's ``profiles:``.
        variables: values that override ``vars:`` (``--set``).
        overlays: more files merged over the pipeline, in order (``pipeline.prod.yaml``).
        env: the environment for ``${env:...}`` (default: ``os.environ``).
        known_steps: every installed step kind; given, unknown kinds are reported with
            the other problems in one answer (``Registry.step_names()``).
        known_connectors: every installed connector type, likewise.
        known_checks: every installed check type, likewise.

    Raises:
        InvalidPipeline: every problem found, with file, line and field path.

    Example:
        >>> lp = load_pipeline({"name": "p", "vars": {"n": 5},
        ...     "inputs": {"i": {"type": "csv", "path": "a.csv"}},
        ...     "steps": [{"kind": "limit", "n": "${n}"}],
        ...     "outputs": {"o": {"type": "console"}}}, variables={"n": 2})
        >>> lp.pipeline.steps[0].n
        2
    """
    document: Document | None
    if isinstance(source, Mapping):
        document, data, file, base_dir = None, dict(source), None, Path.cwd()
    else:
        document = read_document(source)
        data, file = document.data, document.file
        base_dir = Path(source).resolve().parent
    if not isinstance(data, dict):
        raise InvalidPipeline.from_issues(
            [
                Issue(
                    "invalid-pipeline",
                    "a pipeline must be a mapping (keys and values)",
                    "",
                    file,
                    1,
                )
            ],
            file=file,
        )
    for extra in overlays:
        data = deep_merge(data, read_document(extra).data)
    data = apply_profile(data, profile, file=file)
    own_vars = data.get("vars") or {}
    merged_vars = {**(own_vars if isinstance(own_vars, Mapping) else {}), **(variables or {})}
    data["vars"] = merged_vars
    profiles = data.pop("profiles", None)
    spliced = _env_in_queries(data, document, file)
    result = interpolate(data, merged_vars, env, file=file)
    issues = [
        Issue(
            i.code,
            i.message,
            i.path,
            file,
            document.line_of(_path(i.path)) if document else None,
            i.hint,
        )
        for i in result.issues
    ]
    if issues:
        raise InvalidPipeline.from_issues(issues, file=file)
    if profiles is not None:
        result.data["profiles"] = profiles
    pipeline = validate(
        result.data,
        document=document,
        known_steps=known_steps,
        known_connectors=known_connectors,
        known_checks=known_checks,
    )
    warnings = (
        tuple(
            Issue(
                "unused-variable",
                f"--set {name}=... is not used: no ${{{name}}} in the pipeline",
                file=file,
                hint=did_you_mean(name, result.used) or "check the spelling of the name",
            )
            for name in sorted(set(variables or {}) - result.used)
        )
        + spliced
    )
    return LoadedPipeline(
        pipeline, document, base_dir, profile, frozenset(result.secrets), warnings
    )


def _path(text: str) -> tuple[str | int, ...]:
    out: list[str | int] = []
    for part in text.replace("[", ".[").split("."):
        if part:
            out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


def _env_in_queries(
    data: Mapping[str, Any], document: Document | None, file: str | None
) -> tuple[Issue, ...]:
    """A warning per SQL ``query`` whose text holds ``${env:...}`` (spliced, not bound)."""
    inputs = data.get("inputs")
    if not isinstance(inputs, Mapping):
        return ()
    out = []
    for name, spec in inputs.items():
        query = spec.get("query") if isinstance(spec, Mapping) else None
        if isinstance(query, str) and "${env:" in query:
            path = f"inputs.{name}.query"
            out.append(
                Issue(
                    "env-in-query",
                    f"input '{name}': an ${{env:...}} value is spliced into the query's text",
                    path,
                    file,
                    document.line_of(_path(path)) if document else None,
                    "bind it instead: write :name where it goes and "
                    "`params: {name: '${env:NAME}'}`",
                )
            )
    return tuple(out)
