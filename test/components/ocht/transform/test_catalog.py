import polars as pl
import pytest

from ocht.pipeline_model import BUILTIN_STEPS
from ocht.transform import STEP_KINDS, BuildContext, build_step


def test_every_builtin_step_kind_is_implemented() -> None:
    names = [k.name for k in STEP_KINDS]
    # `check` is built by the quality brick, the model steps by ml_runtime
    assert set(BUILTIN_STEPS) - set(names) <= {"check", "predict", "anomaly", "llm", "embed"}
    assert set(names) <= set(BUILTIN_STEPS)
    assert len(set(names)) == len(names)
    for kind in STEP_KINDS:
        assert kind.spec is BUILTIN_STEPS[kind.name]
        assert kind.summary and "\n" not in kind.summary


@pytest.mark.parametrize(
    ("name", "caps"),
    [
        ("filter", ("batch", "stream")),
        ("route", ("batch", "stream")),
        ("join", ("batch", "stream")),
        ("sql", ("batch", "stream")),
        ("sort", ("batch",)),
        ("limit", ("batch",)),
        ("dedupe", ("batch", "stream", "stateful")),
        ("aggregate", ("batch", "stream", "stateful")),
    ],
)
def test_capabilities(name: str, caps: tuple[str, ...]) -> None:
    kind = next(k for k in STEP_KINDS if k.name == name)
    assert kind.capabilities == caps


def test_batch_only_kinds_say_what_to_use_instead() -> None:
    for kind in STEP_KINDS:
        assert (kind.stream_hint is not None) == (not kind.stream), kind.name
    sort = next(k for k in STEP_KINDS if k.name == "sort")
    assert sort.stream_hint is not None and "window" in sort.stream_hint


def test_build_step_dispatches_on_kind() -> None:
    spec = BUILTIN_STEPS["drop"].model_validate({"kind": "drop", "columns": "a"})
    step = build_step(
        spec, BuildContext("d", "steps[0]", (pl.Schema({"a": pl.Int8, "b": pl.Int8}),))
    )
    assert step.apply([pl.LazyFrame({"a": [1], "b": [2]})]).collect().columns == ["b"]
