from ocht.errors import (
    EXIT_INVALID,
    EXIT_RUN_FAILED,
    ConnectorUnavailable,
    InvalidPipeline,
    Issue,
    OchtError,
    SourceUnreachable,
    TransientError,
    UnknownColumn,
)


def test_codes_and_exit_codes_are_stable():
    assert (OchtError("x").code, OchtError("x").exit_code) == ("ocht-error", EXIT_RUN_FAILED)
    assert InvalidPipeline("x").exit_code == EXIT_INVALID
    assert UnknownColumn("x").code == "unknown-column"
    assert ConnectorUnavailable("x").exit_code == EXIT_INVALID
    assert SourceUnreachable("x").code == "source-unreachable"
    assert OchtError("x", code="custom").code == "custom"


def test_issue_renders_file_line_path_and_hint():
    issue = Issue(
        "unknown-key", "unknown key 'wher'", "steps[0].wher", "p.yaml", 9, "did you mean 'where'?"
    )
    assert issue.render() == "p.yaml:9 steps[0].wher: unknown key 'wher' (did you mean 'where'?)"
    assert Issue("c", "m").render() == "m"


def test_one_issue_gives_its_code_several_give_invalid_pipeline():
    one = InvalidPipeline.from_issues([Issue("unknown-step", "no such step")], file="p.yaml")
    assert one.code == "unknown-step" and "p.yaml" in one.message
    two = InvalidPipeline.from_issues([Issue("a", "x"), Issue("b", "y")])
    assert two.code == "invalid-pipeline" and len(two.issues) == 2
    data = two.to_dict()
    assert [i["code"] for i in data["issues"]] == ["a", "b"]


def test_to_dict_keeps_json_data_and_drops_the_rest():
    err = TransientError("reset", retry_after=2.0, step="s", column="c", obj=object())
    data = err.to_dict()
    assert data == {"code": "transient-error", "message": "reset", "step": "s", "column": "c"}
    assert err.retry_after == 2.0


def test_report_is_what_every_base_shows():
    from ocht.errors import report

    one = report(InvalidPipeline.from_issues([Issue("unknown-step", "no 'fliter'", "steps[0]")]))
    assert (one.code, one.headline, one.exit_code) == (
        "unknown-step",
        "steps[0]: no 'fliter'",
        EXIT_INVALID,
    )
    many = report(InvalidPipeline.from_issues([Issue("a", "x"), Issue("b", "y")]))
    assert many.headline == "2 problems" and [c for c, _ in many.details] == ["a", "b"]
    bug = report(KeyError("k"))
    assert bug.internal and bug.code == "internal" and "--debug" in (bug.hint or "")
