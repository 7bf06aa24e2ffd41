"""Schema contracts on real files: evolve, freeze, discard_column, discard_row."""

import json

import polars as pl
import pytest

from ocht.errors import OchtError
from ocht.executor import Runner, RunRequest, RunServices, check_accounting
from ocht.pipeline_model import SchemaContract, validate
from ocht.store import Store
from ocht.testkit import run_pipeline, stream_pipeline
from ocht.testkit.broker import FAST_GROUP, create_topic, drain, produce, unique_topic

EXPECTED = {"id": "int64", "amount": "float64", "city": "string"}
# amount arrives as text (one value is not a number), city is gone, vip is new
DRIFTED = "id,amount,vip\n1,1.5,true\n2,oops,false\n3,,true\n4,4.25,false\n"


def pipeline(workspace, contract, *, data=DRIFTED, output="out/o.parquet"):
    workspace.write_text("in.csv", data)
    return workspace.write_pipeline(
        {
            "name": "contracts",
            "inputs": {"i": {"type": "csv", "path": "in.csv", "contract": contract}},
            "outputs": {"o": {"type": "parquet", "path": output}},
        }
    )


def dead_letters(workspace):
    [path] = workspace.files(".ocht/runs/*/dead_letters.ndjson")
    return [json.loads(line) for line in workspace.path(path).read_text().splitlines()]


def test_contract_shorthand_and_declared_schema_validate():
    p = validate(
        {
            "name": "c",
            "inputs": {"i": {"type": "csv", "path": "x.csv", "contract": "freeze"}},
            "outputs": {"o": {"type": "parquet", "path": "o.parquet"}},
        }
    )
    assert p.inputs["i"].contract == SchemaContract(mode="freeze")
    with pytest.raises(ValueError, match="mode"):
        SchemaContract.model_validate({"mode": "loose"})


def test_freeze_fails_before_writing_with_a_diff(workspace):
    path = pipeline(workspace, {"mode": "freeze", "schema": EXPECTED})
    with pytest.raises(OchtError) as info:
        run_pipeline(path, home=workspace.path(".ocht"))
    assert info.value.code == "schema-contract"
    message = info.value.message
    assert "+ vip (boolean)" in message
    assert "- city" in message
    assert "~ amount: was float64, now string" in message
    assert workspace.files("out/**/*") == []


def test_freeze_passes_when_the_data_matches(workspace):
    path = pipeline(
        workspace,
        {"mode": "freeze", "schema": {"id": "int64", "name": "string"}},
        data="id,name\n1,a\n2,b\n",
    )
    result = run_pipeline(path, home=workspace.path(".ocht"))
    assert result.rows_written == 2
    assert pl.read_parquet(workspace.path("out/o.parquet")).columns == ["id", "name"]


def test_evolve_keeps_new_columns_and_nulls_missing_ones(workspace):
    path = pipeline(workspace, {"mode": "evolve", "schema": EXPECTED})
    run_pipeline(path, home=workspace.path(".ocht"))
    out = pl.read_parquet(workspace.path("out/o.parquet"))
    assert set(out.columns) == {"id", "amount", "city", "vip"}
    assert out["city"].null_count() == 4
    assert out.schema["city"] == pl.String
    assert out["vip"].to_list() == [True, False, True, False]
    assert out.schema["amount"] == pl.String  # evolve accepts the new type


def test_discard_column_drops_new_adds_missing_and_casts_back(workspace):
    path = pipeline(workspace, {"mode": "discard_column", "schema": EXPECTED})
    result = run_pipeline(path, home=workspace.path(".ocht"))
    out = pl.read_parquet(workspace.path("out/o.parquet"))
    assert out.schema == pl.Schema({"id": pl.Int64, "amount": pl.Float64, "city": pl.String})
    assert out["amount"].to_list() == [1.5, None, None, 4.25]
    assert out["city"].null_count() == 4
    assert result.dead_letters == 0


def test_discard_row_sends_misfits_to_dead_letters_and_balances(workspace):
    path = pipeline(workspace, {"mode": "discard_row", "schema": EXPECTED})
    result = run_pipeline(path, home=workspace.path(".ocht"))
    out = pl.read_parquet(workspace.path("out/o.parquet"))
    assert out.schema == pl.Schema({"id": pl.Int64, "amount": pl.Float64, "city": pl.String})
    # row 3's empty amount is a null, not a misfit: it is kept
    assert out.sort("id")["id"].to_list() == [1, 3, 4]
    assert result.dead_letters == 1
    [letter] = dead_letters(workspace)
    assert letter["code"] == "schema-contract"
    assert "amount" in letter["reason"]
    assert json.loads(letter["record"]) == {"id": 2, "amount": "oops", "vip": False}
    assert letter["source"] == "i"
    acc = check_accounting(result)
    assert (acc.read, acc.written, acc.dead_lettered) == (4, 3, 1)


def test_expected_schema_comes_from_the_store_when_not_declared(workspace):
    path = pipeline(workspace, "freeze", data="id,amount\n1,2.5\n")
    with Store(base_dir=workspace.path(".")) as store:
        run_pipeline(path, home=workspace.path(".ocht"), store=store)  # records the first schema
        workspace.write_text("in.csv", "id,amount,extra\n1,2.5,x\n")
        with pytest.raises(OchtError) as info:
            run_pipeline(path, home=workspace.path(".ocht"), store=store)
    assert info.value.code == "schema-contract"
    assert "+ extra (string)" in info.value.message


def test_evolve_records_the_new_schema_in_the_store(workspace):
    path = pipeline(workspace, "evolve", data="id\n1\n")
    with Store(base_dir=workspace.path(".")) as store:
        run_pipeline(path, home=workspace.path(".ocht"), store=store)
        workspace.write_text("in.csv", "id,note\n1,x\n")
        run_pipeline(path, home=workspace.path(".ocht"), store=store)
        last = store.last_schema("contracts", "input:i")
    assert last is not None
    assert last.columns == {"id": "int64", "note": "string"}


def test_compiling_and_failed_runs_record_no_schema(workspace):
    path = pipeline(workspace, "evolve", data="id\n1\n")
    with Store(base_dir=workspace.path(".")) as store:
        runner = Runner(RunServices(store=store, home=workspace.path(".ocht")))
        runner.compile(RunRequest(path))
        runner.validate(RunRequest(path))
        assert store.last_schema("contracts", "input:i") is None  # compiling writes nothing
        workspace.write_text("out/o.parquet/blocked", "a folder where the file should go")
        with pytest.raises(OchtError):
            runner.run(RunRequest(path))
        assert store.last_schema("contracts", "input:i") is None  # nor does a failed run
        workspace.path("out/o.parquet/blocked").unlink()
        workspace.path("out/o.parquet").rmdir()
        runner.run(RunRequest(path))
        last = store.last_schema("contracts", "input:i")
    assert last is not None and last.columns == {"id": "int64"}


@pytest.mark.kafka
def test_discard_row_per_micro_batch_in_stream_mode(kafka_broker, tmp_path):
    records = [{"id": i, "amount": "oops" if i % 10 == 0 else f"{i}.5"} for i in range(1, 101)]
    topic_in = create_topic(kafka_broker, unique_topic("in"))
    topic_out = create_topic(kafka_broker, unique_topic("out"))
    produce(kafka_broker, topic_in, records)
    dead = tmp_path / "dead.ndjson"
    result = stream_pipeline(
        {
            "name": "contracts",
            "inputs": {
                "i": {
                    "type": "kafka",
                    "brokers": kafka_broker,
                    "topic": topic_in,
                    "group": unique_topic("g"),
                    "schema": {"id": "int64", "amount": "string"},
                    "max_rows": 30,
                    "max_wait_ms": 200,
                    "options": FAST_GROUP,
                    "contract": {
                        "mode": "discard_row",
                        "schema": {"id": "int64", "amount": "float64"},
                    },
                }
            },
            "outputs": {"o": {"type": "kafka", "brokers": kafka_broker, "topic": topic_out}},
            "dead_letter": {"type": "ndjson", "path": str(dead)},
        },
        home=tmp_path / "h",
        idle_stop_s=0.5,
    )
    assert result.batches >= 2
    got = drain(kafka_broker, topic_out, schema={"id": pl.Int64, "amount": pl.Float64})
    assert got.height == 90
    assert got["amount"].dtype == pl.Float64
    letters = pl.read_ndjson(dead)
    assert letters.height == result.dead_letters == 10
    assert set(letters["code"]) == {"schema-contract"}
    assert sorted(json.loads(r)["id"] for r in letters["record"]) == list(range(10, 101, 10))
