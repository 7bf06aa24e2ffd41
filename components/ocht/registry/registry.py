"""Step kinds and connector types by name, built-in and from plugins.

Built-in connectors live in their own bricks, and not every artifact ships every brick:
the registry imports a connector's brick only when it is asked for, and names the
artifact that has it when it is missing. Third-party plugins register through the entry
point groups ``ocht.steps`` (a :class:`~ocht.transform.StepKind` or a list of them) and
``ocht.connectors`` (a :class:`ConnectorType` or a list).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from ocht.errors import ConnectorUnavailable, Issue, OchtError, UnknownName
from ocht.registry.seams import ConnectorType
from ocht.transform import STEP_KINDS, StepKind, nearest

STEP_GROUP = "ocht.steps"
CONNECTOR_GROUP = "ocht.connectors"

#: connector type → (brick module, the artifact that ships it)
CONNECTOR_BRICKS: dict[str, tuple[str, str]] = {
    "csv": ("ocht.connector_files", "ocht-cli"),
    "parquet": ("ocht.connector_files", "ocht-cli"),
    "ndjson": ("ocht.connector_files", "ocht-cli"),
    "json": ("ocht.connector_files", "ocht-cli"),
    "console": ("ocht.connector_files", "ocht-cli"),
    "sql": ("ocht.connector_sql", "ocht-cli"),
    "kafka": ("ocht.connector_kafka", "ocht-worker"),
}

#: step kinds shipped by bricks other than transform: kind → brick module
BUILTIN_STEP_MODULES: tuple[str, ...] = ("ocht.quality",)


@dataclass(frozen=True)
class ConnectorInfo:
    """A line of ``ocht list connectors``."""

    name: str
    available: bool
    capabilities: tuple[str, ...]
    summary: str
    artifact: str


class PluginError(OchtError):
    """A plugin entry point could not be loaded."""

    code = "plugin-error"


class Registry:
    """Look up step kinds and connector types.

    Example:
        >>> reg = Registry()
        >>> reg.step("filter").name
        'filter'
    """

    def __init__(
        self,
        steps: Iterable[StepKind] = (),
        connectors: Iterable[ConnectorType] = (),
        *,
        plugins: bool = True,
    ) -> None:
        self._steps: dict[str, StepKind] = {k.name: k for k in STEP_KINDS}
        for module in BUILTIN_STEP_MODULES:
            for kind in _optional_module_attr(module, "STEP_KINDS"):
                self._steps[kind.name] = kind
        self._connectors: dict[str, ConnectorType] = {}
        self._missing: dict[str, str] = {}
        if plugins:
            for kind in _load_group(STEP_GROUP, StepKind):
                self._steps[kind.name] = kind
            for conn in _load_group(CONNECTOR_GROUP, ConnectorType):
                self._connectors[conn.name] = conn
        for kind in steps:
            self._steps[kind.name] = kind
        for conn in connectors:
            self._connectors[conn.name] = conn

    # -- steps ---------------------------------------------------------------------------
    def step(self, kind: str, *, path: str = "") -> StepKind:
        """The step kind named ``kind``.

        Raises:
            UnknownName: ``unknown-step``, with the nearest known kind.
        """
        found = self._steps.get(kind)
        if found is None:
            best = nearest(kind, list(self._steps))
            hint = f"did you mean '{best}'?" if best else "see `ocht list steps`"
            msg = f"unknown step kind '{kind}'"
            raise UnknownName(
                msg,
                issues=[Issue("unknown-step", msg, path, hint=hint)],
                code="unknown-step",
                hint=hint,
            )
        return found

    def steps(self) -> list[StepKind]:
        """Every step kind, by name."""
        return [self._steps[k] for k in sorted(self._steps)]

    def step_names(self) -> list[str]:
        """Every step kind's name."""
        return sorted(self._steps)

    # -- connectors ----------------------------------------------------------------------
    def connector(self, name: str, *, path: str = "") -> ConnectorType:
        """The connector type named ``name``, importing its brick on first use.

        Raises:
            UnknownName: ``unknown-connector``, with the nearest known type.
            ConnectorUnavailable: it exists but this artifact does not ship it.
        """
        if name in self._connectors:
            return self._connectors[name]
        if name in CONNECTOR_BRICKS:
            module, artifact = CONNECTOR_BRICKS[name]
            try:
                found = _connectors_of(module)
            except ModuleNotFoundError as exc:
                if (exc.name and module.startswith(exc.name)) or exc.name == module:
                    raise ConnectorUnavailable(
                        f"the '{name}' connector is not part of this installation",
                        hint=f"it ships with the {artifact} artifact (pip install {artifact})",
                        connector=name,
                        artifact=artifact,
                    ) from None
                raise ConnectorUnavailable(
                    f"the '{name}' connector needs the library '{exc.name}', not installed",
                    hint=f"install {artifact}, which brings it",
                    connector=name,
                ) from None
            for conn in found:
                self._connectors.setdefault(conn.name, conn)
            if name in self._connectors:
                return self._connectors[name]
        best = nearest(name, self.connector_names())
        hint = f"did you mean '{best}'?" if best else "see `ocht list connectors`"
        msg = f"unknown connector type '{name}'"
        raise UnknownName(
            msg,
            issues=[Issue("unknown-connector", msg, path, hint=hint)],
            code="unknown-connector",
            hint=hint,
        )

    def connector_names(self) -> list[str]:
        """Every connector type known, installed or not."""
        return sorted(set(self._connectors) | set(CONNECTOR_BRICKS))

    def connectors(self) -> list[ConnectorInfo]:
        """Every connector known, with whether this installation has it."""
        out = []
        for name in self.connector_names():
            artifact = CONNECTOR_BRICKS.get(name, ("", "plugin"))[1]
            try:
                conn = self.connector(name)
            except ConnectorUnavailable:
                out.append(ConnectorInfo(name, False, (), "not installed", artifact))
                continue
            out.append(ConnectorInfo(name, True, conn.capabilities, conn.summary, artifact))
        return out


def _optional_module_attr(module: str, attr: str) -> list[Any]:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return []
        raise
    return list(getattr(mod, attr, ()))


@cache
def _connectors_of(module: str) -> tuple[ConnectorType, ...]:
    return tuple(importlib.import_module(module).CONNECTORS)


def _load_group(group: str, kind: type[Any]) -> list[Any]:
    out: list[Any] = []
    for ep in entry_points(group=group):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plugin must not hide which one it is
            raise PluginError(
                f"plugin '{ep.name}' ({ep.value}) failed to load: {exc}",
                hint=f"fix or uninstall the package providing {ep.value}",
            ) from exc
        items = obj if isinstance(obj, list | tuple) else [obj]
        for item in items:
            if not isinstance(item, kind):
                raise PluginError(
                    f"plugin '{ep.name}' in {group} is a {type(item).__name__}, "
                    f"not a {kind.__name__}"
                )
            out.append(item)
    return out


@cache
def default_registry() -> Registry:
    """The process-wide registry: built-ins plus installed plugins."""
    return Registry()
