import pytest

from ocht.errors import ConnectorUnavailable, InvalidPipeline, UnknownName
from ocht.registry import CONNECTOR_BRICKS, STEP_GROUP, Registry
from ocht.testkit import installed_plugin, run_pipeline

PLUGIN = """
import polars as pl
from typing import Literal
from ocht.pipeline_model import StepBase
from ocht.transform import CompiledStep, StepKind, check_columns


class Shout(StepBase):
    kind: Literal["shout"]
    column: str


def build(spec, ctx):
    check_columns([spec.column], ctx.schema, step=ctx.step_id, path=f"{ctx.path}.column")
    return CompiledStep.single(
        ctx.step_id, lambda frames: frames[0].with_columns(pl.col(spec.column).str.to_uppercase()))


STEP = StepKind("shout", Shout, build, "Upper-case a column.")
"""


def test_unknown_step_suggests_nearest():
    with pytest.raises(UnknownName) as info:
        Registry().step("fliter")
    assert info.value.code == "unknown-step"
    assert info.value.hint == "did you mean 'filter'?"


def test_unknown_connector_suggests_nearest():
    with pytest.raises(UnknownName) as info:
        Registry().connector("parqet")
    assert info.value.hint == "did you mean 'parquet'?"


def test_missing_brick_names_the_artifact(monkeypatch):
    monkeypatch.setitem(CONNECTOR_BRICKS, "ghost", ("ocht.connector_ghost", "ocht-ghost"))
    with pytest.raises(ConnectorUnavailable) as info:
        Registry().connector("ghost")
    assert info.value.code == "connector-unavailable"
    assert "ocht-ghost" in (info.value.hint or "")
    listed = {c.name: c for c in Registry().connectors()}
    assert listed["ghost"].available is False and listed["ghost"].artifact == "ocht-ghost"


def test_plugin_step_discovered_through_entry_points(tmp_path, memory):
    with installed_plugin(
        tmp_path / "site",
        name="ocht_shout_plugin",
        module_source=PLUGIN,
        entry_points={STEP_GROUP: {"shout": "ocht_shout_plugin:STEP"}},
    ):
        reg = Registry(connectors=[memory.connector])
        assert "shout" in reg.step_names()
        result = run_pipeline(
            {
                "name": "plug",
                "inputs": {"i": {"type": "memory", "rows": [{"name": "ada"}]}},
                "steps": [{"kind": "shout", "column": "name"}],
                "outputs": {"o": {"type": "memory", "key": "plug"}},
            },
            registry=reg,
        )
    assert result.status == "succeeded"
    assert memory("plug")["name"].to_list() == ["ADA"]
    assert "shout" not in Registry().step_names()  # gone once uninstalled


def test_plugin_options_are_validated(tmp_path, memory):
    with installed_plugin(
        tmp_path / "site",
        name="ocht_shout_plugin2",
        module_source=PLUGIN,
        entry_points={STEP_GROUP: {"shout": "ocht_shout_plugin2:STEP"}},
    ):
        reg = Registry(connectors=[memory.connector])
        with pytest.raises(InvalidPipeline) as info:
            run_pipeline(
                {
                    "name": "plug",
                    "inputs": {"i": {"type": "memory", "rows": [{"name": "ada"}]}},
                    "steps": [{"kind": "shout", "colum": "name"}],
                    "outputs": {"o": {"type": "memory", "key": "plug"}},
                },
                registry=reg,
            )
    paths = [i.path for i in info.value.issues]
    assert "steps[0].colum" in paths and "steps[0].column" in paths
