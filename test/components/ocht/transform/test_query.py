import pytest

from ocht.errors import InvalidPipeline, UnknownColumn
from ocht.testkit import assert_same_rows, frame, orders


def test_sql_runs_over_self(steps) -> None:
    out = steps.run(
        {
            "kind": "sql",
            "query": "SELECT country, count(*) AS n FROM self WHERE amount > 100 GROUP BY country",
        },
        orders(50),
    )
    data = orders(50).filter(orders(50)["amount"] > 100)
    expected = data.group_by("country").len("n")
    assert_same_rows(out, expected)


def test_sql_errors(steps) -> None:
    data = orders(3)
    with pytest.raises(UnknownColumn) as err:
        steps.build({"kind": "sql", "query": "SELECT amout FROM self"}, data)
    assert err.value.issues[0].path == "steps[3].query"
    assert err.value.details["nearest"] == "amount"
    with pytest.raises(InvalidPipeline) as err2:
        steps.build({"kind": "sql", "query": "SELEC amount FROM self"}, data)
    assert err2.value.code == "invalid-expression"
    with pytest.raises(InvalidPipeline) as err2:
        steps.build({"kind": "sql", "query": "SELECT * FROM orders"}, data)
    assert err2.value.issues[0].hint == "the step's input is called `self`: SELECT ... FROM self"


@pytest.mark.parametrize(
    "query",
    [
        "SELECT country, sum(amount) AS s FROM self GROUP BY country",
        "SELECT * FROM self ORDER BY amount",
        "SELECT * FROM self LIMIT 3",
        "SELECT DISTINCT country FROM self",
        "SELECT amount, sum(amount) OVER (PARTITION BY country) AS s FROM self",
        "SELECT count(*) AS n FROM self",
        "SELECT amount, sum(amount) OVER () AS total FROM self",
        "SELECT min(amount) AS low, max(amount) AS high FROM self",
    ],
)
def test_whole_input_queries_are_refused_on_a_stream(steps, query) -> None:
    data = orders(3)
    steps.build({"kind": "sql", "query": query}, data)
    with pytest.raises(InvalidPipeline) as err:
        steps.build({"kind": "sql", "query": query}, data, mode="stream")
    assert err.value.code == "batch-only-step"


def test_row_by_row_queries_run_on_a_stream(steps) -> None:
    data = frame([{"a": 1, "b": "x"}, {"a": 2, "b": "y"}])
    query = "SELECT a * 2 AS a2, upper(b) AS b FROM self WHERE a > 1"
    out = steps.run({"kind": "sql", "query": query}, data, mode="stream")
    assert out.rows() == [(4, "Y")]
    for row_wise in (
        "SELECT *, CASE WHEN a > 1 THEN 'hi' ELSE 'lo' END AS level FROM self",
        "SELECT a FROM self WHERE b IN ('x', 'z') AND a IS NOT NULL",
        "SELECT coalesce(a, 0) + length(b) AS n, cast(a AS double) AS f FROM self",
    ):
        steps.build({"kind": "sql", "query": row_wise}, data, mode="stream")


def test_plan_words_in_column_names_are_not_mistaken_for_plan_nodes(steps) -> None:
    data = frame([{"SORT": 1, "UNIQUE": 2}])
    query = 'SELECT "SORT" AS "SLICE[", "UNIQUE" AS "AGGREGATE[" FROM self'
    out = steps.run({"kind": "sql", "query": query}, data, mode="stream")
    assert out.columns == ["SLICE[", "AGGREGATE["]
