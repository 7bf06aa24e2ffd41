"""How the CLI shows things: progress, the run summary (errors: :mod:`ocht.console`)."""

from __future__ import annotations

import time
from typing import Any

from rich.table import Table

from ocht.cli.consoles import err_console, out_console, print_table
from ocht.executor import RunResult
from ocht.observability import RunHooks, redact


class Progress(RunHooks):
    """A live line on stderr: rows read so far and the rate (only on a terminal); with the
    inputs' estimated total, the percentage and the time left."""

    def __init__(self, enabled: bool, total: int | None = None) -> None:
        self.enabled = enabled and err_console.is_terminal
        self.total = total
        self._status: Any = None
        self._started = time.perf_counter()
        self._last = 0.0

    def on_run_start(self, *, run_id: str, pipeline: str, mode: str, **future: Any) -> None:
        if self.enabled:
            self._started = time.perf_counter()
            self._status = err_console.status(f"running {pipeline} ({run_id})")
            self._status.start()

    def on_progress(self, *, run_id: str, rows: int, **future: Any) -> None:
        now = time.perf_counter()
        if self._status is None or now - self._last < 0.2:
            return
        self._last = now
        from ocht.cli.progress import describe

        self._status.update(describe(rows, now - self._started, self.total))

    def on_run_end(self, *, run_id: str, status: str, seconds: float, **future: Any) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def render_summary(result: RunResult) -> None:
    """The end-of-run summary: rows per input, step and output, dead letters, time."""
    table = Table(
        title=f"{result.pipeline} · run {result.run_id}",
        title_justify="left",
        show_edge=False,
        pad_edge=False,
    )
    table.add_column("", style="dim")
    table.add_column("name")
    table.add_column("kind / target")
    table.add_column("rows in", justify="right")
    table.add_column("rows out", justify="right")
    for name, rows in result.inputs.items():
        new_files = result.files.get(name)
        notes = [f"{new_files[0]:,} new files, {new_files[1]:,} loaded before"] if new_files else []
        if skipped := result.skipped.get(name):
            notes.append(f"{skipped:,} bad lines skipped")
        note = "; ".join(notes)
        table.add_row("input", name, note, "", f"{rows:,}")
    for s in result.steps:
        detail = ", ".join(f"{b}={n:,}" for b, n in s.branches.items())
        table.add_row(
            "step",
            s.step,
            s.kind + (f" ({detail})" if detail else ""),
            f"{s.rows_in:,}",
            f"{s.rows_out:,}",
        )
    for o in result.outputs:
        table.add_row("output", o.name, redact(o.target), f"{o.rows:,}", "")
    print_table(table)
    from ocht.cli.quality_commands import render_checks

    render_checks(result)
    phases = " · ".join(f"{k} {v:.2f}s" for k, v in result.phases.items())
    line = f"[green]{result.status}[/] in {result.seconds:.2f}s ({phases})"
    out_console.print(line)
    if result.dead_letters:
        out_console.print(
            f"[yellow]{result.dead_letters:,} dead letters[/] → "
            + redact(str(result.dead_letter_target))
        )
