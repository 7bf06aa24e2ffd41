"""The CLI's two rich consoles: results on standard output, progress on standard error."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)

#: the width tables get when standard output is not a terminal: wide enough for any row,
#: so a piped table keeps every run id and value whole
PIPED_WIDTH = 10_000


def print_table(table: Table) -> None:
    """Print a table on standard output; piped, it is never cut to 80 columns."""
    if out_console.is_terminal:
        out_console.print(table)
    else:  # a console's own width caps every print: a wide one, for this table
        Console(highlight=False, width=PIPED_WIDTH).print(table, crop=False)
