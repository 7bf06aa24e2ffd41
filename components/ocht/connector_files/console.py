"""The console output: the first rows as a table, for a quick look at a pipeline's result."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from ocht.pipeline_model import ConsoleConnector
from ocht.registry import RunContext, Sink

if TYPE_CHECKING:
    from rich.console import Console


class ConsoleSink(Sink):
    """Keeps the first ``rows`` rows across batches and prints them on :meth:`commit`.

    Prints a table (rich) and a line ``N rows (showing M)`` to standard output. An
    aborted run prints nothing. ``rich`` is imported only when the table is printed.

    Example:
        >>> from ocht.pipeline_model import ConsoleConnector
        >>> sink = ConsoleSink(ConsoleConnector(type="console", rows=1), name="out",
        ...                    context=RunContext("r1", "p"))
        >>> sink.open()
        >>> sink.write(pl.DataFrame({"a": [1, 2]}))
        >>> (sink.total, sink.shown.height)
        (2, 1)
    """

    spec: ConsoleConnector
    atomic: ClassVar[bool] = True
    commit_last: ClassVar[bool] = True  # publishes by a rename, after every transaction

    def __init__(
        self,
        spec: ConsoleConnector,
        *,
        name: str,
        context: RunContext,
        console: Console | None = None,
    ) -> None:
        super().__init__(spec, name=name, context=context)
        self.console = console
        self.total = 0
        self._kept: list[pl.DataFrame] = []
        self._schema: pl.Schema | None = None

    @property
    def shown(self) -> pl.DataFrame:
        """The rows kept for display so far."""
        if not self._kept:
            return pl.DataFrame(schema=self._schema)
        return pl.concat(self._kept, how="diagonal_relaxed")

    def open(self) -> None:
        self.total = 0
        self._kept = []
        self._schema = None

    def write(self, batch: pl.DataFrame) -> None:
        if self._schema is None:
            self._schema = batch.schema
        room = self.spec.rows - sum(f.height for f in self._kept)
        if room > 0 and batch.height:
            self._kept.append(batch.head(room))
        self.total += batch.height

    def commit(self) -> None:
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        shown = self.shown
        table = Table(title=self.name, title_justify="left", show_lines=False)
        for column, dtype in shown.schema.items():
            # Text, not markup: a column called "[x]" must print as written
            table.add_column(
                Text.assemble((column, "bold"), "\n", (_short(dtype), "dim")),
                overflow="fold",
                justify="right" if dtype.is_numeric() else "left",
            )
        for row in shown.iter_rows():
            table.add_row(*(_cell(value) for value in row))
        console = self.console or Console()
        console.print(table)
        noun = "row" if self.total == 1 else "rows"
        console.print(Text(f"{self.total} {noun} (showing {shown.height})"))
        self.open()

    def abort(self) -> None:
        self.open()

    def describe(self) -> str:
        return "console"


def _cell(value: Any) -> Any:
    from rich.text import Text

    if value is None:
        return Text("null", style="dim italic")
    return Text(str(value))


def _short(dtype: pl.DataType) -> str:
    """``i64``, ``datetime[μs]``: the names Polars prints over its own tables."""
    short = getattr(dtype, "_string_repr", None)  # not public API: fall back to the long name
    return str(short()) if callable(short) else str(dtype)
