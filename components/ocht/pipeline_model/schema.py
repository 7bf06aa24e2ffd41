"""The JSON Schema of pipeline documents, for editors and CI linting (Draft 2020-12).

pydantic renders each spec union (steps, connectors, checks) as a ``oneOf`` that ends in
a catch-all plugin model, which matches every object, so a standard validator refused
every valid document and accepted misspelt kinds. Here each union becomes a tagged union
on its discriminator (``kind`` or ``type``): the tag must be one of the known values, and
``if kind == X then <X's model>`` checks the rest (unknown keys refused). Plugin kinds and
types are admitted by name, with their own options model when they have one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from ocht.pipeline_model.model import Pipeline
from ocht.pipeline_model.steps import Spec

DRAFT = "https://json-schema.org/draft/2020-12/schema"

#: catch-all model → (discriminator, the tagged union's name in ``$defs``, what it is)
_UNIONS: dict[str, tuple[str, str, str]] = {
    "PluginStep": ("kind", "Step", "A step: `kind` names what it does."),
    "PluginConnector": ("type", "Connector", "An input or output: `type` names the connector."),
    "PluginCheck": ("type", "CheckSpec", "A data-quality check: `type` names the check."),
}

Plugins = Mapping[str, type[BaseModel] | None]


def json_schema(
    *,
    steps: Plugins | None = None,
    connectors: Plugins | None = None,
    checks: Plugins | None = None,
) -> dict[str, Any]:
    """The JSON Schema of the pipeline document.

    Args:
        steps: plugin step kinds to admit, each with its options model (or ``None``: any
            options). Built-in kinds are always there.
        connectors: plugin connector types to admit, likewise.
        checks: plugin check types to admit, likewise.

    Example:
        >>> s = json_schema()
        >>> s["$defs"]["Step"]["properties"]["kind"]["enum"][:3]
        ['aggregate', 'anomaly', 'cast']
    """
    schema = Pipeline.model_json_schema(by_alias=True, mode="validation")
    defs: dict[str, Any] = schema["$defs"]
    plugins = {"PluginStep": steps, "PluginConnector": connectors, "PluginCheck": checks}
    unions: dict[str, str] = {}  # catch-all def name → tagged union def name
    for catch_all, (tag, name, description) in _UNIONS.items():
        members = _members(schema, catch_all)
        if members is None:
            continue
        branches = {_const(defs[m], tag): m for m in members if m != catch_all}
        for plugin, model in (plugins[catch_all] or {}).items():
            if plugin in branches:
                continue
            def_name = f"Plugin_{tag}_{plugin}"
            defs[def_name] = _plugin_def(tag, plugin, model, defs)
            branches[plugin] = def_name
        defs[name] = _tagged(tag, branches, description)
        unions[catch_all] = name
        del defs[catch_all]
    _replace_unions(schema, unions)
    _describe_tags(defs)
    _one_or_many(defs)
    schema["$schema"] = DRAFT
    schema["title"] = "Ocht pipeline"
    return schema


def _describe_tags(defs: dict[str, Any]) -> None:
    """The ``kind``/``type`` constant of each model gets the model's own one-line summary."""
    for definition in defs.values():
        for tag in ("kind", "type"):
            prop = (definition.get("properties") or {}).get(tag)
            if isinstance(prop, dict) and "const" in prop and "description" not in prop:
                summary = str(definition.get("description", "")).split("\n")[0]
                prop["description"] = f"`{prop['const']}`: {summary}".rstrip(": ")


def _one_or_many(defs: dict[str, Any]) -> None:
    """Name lists that also take one name (``by: country``) accept a string too."""
    for model in _spec_models():
        definition = defs.get(model.__name__)
        if definition is None:
            continue
        for validator in model.__pydantic_decorators__.field_validators.values():
            if validator.info.mode != "before" or validator.func.__name__ != "_as_list":
                continue
            for name in validator.info.fields:
                field = model.model_fields[name]
                prop = definition["properties"].get(field.alias or name)
                if prop is None:
                    continue
                meta = {k: prop.pop(k) for k in ("description", "default", "title") if k in prop}
                variants = prop.pop("anyOf", None) or [dict(prop)]
                prop.clear()
                prop.update(meta)
                prop["anyOf"] = [{"type": "string"}, *variants]


def _spec_models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    todo: list[type[BaseModel]] = [Spec]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            if sub not in seen:
                seen.append(sub)
                todo.append(sub)
    return seen


def _refs(node: Any) -> list[str] | None:
    if isinstance(node, dict) and isinstance(node.get("oneOf"), list):
        refs = [b.get("$ref", "") for b in node["oneOf"] if isinstance(b, dict)]
        if refs and all(r.startswith("#/$defs/") for r in refs):
            return [r.removeprefix("#/$defs/") for r in refs]
    return None


def _members(node: Any, catch_all: str) -> list[str] | None:
    """The members of the first ``oneOf`` holding ``catch_all`` anywhere in ``node``."""
    refs = _refs(node)
    if refs is not None and catch_all in refs:
        return refs
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
    for child in children:
        found = _members(child, catch_all)
        if found is not None:
            return found
    return None


def _replace_unions(node: Any, unions: dict[str, str]) -> None:
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, child in list(items):
        refs = _refs(child)
        hit = next((unions[r] for r in refs or () if r in unions), None)
        if hit is not None:
            node[key] = {"$ref": f"#/$defs/{hit}"}
        else:
            _replace_unions(child, unions)


def _const(definition: dict[str, Any], tag: str) -> str:
    prop = definition["properties"][tag]
    return str(prop.get("const", prop.get("enum", [""])[0]))


def _tagged(tag: str, branches: dict[str, str], description: str) -> dict[str, Any]:
    names = sorted(branches)
    return {
        "type": "object",
        "description": description,
        "required": [tag],
        "properties": {
            tag: {
                "description": f"One of: {', '.join(names)}.",
                "enum": names,
            }
        },
        "allOf": [
            {
                "if": {
                    "properties": {tag: {"const": value, "description": f"`{value}`."}},
                    "required": [tag],
                },
                "then": {"$ref": f"#/$defs/{branches[value]}"},
            }
            for value in names
        ],
    }


def _plugin_def(
    tag: str, name: str, model: type[BaseModel] | None, defs: dict[str, Any]
) -> dict[str, Any]:
    if model is None:
        return {
            "type": "object",
            "description": f"The '{name}' {tag} from a plugin (its options are not described).",
            "properties": {tag: {"const": name, "description": "This plugin's name."}},
        }
    sub = model.model_json_schema(by_alias=True, mode="validation", ref_template="#/$defs/{model}")
    defs.update(sub.pop("$defs", {}))
    sub.setdefault("properties", {})[tag] = {"const": name, "description": "This plugin's name."}
    sub.setdefault("description", f"The '{name}' {tag} from a plugin.")
    return sub
