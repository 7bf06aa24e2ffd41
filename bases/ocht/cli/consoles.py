"""The CLI's two rich consoles: results on standard output, progress on standard error."""

from __future__ import annotations

from rich.console import Console

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)
