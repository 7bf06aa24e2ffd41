"""Data-quality parts of the CLI: the checks table of the run summary.

Only click is imported at module level, so ``ocht --help`` stays fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ocht.executor import RunResult


def render_checks(result: RunResult) -> None:
    """Print one line per data-quality check (rows checked, failed, action) and the
    accounting line (read = written + dead letters + dropped); nothing without checks."""
    from rich.table import Table

    from ocht.cli.render import out_console
    from ocht.executor import accounting

    if result.checks:
        table = Table(title="checks", title_justify="left", show_edge=False, pad_edge=False)
        for col in ("step", "check", "action", "checked", "failed", "e.g."):
            table.add_column(col, justify="right" if col in ("checked", "failed") else "left")
        for c in result.checks:
            style = (
                "red" if c.failed and c.action == "fail" else ("yellow" if c.failed else "green")
            )
            shown = ", ".join(repr(s) for s in c.samples[:3])
            table.add_row(
                c.step, c.check, c.action, f"{c.rows_checked:,}", f"[{style}]{c.failed:,}[/]", shown
            )
        out_console.print(table)
    if result.checks or result.dead_letters:
        acc = accounting(result)
        colour = "dim" if acc.balanced else "red"
        out_console.print(f"[{colour}]{acc.describe()}[/]")
