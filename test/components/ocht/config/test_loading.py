import pytest

from ocht.config import deep_merge, interpolate, load_pipeline, parse_set, redact
from ocht.errors import InvalidPipeline

PIPELINE = """\
name: orders
vars:
  min_amount: 10
  region: eu
inputs:
  orders:
    type: csv
    path: data/${region}/orders.csv
steps:
  - kind: filter
    where: amount > ${min_amount}
  - kind: limit
    n: ${top:-5}
outputs:
  out:
    type: parquet
    path: out/orders.parquet
profiles:
  test:
    vars:
      region: test
    outputs:
      out:
        type: csv
        path: out/test.csv
"""


@pytest.fixture
def pipeline_file(workspace):
    return workspace.write_pipeline(PIPELINE)


def test_vars_defaults_and_types(pipeline_file):
    lp = load_pipeline(pipeline_file)
    assert lp.pipeline.steps[0].where == "amount > 10"
    assert lp.pipeline.steps[1].n == 5  # a whole-string reference keeps the int type
    assert lp.pipeline.inputs["orders"].path == "data/eu/orders.csv"
    assert lp.base_dir == pipeline_file.parent.resolve()


def test_set_overrides_vars(pipeline_file):
    lp = load_pipeline(pipeline_file, variables=parse_set(["min_amount=50", "top=2"]))
    assert lp.pipeline.steps[0].where == "amount > 50"
    assert lp.pipeline.steps[1].n == 2


def test_profile_overlays_outputs_and_vars(pipeline_file):
    lp = load_pipeline(pipeline_file, profile="test")
    out = lp.pipeline.outputs["out"]
    assert out.type == "csv" and out.path == "out/test.csv"
    assert lp.pipeline.inputs["orders"].path == "data/test/orders.csv"
    assert lp.profile == "test"


def test_unknown_profile_suggests(pipeline_file):
    with pytest.raises(InvalidPipeline) as info:
        load_pipeline(pipeline_file, profile="tset")
    assert info.value.code == "unknown-profile"
    assert "did you mean 'test'" in (info.value.issues[0].hint or "")


def test_undefined_variable_is_an_error_with_line(workspace):
    path = workspace.write_pipeline(PIPELINE.replace("${min_amount}", "${minimum}"))
    with pytest.raises(InvalidPipeline) as info:
        load_pipeline(path)
    issue = info.value.issues[0]
    assert issue.code == "missing-variable" and issue.line == 11


def test_env_values_are_secrets_and_redacted():
    result = interpolate({"url": "postgres://u:${env:PW}@h/db"}, {}, {"PW": "s3cret!"})
    assert result.data["url"] == "postgres://u:s3cret!@h/db"
    assert redact(str(result.data), result.secrets) == "{'url': 'postgres://u:***@h/db'}"


def test_missing_env_var_is_reported():
    result = interpolate({"a": "${env:NOPE_NOT_SET}"}, {}, {})
    assert result.issues[0].code == "missing-variable"
    assert interpolate({"a": "${env:NOPE:-x}"}, {}, {}).data == {"a": "x"}


def test_escape_keeps_literal():
    assert interpolate({"a": "$${x}"}, {"x": 1}).data == {"a": "${x}"}


def test_overlay_files_merge(workspace, pipeline_file):
    overlay = workspace.write_text("prod.yaml", "outputs:\n  out:\n    path: /data/o.parquet\n")
    lp = load_pipeline(pipeline_file, overlays=[overlay])
    assert lp.pipeline.outputs["out"].path == "/data/o.parquet"
    assert lp.pipeline.outputs["out"].type == "parquet"


def test_deep_merge_replaces_connector_on_type_change():
    assert deep_merge({"type": "csv", "delimiter": ";"}, {"type": "parquet", "path": "x"}) == {
        "type": "parquet",
        "path": "x",
    }


def test_bad_set():
    with pytest.raises(InvalidPipeline) as info:
        parse_set(["novalue"])
    assert info.value.code == "invalid-set"


def test_settings_come_from_the_environment(monkeypatch):
    from ocht.config import Settings

    monkeypatch.setenv("OCHT_PROFILE", "prod")
    monkeypatch.setenv("OCHT_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("OCHT_STORE_URL", "postgresql://u:pw@h/db")
    settings = Settings()
    assert settings.profile == "prod" and settings.log_level == "debug"
    assert "pw" not in repr(settings)
    assert Settings(profile="dev").profile == "dev"
    monkeypatch.setenv("OCHT_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()


def test_env_spliced_into_a_query_is_warned_about_with_its_line(tmp_path) -> None:
    pipeline = tmp_path / "p.yaml"
    pipeline.write_text(
        "name: p\n"
        "inputs:\n"
        "  a:\n"
        "    type: sql\n"
        "    url: sqlite:///x.db\n"
        "    query: SELECT * FROM t WHERE tenant = '${env:TENANT}'\n"
        "  b:\n"
        "    type: sql\n"
        "    url: sqlite:///x.db\n"
        "    query: SELECT * FROM t WHERE tenant = :tenant\n"
        "    params: {tenant: '${env:TENANT}'}\n"
        "steps:\n  - {kind: union, input: a, with: [b]}\n"
        "outputs:\n  o: {type: console}\n"
    )
    loaded = load_pipeline(pipeline, env={"TENANT": "acme"})
    [warning] = [w for w in loaded.warnings if w.code == "env-in-query"]
    assert warning.path == "inputs.a.query" and warning.line == 6
    assert "params" in (warning.hint or "")
    assert loaded.pipeline.inputs["b"].params == {"tenant": "acme"}  # type: ignore[union-attr]
