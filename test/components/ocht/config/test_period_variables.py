"""``${period.start}`` and friends: dotted names reach into mapping variables."""

from ocht.config import interpolate, load_pipeline

PERIOD = {
    "start": "2024-02-01",
    "end": "2024-03-01",
    "key": "2024-02",
    "year": "2024",
    "month": "02",
}


def test_dotted_names_read_nested_values() -> None:
    done = interpolate(
        {"path": "lake/${period.year}/${period.month}/*.parquet", "whole": "${period}"},
        {"period": PERIOD},
    )
    assert done.issues == []
    assert done.data == {"path": "lake/2024/02/*.parquet", "whole": PERIOD}


def test_a_flat_name_with_a_dot_still_wins() -> None:
    assert interpolate("${period.key}", {"period.key": "flat", "period": PERIOD}).data == "flat"


def test_a_missing_period_field_is_a_missing_variable() -> None:
    done = interpolate("${period.quarter}", {"period": PERIOD})
    assert [i.code for i in done.issues] == ["missing-variable"]
    assert "period.quarter" in done.issues[0].message
    assert interpolate("${period.quarter:-Q1}", {"period": PERIOD}).data == "Q1"


def test_a_pipeline_reads_its_period() -> None:
    loaded = load_pipeline(
        {
            "name": "p",
            "inputs": {"i": {"type": "csv", "path": "lake/${period.start}.csv"}},
            "outputs": {"o": {"type": "csv", "path": "out/${period.key}.csv"}},
        },
        variables={"period": PERIOD},
    )
    assert loaded.pipeline.inputs["i"].path == "lake/2024-02-01.csv"  # type: ignore[union-attr]
    assert loaded.pipeline.outputs["o"].path == "out/2024-02.csv"  # type: ignore[union-attr]
