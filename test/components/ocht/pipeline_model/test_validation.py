import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocht.errors import InvalidPipeline
from ocht.pipeline_model import (
    Filter,
    Pipeline,
    json_schema,
    parse_document,
    read_document,
    validate,
)

GOOD = """\
name: orders
inputs:
  orders:
    type: csv
    path: orders.csv
steps:
  - kind: filter
    where: amount > 10
  - id: eur
    kind: derive
    columns:
      amount_eur: amount * 0.92
outputs:
  out:
    type: parquet
    path: out.parquet
"""


def load(text: str, fmt: str = "yaml") -> Pipeline:
    doc = parse_document(text, fmt, file="p." + fmt)  # type: ignore[arg-type]
    return validate(doc.data, document=doc)


def test_valid_pipeline_is_typed_and_frozen():
    p = load(GOOD)
    assert isinstance(p.steps[0], Filter)
    assert p.step_ids() == ["filter_1", "eur"]
    with pytest.raises(Exception, match="frozen"):
        p.name = "other"  # type: ignore[misc]


def test_every_error_reported_at_once_with_lines_and_suggestions():
    text = GOOD.replace("delimiter", "x").replace(
        "    path: orders.csv", "    path: orders.csv\n    delimter: ';'"
    )
    text = text.replace("where: amount > 10", "wher: amount > 10")
    with pytest.raises(InvalidPipeline) as info:
        load(text)
    issues = {i.path: i for i in info.value.issues}
    assert issues["inputs.orders.delimter"].line == 6
    assert issues["inputs.orders.delimter"].hint == "did you mean 'delimiter'?"
    assert issues["steps[0].wher"].hint == "did you mean 'where'?"
    assert issues["steps[0].wher"].line == 9
    assert issues["steps[0].where"].code == "missing-field"
    assert "p.yaml:6" in str(info.value)


def test_wrong_type_names_field_and_line():
    text = GOOD.replace("      amount_eur: amount * 0.92", "      - amount")
    with pytest.raises(InvalidPipeline) as info:
        load(text)
    (issue,) = info.value.issues
    assert issue.path == "steps[1].columns"
    assert issue.code == "wrong-type"
    assert issue.line == 11  # the `columns:` key


def test_invalid_yaml_names_line():
    with pytest.raises(InvalidPipeline) as info:
        load("name: x\ninputs: [\n  a: b\n")
    assert info.value.code == "invalid-yaml"
    assert info.value.issues[0].line is not None


def test_json_and_toml_give_lines():
    json_text = (
        '{\n "name": "p",\n "inputs": {"i": {"type": "csv", "path": "a", "bogus": 1}},\n'
        ' "outputs": {"o": {"type": "console"}}\n}'
    )
    with pytest.raises(InvalidPipeline) as info:
        load(json_text, "json")
    assert info.value.issues[0].line == 3
    toml_text = (
        'name = "p"\n\n[inputs.i]\ntype = "csv"\npath = "a"\nbogus = 1\n\n'
        '[outputs.o]\ntype = "console"\n'
    )
    with pytest.raises(InvalidPipeline) as info:
        load(toml_text, "toml")
    assert info.value.issues[0].path == "inputs.i.bogus"
    assert info.value.issues[0].line == 6


def test_references_are_checked():
    text = GOOD + "  other:\n    type: csv\n    path: x.csv\n    from: eurr\n"
    with pytest.raises(InvalidPipeline) as info:
        load(text)
    (issue,) = info.value.issues
    assert issue.code == "unknown-reference"
    assert issue.hint == "did you mean 'eur'?"


def test_route_must_be_read_by_branch():
    text = GOOD.replace(
        "outputs:", "  - id: split\n    kind: route\n    routes:\n      big: amount > 100\noutputs:"
    )
    with pytest.raises(InvalidPipeline) as info:
        load(text)
    assert "split.big" in info.value.issues[0].hint + info.value.issues[0].message


def test_several_inputs_need_explicit_input():
    text = GOOD.replace("steps:", "  more:\n    type: csv\n    path: m.csv\nsteps:")
    with pytest.raises(InvalidPipeline) as info:
        load(text)
    assert info.value.issues[0].path == "steps[0].input"


def test_content_hash_is_stable_and_sensitive():
    a, b = load(GOOD), load(GOOD)
    assert a.content_hash == b.content_hash
    assert load(GOOD.replace("0.92", "0.93")).content_hash != a.content_hash


def test_json_schema_exports_step_kinds():
    schema = json_schema()
    text = str(schema)
    assert "filter" in text and "aggregate" in text and schema["title"] == "Ocht pipeline"


def test_missing_file(tmp_path):
    with pytest.raises(InvalidPipeline) as info:
        read_document(tmp_path / "nope.yaml")
    assert info.value.code == "pipeline-not-found"
    assert info.value.exit_code == 2


@given(
    st.dictionaries(
        st.from_regex(r"[a-z]{1,8}", fullmatch=True),
        st.integers() | st.text(max_size=5),
        max_size=4,
    )
)
def test_unknown_top_level_keys_always_reported(extra):
    data = {
        "name": "p",
        "inputs": {"i": {"type": "csv", "path": "a"}},
        "outputs": {"o": {"type": "console"}},
    }
    unknown = {k: v for k, v in extra.items() if k not in Pipeline.model_fields}
    data.update(unknown)
    if not unknown:
        assert validate(data).name == "p"
        return
    with pytest.raises(InvalidPipeline) as info:
        validate(data)
    assert {i.path for i in info.value.issues} >= set(unknown)


def test_yaml_booleans_are_only_true_and_false():
    doc = parse_document("on: customer_id\ncountry: NO\nflag: true\nanswer: yes\n")
    assert doc.data == {"on": "customer_id", "country": "NO", "flag": True, "answer": "yes"}


def test_one_error_mapping_for_a_part_validated_alone():
    from pydantic import BaseModel, ConfigDict, ValidationError

    from ocht.pipeline_model import issues_from_error

    class Options(BaseModel):
        model_config = ConfigDict(extra="forbid")
        bucket: str
        region: str = "eu"

    with pytest.raises(ValidationError) as info:
        Options.model_validate({"regoin": "us"})
    issues = issues_from_error(info.value, base="inputs.s3", model=Options)
    assert [(i.code, i.path) for i in issues] == [
        ("missing-field", "inputs.s3.bucket"),
        ("unknown-key", "inputs.s3.regoin"),
    ]
    assert issues[1].hint == "did you mean 'region'?"
    assert issues[0].message == "missing required field 'bucket'"


def test_unknown_kinds_and_key_errors_in_one_answer():
    doc = parse_document(
        "name: p\ninputs:\n  i: {type: csvv, path: a.csv}\n"
        "steps:\n  - {kind: filtr, where: x}\n  - {kind: filter, wher: x}\n"
        "outputs:\n  o: {type: console}\n",
        file="p.yaml",
    )
    with pytest.raises(InvalidPipeline) as info:
        validate(doc.data, document=doc, known_steps=["filter"], known_connectors=["csv"])
    found = [(i.code, i.path, i.line) for i in info.value.issues]
    assert ("unknown-connector", "inputs.i.type", 3) in found
    assert ("unknown-step", "steps[0].kind", 5) in found
    assert ("unknown-key", "steps[1].wher", 6) in found
    assert [i.line for i in info.value.issues] == sorted(i.line for i in info.value.issues)


def test_check_key_errors_and_unknown_check_types_in_one_answer():
    doc = parse_document(
        "name: p\ninputs:\n  i: {type: csv, path: a.csv}\n"
        "steps:\n  - kind: check\n    checks:\n"
        "      - {type: range, column: amount, min: 6, on_fail: dead_letter}\n"
        "      - {type: not_nul, column: amount}\n"
        "      - {type: my_check, column: amount}\n"
        "outputs:\n  o: {type: console}\n",
        file="p.yaml",
    )
    with pytest.raises(InvalidPipeline) as info:
        validate(doc.data, document=doc, known_checks=["my_check"])
    found = {(i.code, i.path, i.line): i.hint for i in info.value.issues}
    # the key the check does not know is named, not the check's type tag
    assert "allowed keys: action" in found[("unknown-key", "steps[0].checks[0].on_fail", 7)]
    assert found[("unknown-check", "steps[0].checks[1].type", 8)] == "did you mean 'not_null'?"
    assert len(found) == 2  # an installed plugin check type is not a problem


def test_plugin_kinds_pass_when_installed_or_when_not_checked():
    data = {
        "name": "p",
        "inputs": {"i": {"type": "csv", "path": "a.csv"}},
        "steps": [{"kind": "scale", "factor": 2}],
        "outputs": {"o": {"type": "console"}},
    }
    validate(data)
    validate(data, known_steps=["scale"], known_connectors=[])
    with pytest.raises(InvalidPipeline) as info:
        validate(data, known_steps=["scales"])
    assert info.value.code == "unknown-step" and "did you mean 'scales'" in str(info.value)


def test_the_step_union_is_built_from_the_step_models():
    import typing

    from pydantic import Tag

    from ocht.pipeline_model import BUILTIN_STEPS
    from ocht.pipeline_model.steps import Step

    union, _discriminator = typing.get_args(Step)
    tags = {
        meta.tag
        for member in typing.get_args(union)
        for meta in typing.get_args(member)[1:]
        if isinstance(meta, Tag)
    }
    assert tags == set(BUILTIN_STEPS) | {"plugin"}
    p = validate(
        {
            "name": "p",
            "inputs": {"i": {"type": "csv", "path": "a.csv"}},
            "steps": [{"kind": "limit", "n": 1}, {"kind": "custom", "x": 1}],
            "outputs": {"o": {"type": "console"}},
        }
    )
    assert type(p.steps[0]) is BUILTIN_STEPS["limit"]
    assert type(p.steps[1]).__name__ == "PluginStep"
