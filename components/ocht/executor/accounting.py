"""The accounting invariant: no record is lost without a trace.

For every run, per pipeline::

    records read = records written + records dead-lettered + records dropped by steps

precisely, with every count taken where the rows really flowed (a row counter at each
input, each step branch, each output and each dead-letter producer):

- **read**: rows the inputs gave (``RunResult.inputs``) plus records the inputs rejected
  themselves (unparseable lines: dead letters from ``input:NAME`` producers);
- **written**: rows written to the main outputs (``RunResult.outputs``);
- **dead-lettered**: every dead letter (``RunResult.dead_letters``), sources' included;
- **dropped by steps**: per step, ``rows_in - rows out of every branch`` (a filter or a
  dedupe drops rows; an explode or a join can *add* rows: that counts negative).

This holds exactly for pipelines where every frame is consumed once (each input read by
one step or output, each step's main output read by one step or output, each branch of
a route written once): the shape of nearly every ETL flow. Frames read twice (two outputs
of one step) or never are reported in ``unbalanced`` terms instead of being guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocht.errors import ExecutionError
from ocht.executor.result import RunResult


class AccountingMismatch(ExecutionError):
    """Records went missing (or appeared) between the inputs and the outputs."""

    code = "accounting-mismatch"


@dataclass(frozen=True)
class Accounting:
    """The terms of the invariant for one run."""

    read: int
    written: int
    dead_lettered: int
    dropped: int

    @property
    def balanced(self) -> bool:
        """Whether read = written + dead-lettered + dropped."""
        return self.read == self.written + self.dead_lettered + self.dropped

    def describe(self) -> str:
        """One line: the equation with its numbers."""
        sign = "=" if self.balanced else "≠"
        return (
            f"read {self.read:,} {sign} written {self.written:,} + dead letters "
            f"{self.dead_lettered:,} + dropped by steps {self.dropped:,}"
        )


def accounting(result: RunResult) -> Accounting:
    """The invariant's terms for ``result``.

    Example:
        >>> from ocht.executor.result import OutputStats, StepStats
        >>> r = RunResult("r", "p", "succeeded", inputs={"i": 4},
        ...               steps=[StepStats("f", "filter", 4, 3)],
        ...               outputs=[OutputStats("o", "x", 3)])
        >>> accounting(r).balanced
        True
    """
    source_rejected = sum(n for p, n in result.rejected.items() if p.startswith("input:"))
    step_dead = {p: n for p, n in result.rejected.items() if not p.startswith("input:")}
    dropped = 0
    for s in result.steps:
        dropped += s.rows_in - s.rows_out - step_dead.get(s.step, 0)
    return Accounting(
        read=result.rows_read + source_rejected,
        written=result.rows_written,
        dead_lettered=result.dead_letters,
        dropped=dropped,
    )


def check_accounting(result: RunResult) -> Accounting:
    """The invariant's terms, raising if they do not balance.

    Raises:
        AccountingMismatch: read ≠ written + dead-lettered + dropped.
    """
    acc = accounting(result)
    if not acc.balanced:
        raise AccountingMismatch(
            f"run {result.run_id}: {acc.describe()}",
            read=acc.read,
            written=acc.written,
            dead_lettered=acc.dead_lettered,
            dropped=acc.dropped,
        )
    return acc
