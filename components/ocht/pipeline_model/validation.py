"""Turn a dict into a :class:`Pipeline`, reporting every problem at once.

Each problem becomes an :class:`~ocht.errors.Issue` with the field path, the file and line
(when the data came from a :class:`Document`) and, for a misspelt key, step kind or
reference, the nearest valid name.
"""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from ocht.errors import InvalidPipeline, Issue
from ocht.pipeline_model.connectors import BUILTIN_CONNECTORS
from ocht.pipeline_model.document import Document, PathKey
from ocht.pipeline_model.model import Pipeline, Profile
from ocht.pipeline_model.quality import BUILTIN_CHECKS, Check
from ocht.pipeline_model.steps import BUILTIN_STEPS, Join, Route, Union, Window

_CODES = {
    "extra_forbidden": "unknown-key",
    "missing": "missing-field",
    "missing_kind": "missing-field",
    "missing_type": "missing-field",
    "literal_error": "invalid-value",
    "enum": "invalid-value",
    "string_pattern_mismatch": "invalid-value",
    "too_short": "invalid-value",
    "greater_than_equal": "invalid-value",
}


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate nearest to ``name`` when it is close enough to be a typo."""
    found = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return found[0] if found else None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A hint such as ``did you mean 'where'?``, or ``None``."""
    best = suggest(name, candidates)
    return f"did you mean '{best}'?" if best else None


def validate(
    data: Any,
    *,
    document: Document | None = None,
    known_steps: Collection[str] | None = None,
    known_connectors: Collection[str] | None = None,
    known_checks: Collection[str] | None = None,
) -> Pipeline:
    """Validate a plain dict into a frozen :class:`Pipeline`.

    Args:
        data: the pipeline as plain data (after interpolation and profile overlay).
        document: the parsed document it came from, for file and line numbers.
        known_steps: every step kind installed (built-in and plugins). When given, an
            unknown ``kind`` is reported with the key errors, in the same answer;
            otherwise kinds that are not built in are left to the registry.
        known_connectors: likewise for connector ``type`` values.
        known_checks: likewise for the ``type`` of each check of a ``check`` step.

    Raises:
        InvalidPipeline: with every issue found (model errors and unknown names, in
            document order; then references).
    """
    file = document.file if document else None
    if not isinstance(data, Mapping):
        issue = Issue(
            "invalid-pipeline", "a pipeline must be a mapping (keys and values)", file=file, line=1
        )
        raise InvalidPipeline.from_issues([issue], file=file)
    names = [
        _locate(i, document)
        for i in unknown_names(data, known_steps, known_connectors, known_checks)
    ]
    try:
        pipeline = Pipeline.model_validate(data)
    except ValidationError as exc:
        issues = issues_from_error(exc, data=data, document=document)
        ordered = sorted(issues + names, key=lambda i: i.line or 0)
        raise InvalidPipeline.from_issues(ordered, file=file) from None
    if names:
        raise InvalidPipeline.from_issues(names, file=file)
    issues = check_references(pipeline)
    if issues:
        located = [_locate(i, document) for i in issues]
        raise InvalidPipeline.from_issues(located, file=file)
    return pipeline


def unknown_names(
    data: Mapping[str, Any],
    known_steps: Collection[str] | None,
    known_connectors: Collection[str] | None,
    known_checks: Collection[str] | None = None,
) -> list[Issue]:
    """``kind`` and ``type`` values that nothing installed provides (``unknown-step``,
    ``unknown-connector``, ``unknown-check``), each with the nearest known name."""
    steps = [s for s in _items(data.get("steps")) if isinstance(s[1], Mapping)]
    connectors: list[tuple[str, Any]] = [
        (f"{section}.{name}", spec)
        for section in ("inputs", "outputs")
        if isinstance(data.get(section), Mapping)
        for name, spec in data[section].items()
    ]
    connectors.append(("dead_letter", data.get("dead_letter")))
    checks = [
        (f"steps[{i}].checks[{j}]", check)
        for i, step in steps
        if step.get("kind") == "check"
        for j, check in _items(step.get("checks"))
    ]
    kinds: list[_Kind] = [
        # (code, what, the key naming it, where it is, what is installed, fallback hint)
        ("unknown-step", "step kind", "kind", [(f"steps[{i}]", s) for i, s in steps],
         known_steps, BUILTIN_STEPS, "see `ocht list steps`"),
        ("unknown-connector", "connector type", "type", connectors,
         known_connectors, BUILTIN_CONNECTORS, "see `ocht list connectors`"),
        ("unknown-check", "check type", "type", checks,
         known_checks, BUILTIN_CHECKS, "built-in: " + ", ".join(sorted(BUILTIN_CHECKS))),
    ]  # fmt: skip
    issues: list[Issue] = []
    for code, what, key, places, installed, builtin, fallback in kinds:
        if installed is None:
            continue
        known = sorted(set(installed) | set(builtin))
        for path, spec in places:
            kind = spec.get(key) if isinstance(spec, Mapping) else None
            if isinstance(kind, str) and kind not in known:
                issues.append(
                    Issue(
                        code,
                        f"unknown {what} '{kind}'",
                        f"{path}.{key}",
                        hint=did_you_mean(kind, known) or fallback,
                    )
                )
    return issues


_Kind = tuple[str, str, str, list[tuple[str, Any]], Collection[str] | None, Collection[str], str]


def _items(value: Any) -> list[tuple[int, Any]]:
    return list(enumerate(value)) if isinstance(value, list) else []


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    out = []
    for i in issues:
        if (i.path, i.message) not in seen:
            seen.add((i.path, i.message))
            out.append(i)
    return out


def _locate(issue: Issue, document: Document | None) -> Issue:
    if document is None:
        return issue
    return Issue(
        issue.code,
        issue.message,
        issue.path,
        document.file,
        document.line_of(parse_path(issue.path)),
        issue.hint,
    )


def format_path(path: PathKey) -> str:
    """``("steps", 2, "where")`` → ``steps[2].where``."""
    out = ""
    for seg in path:
        out += f"[{seg}]" if isinstance(seg, int) else (f".{seg}" if out else str(seg))
    return out


def parse_path(text: str) -> PathKey:
    """Inverse of :func:`format_path`."""
    out: list[str | int] = []
    for part in text.replace("[", ".[").split("."):
        if not part:
            continue
        out.append(int(part[1:-1]) if part.startswith("[") else part)
    return tuple(out)


def _data_path(loc: tuple[Any, ...], data: Any) -> PathKey:
    """Drop the union tags pydantic puts in ``loc``, keeping only real data keys."""
    path: list[str | int] = []
    node = data
    for seg in loc:
        if isinstance(node, Mapping) and seg not in node and seg in _tags(node):
            continue  # the union's tag (a step's kind, a check's or connector's type)
        if (isinstance(node, Mapping) and seg in node) or (
            isinstance(node, list) and isinstance(seg, int) and seg < len(node)
        ):
            node = node[seg]
            path.append(seg)
        elif (
            isinstance(node, Mapping)
            and not isinstance(seg, int)
            and seg not in BUILTIN_STEPS
            and seg not in BUILTIN_CONNECTORS
            and seg != "plugin"
            and "[" not in str(seg)
        ):
            path.append(seg)  # a missing field: keep its name
            node = None
    return tuple(path)


def _tags(node: Mapping[str, Any]) -> set[str]:
    return {v for k in ("kind", "type") if isinstance(v := node.get(k), str)} | {"plugin"}


def issues_from_error(
    exc: ValidationError,
    *,
    data: Any = None,
    document: Document | None = None,
    base: str = "",
    model: type[BaseModel] | None = None,
) -> list[Issue]:
    """The one mapping from a pydantic :class:`ValidationError` to :class:`Issue` s.

    Args:
        exc: the error.
        data: the data validated (a whole pipeline unless ``model`` is given), for paths
            and key suggestions.
        document: where the data came from, for file and line.
        base: the field path of ``data`` in the pipeline (``inputs.orders``) when ``model``
            validated a part of it (a plugin's options, say).
        model: the model that validated ``data``, when not the whole :class:`Pipeline`.

    Example:
        >>> from ocht.pipeline_model import Filter
        >>> try:
        ...     Filter.model_validate({"kind": "filter", "wher": "x"})
        ... except ValidationError as e:
        ...     [i.code for i in issues_from_error(e, model=Filter, base="steps[0]")]
        ['missing-field', 'unknown-key']
    """
    issues = [_issue_from_error(err, data, document, base, model) for err in exc.errors()]
    return _dedupe(issues)


def _issue_from_error(
    err: Any,
    data: Any,
    document: Document | None,
    base: str = "",
    model: type[BaseModel] | None = None,
) -> Issue:
    prefix = parse_path(base)
    if model is None:
        path = _data_path(tuple(err["loc"]), data)
    else:
        path = prefix + tuple(s for s in err["loc"] if isinstance(s, (str, int)))
    kind = err["type"]
    code = _CODES.get(
        kind, "wrong-type" if kind.endswith("_type") or "parsing" in kind else "invalid-value"
    )
    message = err["msg"]
    hint = None
    if kind == "extra_forbidden" and path:
        key = str(path[-1])
        if model is not None:
            owner = model if len(path) == len(prefix) + 1 else None
        else:
            owner = model_at(path[:-1], data)
        allowed = field_names(owner) if owner else []
        message = f"unknown key '{key}'"
        hint = did_you_mean(key, allowed) or (
            f"allowed keys: {', '.join(sorted(allowed))}" if allowed else None
        )
    elif kind in ("missing", "missing_kind", "missing_type"):
        message = f"missing required field '{path[-1]}'" if kind == "missing" and path else message
    elif kind == "literal_error" and "expected" in err.get("ctx", {}):
        message = f"{message} (got {err.get('input')!r})"
    file = document.file if document else None
    line = document.line_of(path) if document else None
    return Issue(code, message, format_path(path), file, line, hint)


def field_names(model: type[BaseModel]) -> list[str]:
    """The keys a model accepts (aliases where set)."""
    return [f.alias or name for name, f in model.model_fields.items()]


def model_at(path: PathKey, data: Any) -> type[BaseModel] | None:
    """The spec model that validates the mapping at ``path`` (for key suggestions)."""
    segs = list(path)
    node: Any = data
    cls: type[BaseModel] | None = Pipeline

    def connector_cls(value: Any) -> type[BaseModel] | None:
        t = value.get("type") if isinstance(value, Mapping) else None
        return BUILTIN_CONNECTORS.get(str(t)) if t is not None else None

    while segs and cls is not None:
        seg = segs.pop(0)
        if isinstance(node, Mapping):
            node = node.get(seg)
        elif isinstance(node, list) and isinstance(seg, int):
            node = node[seg]
        else:
            node = None
        if cls is Pipeline and seg in ("inputs", "outputs", "profiles") and segs:
            key = segs.pop(0)
            node = node[key]
            cls = Profile if seg == "profiles" else connector_cls(node)
        elif cls is Pipeline and seg == "steps" and segs:
            index = segs.pop(0)
            node = node[index] if isinstance(index, int) else None
            kind = node.get("kind") if isinstance(node, Mapping) else None
            cls = BUILTIN_STEPS.get(str(kind))
        elif cls is Check and seg == "checks" and segs:
            index = segs.pop(0)
            node = node[index] if isinstance(node, list) and isinstance(index, int) else None
            kind = node.get("type") if isinstance(node, Mapping) else None
            cls = BUILTIN_CHECKS.get(str(kind))
        elif cls is Pipeline and seg == "dead_letter":
            cls = connector_cls(node)
        elif seg == "window":
            cls = Window
        else:
            cls = None
    return cls


def check_references(pipeline: Pipeline) -> list[Issue]:
    """Names that must point somewhere: step inputs, joins, unions, outputs' ``from``."""
    issues: list[Issue] = []
    ids = pipeline.step_ids()
    inputs = list(pipeline.inputs)
    known: list[str] = list(inputs)  # what a step may read: inputs, earlier steps, branches
    routes: dict[str, list[str]] = {}

    for name, spec in pipeline.inputs.items():
        if spec.from_ is not None:
            issues.append(
                Issue("invalid-value", "an input has no `from` (outputs do)", f"inputs.{name}.from")
            )

    def check(ref: str, path: str, pool: list[str]) -> None:
        if ref in routes:
            branches = ", ".join(f"{ref}.{b}" for b in routes[ref])
            issues.append(
                Issue(
                    "unknown-reference",
                    f"'{ref}' is a route; read one of its branches: {branches}",
                    path,
                )
            )
        elif ref not in pool:
            where = "an input or an earlier step"
            issues.append(
                Issue(
                    "unknown-reference",
                    f"'{ref}' is not {where}",
                    path,
                    hint=did_you_mean(ref, pool) or f"known: {', '.join(pool)}",
                )
            )

    seen_ids: set[str] = set()
    previous: str | None = inputs[0] if len(inputs) == 1 else None
    for i, (step, sid) in enumerate(zip(pipeline.steps, ids, strict=True)):
        base = f"steps[{i}]"
        if sid in seen_ids or sid in pipeline.inputs:
            issues.append(Issue("duplicate-id", f"step id '{sid}' is already used", f"{base}.id"))
        seen_ids.add(sid)
        if step.input is not None:
            check(step.input, f"{base}.input", known)
        elif previous is None:
            issues.append(
                Issue(
                    "missing-field",
                    "this step has no `input` and the pipeline has several inputs",
                    f"{base}.input",
                    hint=f"set input: to one of {', '.join(inputs)}",
                )
            )
        if isinstance(step, Join):
            check(step.with_, f"{base}.with", known)
            if step.how != "cross" and not step.on and not (step.left_on and step.right_on):
                issues.append(
                    Issue(
                        "missing-field",
                        "a join needs `on` (or `left_on` and `right_on`)",
                        f"{base}.on",
                    )
                )
        if isinstance(step, Union):
            for j, ref in enumerate(step.with_):
                check(ref, f"{base}.with[{j}]", known)
        if isinstance(step, Route):
            branches = list(step.routes) + ([step.default] if step.default else [])
            routes[sid] = branches
            known.extend(f"{sid}.{b}" for b in branches)
            previous = None
        else:
            known.append(sid)
            previous = sid

    for name, spec in pipeline.outputs.items():
        path = f"outputs.{name}.from"
        if spec.from_ is not None:
            check(spec.from_, path, known)
        elif previous is None:
            hint = "set from: to a step" + (
                f" or a branch ({', '.join(k for k in known if '.' in k)})" if routes else ""
            )
            issues.append(
                Issue(
                    "missing-field",
                    "this output needs `from`: the last step "
                    "is a route or there are several inputs",
                    path,
                    hint=hint,
                )
            )
    if pipeline.dead_letter is not None and pipeline.dead_letter.from_ is not None:
        issues.append(
            Issue("invalid-value", "the dead-letter output takes no `from`", "dead_letter.from")
        )
    return issues


def resolve_input(pipeline: Pipeline, index: int) -> str:
    """The name a step reads when its ``input`` is not given (checked valid already)."""
    step = pipeline.steps[index]
    if step.input is not None:
        return step.input
    if index == 0:
        return next(iter(pipeline.inputs))
    return pipeline.step_ids()[index - 1]


def resolve_output_source(pipeline: Pipeline, name: str) -> str:
    """The step, branch or input an output writes."""
    spec = pipeline.outputs[name]
    if spec.from_ is not None:
        return spec.from_
    return pipeline.step_ids()[-1] if pipeline.steps else next(iter(pipeline.inputs))
