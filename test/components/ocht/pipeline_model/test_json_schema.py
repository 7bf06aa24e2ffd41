"""The JSON Schema under a standard Draft 2020-12 validator (the one editors and CI use)."""

import re
from pathlib import Path

import jsonschema
import pytest

from ocht.pipeline_model import json_schema, parse_document

ROOT = Path(__file__).parents[4]
EXAMPLES = sorted(
    p for p in (ROOT / "examples").glob("*.yaml") if not p.name.endswith(".ocht-test.yaml")
)
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
TYPOS = sorted((ROOT / "test" / "corpus" / "pipelines").glob("typo_*.yaml"))


@pytest.fixture(scope="module")
def schema():
    s = json_schema()
    jsonschema.Draft202012Validator.check_schema(s)
    return s


@pytest.fixture(scope="module")
def validator(schema):
    return jsonschema.Draft202012Validator(schema)


@pytest.fixture(scope="module")
def fragment_validator(schema):
    """The same schema with nothing required at the top: for documented fragments."""
    frag = {**schema, "required": []}
    frag["properties"] = {
        k: {kk: vv for kk, vv in v.items() if kk != "minProperties"}
        for k, v in schema["properties"].items()
    }
    return jsonschema.Draft202012Validator(frag)


def _errors(validator, data):
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(data)]


def test_examples_exist():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_validates(validator, path):
    assert _errors(validator, parse_document(path.read_text()).data) == []


def _snippets():
    for doc in DOCS:
        text = doc.read_text()
        for m in re.finditer(r"```ya?ml\n(.*?)```", text, re.S):
            line = text[: m.start()].count("\n") + 1
            yield pytest.param(m.group(1), id=f"{doc.name}:{line}")


SNIPPETS = list(_snippets())


def test_the_docs_have_snippets():
    assert len(SNIPPETS) >= 5


@pytest.mark.parametrize("text", SNIPPETS)
def test_every_documented_snippet_validates(schema, validator, fragment_validator, text):
    data = parse_document(text).data
    if text.startswith("# rules.yaml"):  # resolver rules for periods (ocht backfill)
        from ocht.scheduler import parse_rules

        assert parse_rules(data)
        return
    if isinstance(data, dict) and "scenarios" in data:  # a scenario file (ocht test)
        from ocht.scenarios import ScenarioFile

        ScenarioFile.model_validate(data)
        return
    if isinstance(data, list):  # a list of steps
        step = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/Step"})
        for item in data:
            assert _errors(step, item) == []
    elif "name" in data and "inputs" in data and "outputs" in data and data["inputs"]:
        assert _errors(validator, data) == []
    else:
        assert _errors(fragment_validator, data) == []


@pytest.mark.parametrize("path", TYPOS, ids=lambda p: p.name)
def test_typo_corpus_is_rejected(validator, path):
    assert _errors(validator, parse_document(path.read_text()).data)


def test_the_typo_corpus_covers_the_known_cases():
    names = {p.name for p in TYPOS}
    for needle in ("on_bad_line", "wher", "filtr", "parquett"):
        assert any(needle in n for n in names)


def test_an_unknown_kind_is_rejected_on_its_own_and_named(validator):
    doc = {
        "name": "p",
        "inputs": {"i": {"type": "csv", "path": "a.csv"}},
        "steps": [{"kind": "filtr", "where": "a > 1"}],
        "outputs": {"o": {"type": "console"}},
    }
    errors = list(validator.iter_errors(doc))
    assert errors and any("filtr" in e.message for e in errors)
    doc["steps"][0]["kind"] = "filter"
    assert _errors(validator, doc) == []


def test_plugins_are_admitted_by_name_only():
    from pydantic import BaseModel, ConfigDict

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        kind: str
        factor: int = 1

    s = json_schema(steps={"scale": Options, "anything": None}, connectors={"s3": None})
    v = jsonschema.Draft202012Validator(s)
    doc = {
        "name": "p",
        "inputs": {"i": {"type": "s3", "bucket": "b"}},
        "steps": [{"kind": "scale", "factor": 2}, {"kind": "anything", "x": 1}],
        "outputs": {"o": {"type": "console"}},
    }
    assert _errors(v, doc) == []
    doc["steps"][0]["factr"] = 2
    assert _errors(v, doc)  # the plugin's own model refuses its typos
    del doc["steps"][0]["factr"]
    doc["steps"].append({"kind": "scal"})
    assert _errors(v, doc)
    assert _errors(jsonschema.Draft202012Validator(json_schema()), {**doc, "steps": []})


def test_no_catch_all_in_any_one_of(schema):
    text = str(schema)
    assert "PluginStep" not in text and "PluginConnector" not in text and "PluginCheck" not in text


def _properties(node, path=""):
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield f"{path}.{name}", prop
        for key, child in node.items():
            yield from _properties(child, f"{path}/{key}")
    elif isinstance(node, list):
        for child in node:
            yield from _properties(child, path)


def test_every_property_has_a_description(schema):
    missing = [p for p, prop in _properties(schema) if "description" not in prop]
    assert missing == []
    assert len(list(_properties(schema))) > 250


def test_enums_and_defaults_are_declared(schema):
    csv = schema["$defs"]["CsvConnector"]["properties"]
    assert csv["on_bad_lines"]["enum"] == ["fail", "skip", "dead_letter"]
    assert csv["on_bad_lines"]["default"] == "fail"
    assert csv["delimiter"]["default"] == ","
    join = schema["$defs"]["Join"]["properties"]
    assert join["how"]["default"] == "inner" and "cross" in join["how"]["enum"]


def test_one_name_or_a_list(validator):
    doc = {
        "name": "p",
        "inputs": {"i": {"type": "csv", "path": "a.csv"}},
        "steps": [{"kind": "sort", "by": "a"}, {"kind": "sort", "by": ["a", "b"]}],
        "outputs": {"o": {"type": "console"}},
    }
    assert _errors(validator, doc) == []
    doc["steps"].append({"kind": "sort", "by": 3})
    assert _errors(validator, doc)
