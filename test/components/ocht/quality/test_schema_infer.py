import datetime as dt

import polars as pl
import yaml
from click.testing import CliRunner

from ocht.cli.main import cli
from ocht.quality import infer_input, type_names


def test_type_names_are_the_pipeline_spelling():
    schema = pl.Schema(
        {
            "a": pl.Int64,
            "b": pl.Datetime("ms", "UTC"),
            "c": pl.List(pl.String),
            "d": pl.Date,
            "e": pl.Datetime("us"),
        }
    )
    assert type_names(schema) == {
        "a": "int64",
        "b": "datetime[ms, UTC]",
        "c": "list[string]",
        "d": "date",
        "e": "datetime",
    }


def test_infer_a_csv_file_guessing_its_type(workspace):
    workspace.write_text("o.csv", "id,amount,day\n1,2.5,2024-01-02\n")
    spec = infer_input({"path": "o.csv"}, base_dir=workspace.root)
    assert spec == {
        "type": "csv",
        "path": "o.csv",
        "schema": {"id": "int64", "amount": "float64", "day": "date"},
    }


def test_cli_prints_yaml_that_a_pipeline_can_use(workspace, monkeypatch):
    pl.DataFrame({"id": [1], "at": [dt.datetime(2024, 1, 1)]}).write_parquet(
        workspace.path("e.parquet")
    )
    workspace.write_pipeline(
        {
            "name": "p",
            "inputs": {"events": {"type": "parquet", "path": "e.parquet"}},
            "outputs": {"o": {"type": "csv", "path": "o.csv"}},
        }
    )
    monkeypatch.chdir(workspace.root)
    result = CliRunner().invoke(cli, ["schema", "infer", "pipeline.yaml"])
    assert result.exit_code == 0, result.output
    doc = yaml.safe_load(result.output)
    assert doc["inputs"]["events"]["schema"] == {"id": "int64", "at": "datetime"}
    direct = CliRunner().invoke(cli, ["schema", "infer", "e.parquet", "events"])
    assert yaml.safe_load(direct.output) == doc
    # the JSON Schema of pipelines is still `ocht schema`
    assert '"$defs"' in CliRunner().invoke(cli, ["schema"]).output
