"""The checks a version passes before it becomes active.

Each check answers ``pass`` or ``fail`` with a message (never a secret's value):

- ``env:NAME``: every ``${env:NAME}`` the document uses resolves (or has a default);
- ``document``: the document is a valid pipeline;
- ``expressions``: every expression compiles;
- ``columns``: every column named resolves against the declared or inferred input schemas;
- ``connector:inputs.X`` / ``connector:outputs.X``: each connector answers a cheap
  preflight (an input's schema is read; an output's folder exists or can be created and
  is writable).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocht.api.frontdoor import FrontDoor, close
from ocht.errors import InvalidPipeline, Issue, OchtError

_ENV_REF = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_.\-]*)(:-[^}]*)?\}")
_COLUMN_CODES = {"unknown-column", "unknown-input", "unknown-reference", "schema-mismatch"}
_EXPRESSION_WORDS = ("expression", "sql", "parse", "syntax")


@dataclass(frozen=True)
class Check:
    """One activation check and its outcome."""

    name: str
    status: str
    message: str = ""
    issues: list[dict[str, Any]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        """Whether it passed."""
        return self.status == "pass"


def _issue(i: Issue) -> dict[str, Any]:
    return {k: v for k, v in i.__dict__.items() if v is not None}


def env_refs(value: Any) -> dict[str, bool]:
    """``{NAME: has a default}`` for every ``${env:NAME}`` in a document.

    Example:
        >>> env_refs({"url": "x://${env:USER_A}@${env:B:-b}"})
        {'USER_A': False, 'B': True}
    """
    found: dict[str, bool] = {}
    if isinstance(value, str):
        for m in _ENV_REF.finditer(value):
            found[m[1]] = found.get(m[1], False) or m[2] is not None
    elif isinstance(value, dict):
        for v in value.values():
            for k, d in env_refs(v).items():
                found[k] = found.get(k, False) or d
    elif isinstance(value, list):
        for v in value:
            for k, d in env_refs(v).items():
                found[k] = found.get(k, False) or d
    return found


def _kind(issue: Issue) -> str:
    if issue.code in _COLUMN_CODES or "column" in issue.code:
        return "columns"
    text = f"{issue.code} {issue.message}".lower()
    if any(word in text for word in _EXPRESSION_WORDS):
        return "expressions"
    return "document"


def activation_checks(
    door: FrontDoor,
    document: Mapping[str, Any],
    *,
    tenant: str,
    profile: str | None = None,
    variables: Mapping[str, Any] | None = None,
) -> list[Check]:
    """Every activation check of ``document``, in the order listed in this module."""
    checks: list[Check] = []
    for name, has_default in sorted(env_refs(dict(document)).items()):
        ok = name in os.environ or has_default
        checks.append(
            Check(
                f"env:{name}",
                "pass" if ok else "fail",
                "set" if name in os.environ else ("default used" if ok else "not set"),
            )
        )
    if any(not c.passed for c in checks):
        return [*checks, *_skipped("an environment variable is missing")]
    try:
        loaded = door.load(document, tenant=tenant, profile=profile, variables=variables)
    except InvalidPipeline as exc:
        issues = [_issue(i) for i in exc.issues]
        return [
            *checks,
            Check("document", "fail", exc.message.splitlines()[0], issues),
            *_skipped("the document is not valid", with_document=False),
        ]
    checks.append(Check("document", "pass"))
    try:
        plan = door.compile(loaded)
    except InvalidPipeline as exc:
        found: dict[str, list[dict[str, Any]]] = {"expressions": [], "columns": [], "document": []}
        for i in exc.issues:
            found.setdefault(_kind(i), []).append(_issue(i))
        if found["document"]:
            checks[-1] = Check(
                "document", "fail", "the pipeline does not compile", found["document"]
            )
        for name in ("expressions", "columns"):
            bad = found[name]
            checks.append(
                Check(name, "fail" if bad else "pass", f"{len(bad)} problem(s)" if bad else "", bad)
            )
        checks.append(Check("connectors", "fail", "not tried: the pipeline does not compile"))
        return checks
    except OchtError as exc:
        checks += [Check("expressions", "pass"), Check("columns", "pass")]
        checks.append(Check("connectors", "fail", exc.message, [{"code": exc.code}]))
        return checks
    checks += [Check("expressions", "pass"), Check("columns", "pass")]
    try:
        for name, source in plan.sources.items():
            checks.append(Check(f"connector:inputs.{name}", "pass", source.describe()))
        for out in plan.outputs:
            checks.append(_output_preflight(out.name, out.sink.spec, plan.context.resolve))
    finally:
        close(plan)
    return checks


def _skipped(reason: str, *, with_document: bool = True) -> list[Check]:
    names = (["document"] if with_document else []) + ["expressions", "columns", "connectors"]
    return [Check(n, "fail", f"not tried: {reason}") for n in names]


def _output_preflight(name: str, spec: Any, resolve: Any) -> Check:
    path = getattr(spec, "path", None)
    label = f"connector:outputs.{name}"
    if not isinstance(path, str):
        return Check(label, "pass", "no preflight for this connector type")
    folder = Path(resolve(path)).parent
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if os.access(probe, os.W_OK):
        return Check(label, "pass", "folder writable")
    return Check(label, "fail", f"cannot write into {folder}")
