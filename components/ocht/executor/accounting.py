"""The accounting invariant: no record is lost without a trace.

For every run, per pipeline::

    records read = records written + records dead-lettered + records dropped by steps
                   + records skipped by inputs

precisely, with every count taken where the rows really flowed (a row counter at each
input, each step branch, each output and each dead-letter producer):

- **read**: rows the inputs gave (``RunResult.inputs``) plus records the inputs rejected
  themselves (unparseable lines: dead letters from ``input:NAME`` producers);
- **written**: rows written to the main outputs (``RunResult.outputs``);
- **dead-lettered**: every dead letter (``RunResult.dead_letters``), sources' included;
- **skipped by inputs**: bad records an input dropped and counted (``on_bad_lines:
  skip``), also counted as read;
- **dropped by steps**: per step, ``rows of every input - rows out of every branch`` (a
  filter or a dedupe drops rows, a join consumes its lookup side; an explode or a
  one-to-many join can *add* rows: that counts negative).

Pipelines are graphs, not only chains: a frame read by two consumers (two outputs of one
step) counts its rows twice, and a frame nobody reads (a route branch with no output)
takes its rows out. ``RunResult.fanout`` carries that correction (the sum of rows * (readers - 1)),
added to the read side, so the equation holds for joins, unions, routes and fan-outs.
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
    skipped: int = 0

    @property
    def balanced(self) -> bool:
        """Whether read = written + dead-lettered + dropped + skipped."""
        return self.read == self.written + self.dead_lettered + self.dropped + self.skipped

    def describe(self) -> str:
        """One line: the equation with its numbers (skipped bad lines when there were any)."""
        sign = "=" if self.balanced else "≠"
        skipped = f" + skipped bad lines {self.skipped:,}" if self.skipped else ""
        return (
            f"read {self.read:,} {sign} written {self.written:,} + dead letters "
            f"{self.dead_lettered:,} + dropped by steps {self.dropped:,}{skipped}"
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
        dropped += s.rows_in + s.rows_other - s.rows_out - step_dead.get(s.step, 0)
    skipped = sum(result.skipped.values())
    return Accounting(
        read=result.rows_read + source_rejected + skipped + result.fanout,
        written=result.rows_written,
        dead_lettered=result.dead_letters,
        dropped=dropped,
        skipped=skipped,
    )


def check_accounting(result: RunResult) -> Accounting:
    """The invariant's terms, raising if they do not balance.

    Raises:
        AccountingMismatch: read ≠ written + dead-lettered + dropped + skipped.
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
