"""Scenario files: given rows per input, expected rows per output, as data.

A scenario file (``*.ocht-test.yaml``) names a pipeline and lists scenarios::

    pipeline: orders_clean.yaml
    scenarios:
      - name: keeps paid orders over the minimum
        vars: {min_amount: 20}
        given:
          orders:
            rows:
              - {order_id: 1, status: paid, amount: 30, ts: "2024-03-01 10:00:00"}
              - {order_id: 2, status: pending, amount: 50, ts: "2024-03-01 11:00:00"}
        expect:
          clean:
            rows: [{order_id: 1, vat: 5.7}]
        expect_dead_letters: {count: 0}

A pipeline may also hold the same list under ``tests:``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Mode = Literal["batch", "stream"]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Given(_Spec):
    """The data one input holds in a scenario: inline rows, raw text, or a file."""

    rows: list[dict[str, Any]] | None = Field(
        default=None, description="Records; they get the input's declared or inferred types."
    )
    text: str | None = Field(
        default=None,
        description="The input's raw content (CSV or NDJSON text), to test bad lines exactly.",
    )
    file: str | None = Field(default=None, description="A small file, relative to the scenario.")

    @model_validator(mode="after")
    def _one(self) -> Given:
        if sum(x is not None for x in (self.rows, self.text, self.file)) != 1:
            raise ValueError("give exactly one of `rows`, `text` or `file`")
        return self


class Expect(_Spec):
    """What one output must hold."""

    rows: list[dict[str, Any]] | None = Field(
        default=None, description="The rows; only the columns they name are compared."
    )
    golden: str | None = Field(
        default=None,
        description="An NDJSON file (relative to the scenario) holding the rows; "
        "`ocht test --update` rewrites it from the actual output.",
    )
    count: int | None = Field(default=None, ge=0, description="Only the number of rows.")
    ordered: bool = Field(default=False, description="Compare in order (default: as a set).")
    subset: bool = Field(default=False, description="Expected rows must appear; others may.")
    tolerance: float = Field(default=1e-9, ge=0, description="Absolute tolerance for floats.")

    @model_validator(mode="after")
    def _some(self) -> Expect:
        if self.rows is None and self.golden is None and self.count is None:
            raise ValueError("give `rows`, `golden` or `count`")
        if self.rows is not None and self.golden is not None:
            raise ValueError("give `rows` or `golden`, not both")
        return self


class ExpectDeadLetters(_Spec):
    """The dead letters a scenario must produce: a count, or rows (code, step, reason...)."""

    count: int | None = Field(default=None, ge=0)
    rows: list[dict[str, Any]] | None = Field(
        default=None, description="Dead-letter fields to match (`code`, `step`, `reason`)."
    )


class Run(_Spec):
    """One run of a multi-run scenario (incremental loads, resume)."""

    given: dict[str, Given] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    full_refresh: bool = False
    expect: dict[str, Expect] = Field(default_factory=dict)
    expect_dead_letters: ExpectDeadLetters | None = None
    expect_error: str | None = Field(default=None, description="The run's error code.")


class Scenario(_Spec):
    """One scenario: a single run (``given``/``expect``) or several (``runs``)."""

    name: str = Field(min_length=1)
    description: str = ""
    vars: dict[str, Any] = Field(default_factory=dict)
    profile: str | None = None
    modes: list[Mode] | None = Field(
        default=None, description="Where to run it (default: batch, and stream when it can)."
    )
    given: dict[str, Given] = Field(default_factory=dict)
    expect: dict[str, Expect] = Field(default_factory=dict)
    expect_dead_letters: ExpectDeadLetters | None = None
    expect_error: str | None = None
    runs: list[Run] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _shape(self) -> Scenario:
        single = self.given or self.expect or self.expect_dead_letters or self.expect_error
        if self.runs is not None and single:
            raise ValueError("give `runs`, or `given`/`expect` for a single run, not both")
        return self

    def steps(self) -> list[Run]:
        """The runs of this scenario (one for a single-run scenario)."""
        if self.runs is not None:
            return list(self.runs)
        return [
            Run(
                given=self.given,
                expect=self.expect,
                expect_dead_letters=self.expect_dead_letters,
                expect_error=self.expect_error,
            )
        ]


class ScenarioFile(_Spec):
    """A ``*.ocht-test.yaml`` file: the pipeline under test and its scenarios."""

    pipeline: str = Field(min_length=1, description="The pipeline file, relative to this one.")
    scenarios: list[Scenario] = Field(min_length=1)
