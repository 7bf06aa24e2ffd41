import datetime as dt
import json

import polars as pl
import pytest

from ocht.errors import InvalidPipeline
from ocht.executor import DEAD_LETTER_COLUMNS, check_accounting
from ocht.quality import CheckFailed, CheckType, register_check
from ocht.testkit import run_pipeline

ROWS = [
    {"id": 1, "email": "a@x.io", "country": "DE", "amount": 5.0, "code": " ab "},
    {"id": 2, "email": "bad", "country": "FR", "amount": 50.0, "code": "abcdef"},
    {"id": 2, "email": "c@x.io", "country": "XX", "amount": -3.0, "code": "cd"},
    {"id": None, "email": None, "country": "NL", "amount": 500.0, "code": "e"},
]


def pipeline(checks, rows=ROWS, **step):
    return {
        "name": "q",
        "inputs": {"src": {"type": "memory", "rows": rows}},
        "steps": [{"kind": "check", "id": "qc", "checks": checks, **step}],
        "outputs": {"out": {"type": "memory", "key": "out"}},
        "dead_letter": {"type": "memory", "key": "dead"},
    }


def by_name(result):
    return {c.check: c for c in result.checks}


def test_the_registry_knows_the_check_step(registry):
    kind = registry.step("check")
    assert kind.capabilities == ("batch", "stream")


def test_dead_letter_rows_leave_the_main_flow_with_the_standard_record(registry, memory):
    result = run_pipeline(
        pipeline(
            [
                {"type": "not_null", "columns": ["id", "email"], "action": "dead_letter"},
                {
                    "type": "accepted_values",
                    "column": "country",
                    "values": ["DE", "FR", "NL"],
                    "action": "dead_letter",
                },
            ]
        ),
        registry=registry,
    )
    assert memory("out")["id"].to_list() == [1, 2]
    dead = memory("dead")
    assert dead.columns == list(DEAD_LETTER_COLUMNS)
    assert dead["check"].to_list() == ["accepted_values_country", "not_null_id_email"]
    assert json.loads(dead["record"][0]) == ROWS[2]
    assert dead["reason"][1] == "id, email must not be null"
    assert set(dead["run_id"].to_list()) == {result.run_id}
    assert set(dead["step"].to_list()) == {"qc"}
    assert set(dead["source"].to_list()) == {"src"}
    assert set(dead["code"].to_list()) == {"check-failed"}
    assert result.dead_letters == 2 and result.rejected == {"qc": 2}
    stats = by_name(result)
    assert (stats["not_null_id_email"].failed, stats["not_null_id_email"].rows_checked) == (1, 4)
    assert stats["accepted_values_country"].action == "dead_letter"
    check_accounting(result)


def test_a_row_failing_two_checks_names_both(registry, memory):
    run_pipeline(
        pipeline(
            [
                {"type": "regex", "column": "email", "pattern": "@", "action": "dead_letter"},
                {"type": "range", "column": "amount", "min": 0, "action": "dead_letter"},
            ],
            rows=[{"email": "bad", "amount": -1.0}],
        ),
        registry=registry,
    )
    dead = memory("dead")
    assert dead["check"].to_list() == ["regex_email,range_amount"]
    assert dead["reason"].to_list() == ["does not match /@/; outside [0, inf]"]


def test_fail_stops_the_run_names_the_check_and_touches_no_output(registry, memory):
    with pytest.raises(CheckFailed) as info:
        run_pipeline(
            pipeline([{"type": "unique", "column": "id", "action": "fail"}]), registry=registry
        )
    err = info.value
    assert err.code == "check-failed" and err.check == "unique_id" and err.failed == 2
    assert err.samples == [2, 2]
    assert "unique_id" in err.message and "2 rows" in err.message
    assert not memory.was_committed("out") and not memory.was_committed("dead")


def test_warn_counts_and_lets_rows_through(registry, memory):
    result = run_pipeline(
        pipeline([{"type": "length", "column": "code", "max": 3, "action": "warn"}]),
        registry=registry,
    )
    assert memory("out").height == 4
    stat = by_name(result)["length_code"]
    assert (stat.failed, stat.action, stat.samples) == (2, "warn", [" ab ", "abcdef"])
    check_accounting(result)


def test_fix_clamps_fills_trims_and_records_the_fix(registry, memory):
    result = run_pipeline(
        pipeline(
            [
                {"type": "range", "column": "amount", "min": 0, "max": 100, "action": "fix"},
                {
                    "type": "not_null",
                    "column": "email",
                    "action": "fix",
                    "fix": {"expression": "concat('user', '@unknown')"},
                },
                {"type": "length", "column": "code", "max": 3, "action": "fix"},
                {
                    "type": "accepted_values",
                    "column": "country",
                    "values": ["DE", "FR", "NL"],
                    "action": "fix",
                    "fix": {"value": "NL"},
                },
            ]
        ),
        registry=registry,
    )
    out = memory("out")
    assert out["amount"].to_list() == [5.0, 50.0, 0.0, 100.0]
    assert out["email"].to_list() == ["a@x.io", "bad", "c@x.io", "user@unknown"]
    assert out["code"].to_list() == ["ab", "abc", "cd", "e"]
    assert out["country"].to_list() == ["DE", "FR", "NL", "NL"]
    assert out["_ocht_fixes"].to_list() == [
        "length_code",
        "length_code",
        "range_amount,accepted_values_country",
        "range_amount,not_null_email",
    ]
    stats = by_name(result)
    assert stats["range_amount"].samples == [-3.0, 500.0]  # the values before the fix
    assert stats["range_amount"].changes == [  # rows the step changed, before and after
        {"before": {"amount": -3.0}, "after": {"amount": 0.0}},
        {"before": {"amount": 500.0}, "after": {"amount": 100.0}},
    ]
    assert stats["length_code"].changes[0] == {"before": {"code": " ab "}, "after": {"code": "ab"}}
    assert result.dead_letters == 0


def test_dtype_check_dead_letters_what_does_not_convert_and_casts_the_rest(registry, memory):
    rows = [{"n": "1"}, {"n": "x"}, {"n": " 3 "}, {"n": None}]
    result = run_pipeline(
        pipeline(
            [{"type": "dtype", "column": "n", "dtype": "int64", "action": "dead_letter"}], rows=rows
        ),
        registry=registry,
    )
    out = memory("out")
    assert out.schema["n"] == pl.Int64 and out["n"].to_list() == [1, 3, None]
    assert json.loads(memory("dead")["record"][0]) == {"n": "x"}
    check_accounting(result)


def test_fix_coerce_makes_failing_values_null_or_a_fill(registry, memory):
    rows = [{"d": "2024-01-02"}, {"d": "yesterday"}]
    run_pipeline(
        pipeline([{"type": "dtype", "column": "d", "dtype": "date", "action": "fix"}], rows=rows),
        registry=registry,
    )
    assert memory("out")["d"].to_list() == [dt.date(2024, 1, 2), None]


def test_a_fix_is_seen_by_later_checks(registry, memory):
    result = run_pipeline(
        pipeline(
            [
                {"type": "range", "column": "amount", "min": 0, "action": "fix"},
                {
                    "type": "range",
                    "column": "amount",
                    "min": 0,
                    "name": "still_negative",
                    "action": "fail",
                },
            ]
        ),
        registry=registry,
    )
    assert by_name(result)["still_negative"].failed == 0


def test_expression_check(registry, memory):
    result = run_pipeline(
        pipeline(
            [
                {
                    "type": "expression",
                    "expr": "amount < 100 OR country = 'NL'",
                    "action": "dead_letter",
                    "name": "big_only_nl",
                }
            ]
        ),
        registry=registry,
    )
    assert memory("out").height == 4
    assert by_name(result)["big_only_nl"].failed == 0
    with pytest.raises(CheckFailed):
        run_pipeline(pipeline([{"type": "expression", "expr": "amount >= 0"}]), registry=registry)


def test_unique_keep_first_dead_letters_only_later_duplicates(registry, memory):
    run_pipeline(
        pipeline([{"type": "unique", "columns": ["id"], "keep": "first", "action": "dead_letter"}]),
        registry=registry,
    )
    assert memory("out")["email"].to_list() == ["a@x.io", "bad", None]
    assert json.loads(memory("dead")["record"][0])["email"] == "c@x.io"


def test_row_count_and_freshness_judge_the_whole_input(registry, memory):
    old = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    rows = [{"ts": old}, {"ts": now}]
    result = run_pipeline(
        pipeline(
            [
                {"type": "row_count", "min": 1, "max": 10},
                {"type": "freshness", "column": "ts", "max_age": "1h"},
            ],
            rows=rows,
        ),
        registry=registry,
    )
    assert [c.failed for c in result.checks] == [0, 0]
    with pytest.raises(CheckFailed, match="fewer than 5"):
        run_pipeline(pipeline([{"type": "row_count", "min": 5}], rows=rows), registry=registry)
    with pytest.raises(CheckFailed, match="older than 1d"):
        run_pipeline(
            pipeline([{"type": "freshness", "column": "ts", "max_age": "1d"}], rows=[{"ts": old}]),
            registry=registry,
        )
    warned = run_pipeline(
        pipeline(
            [{"type": "freshness", "column": "ts", "max_age": "1d", "action": "warn"}],
            rows=[{"ts": old}],
        ),
        registry=registry,
    )
    assert warned.checks[0].failed == 1


@pytest.mark.parametrize(
    ("check", "code", "where"),
    [
        ({"type": "not_null", "column": "nope"}, "unknown-column", "steps[0].checks[0].columns"),
        (
            {"type": "regex", "column": "amount", "pattern": "x"},
            "invalid-type",
            "steps[0].checks[0].columns",
        ),
        (
            {"type": "row_count", "min": 1, "action": "dead_letter"},
            "invalid-check",
            "steps[0].checks[0].action",
        ),
        (
            {"type": "not_null", "column": "id", "action": "fix"},
            "invalid-check",
            "steps[0].checks[0].fix",
        ),
        (
            {"type": "range", "column": "amount", "min": "zero"},
            "invalid-type",
            "steps[0].checks[0].min",
        ),
        ({"type": "nonsense", "column": "id"}, "unknown-check", "steps[0].checks[0].type"),
        (
            {"type": "dtype", "column": "id", "dtype": "int65"},
            "invalid-type",
            "steps[0].checks[0].dtype",
        ),
    ],
)
def test_bad_checks_are_refused_at_compile_time_with_their_path(
    registry, memory, check, code, where
):
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(pipeline([check]), registry=registry)
    issue = info.value.issues[0]
    assert (issue.code, issue.path) == (code, where)


def test_custom_checks_are_plugins(registry, memory):
    from pydantic import BaseModel

    class Even(BaseModel):
        column: str

    register_check(CheckType("even", Even, lambda spec, schema: pl.col(spec.column) % 2 != 0))
    result = run_pipeline(
        pipeline([{"type": "even", "column": "id", "action": "dead_letter"}]), registry=registry
    )
    assert memory("out")["id"].to_list() == [2, 2, None]
    assert by_name(result)["even_1"].failed == 1


def test_custom_checks_load_from_the_ocht_checks_entry_point_group(tmp_path, registry, memory):
    from ocht.testkit import installed_plugin

    source = """
        import polars as pl
        from pydantic import BaseModel
        from ocht.quality import CheckType

        class Options(BaseModel):
            column: str
            suffix: str

        def violation(options, schema):
            return ~pl.col(options.column).str.ends_with(options.suffix)

        CHECK = CheckType("ends_with", Options, violation, "Text ends with a suffix.")
    """
    with installed_plugin(
        tmp_path / "plugin",
        name="ocht_ends_with",
        module_source=source,
        entry_points={"ocht.checks": {"ends_with": "ocht_ends_with:CHECK"}},
    ):
        result = run_pipeline(
            pipeline(
                [{"type": "ends_with", "column": "email", "suffix": ".io", "action": "dead_letter"}]
            ),
            registry=registry,
        )
    assert memory("out")["email"].to_list() == ["a@x.io", "c@x.io", None]  # null passes
    assert by_name(result)["ends_with_1"].failed == 1
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(
            pipeline([{"type": "ends_with", "column": "email", "action": "warn"}]),
            registry=registry,
        )
    assert info.value.issues[0].path == "steps[0].checks[0].suffix"


def test_every_bad_check_of_a_step_is_reported_at_once(registry, memory):
    with pytest.raises(InvalidPipeline) as info:
        run_pipeline(
            pipeline(
                [
                    {"type": "not_null", "column": "idd"},
                    {"type": "range", "column": "amount", "min": "zero"},
                    {"type": "not_null", "column": "id"},
                    {"type": "row_count", "min": 1, "action": "dead_letter"},
                ]
            ),
            registry=registry,
        )
    assert [(i.code, i.path) for i in info.value.issues] == [
        ("unknown-column", "steps[0].checks[0].columns"),
        ("invalid-type", "steps[0].checks[1].min"),
        ("invalid-check", "steps[0].checks[3].action"),
    ]


def test_two_forking_check_steps_in_a_chain_count_each_row_once(registry, memory):
    spec = pipeline([{"type": "not_null", "column": "id", "action": "dead_letter"}])
    spec["steps"].append(
        {
            "kind": "check",
            "id": "second",
            "checks": [{"type": "range", "column": "amount", "min": 0, "action": "dead_letter"}],
        }
    )
    result = run_pipeline(spec, registry=registry)
    assert result.rows_read == 4
    assert by_name(result)["not_null_id"].rows_checked == 4
