"""Event-time windows: durations, and assigning each row to the windows it falls in.

A window starts on a grid of ``every`` (shifted by ``offset``) and lasts ``period``
(default ``every``). Tumbling windows truncate the timestamp; hopping windows
(``period > every``) give each row one copy per window that contains it, so the
aggregation after them is a plain ``group_by``. Both run in Polars' streaming engine,
and a row belongs to the same windows whichever micro-batch it arrives in.

Unlike ``group_by_dynamic``, every window that contains a row is produced, including
windows that start before the first row's own window.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import polars as pl

from ocht.pipeline_model import Window
from ocht.transform.errors import step_error
from ocht.transform.expressions import check_columns
from ocht.transform.kinds import BuildContext

_PART = re.compile(r"(\d+)(ns|us|ms|mo|s|m|h|d|w|q|y)")
_WHOLE = re.compile(r"(?:\d+(?:ns|us|ms|mo|s|m|h|d|w|q|y))+")
_NS = {
    "ns": 1,
    "us": 1_000,
    "ms": 1_000_000,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86_400 * 10**9,
    "w": 7 * 86_400 * 10**9,
}
# calendar units have a length range; days may be 23 or 25 hours around DST changes
_DAY_NS = 86_400 * 10**9
_CALENDAR = {"mo": (28, 31), "q": (89, 92), "y": (365, 366)}
_SUB_DAY = ("ns", "us", "ms", "s", "m", "h")


@dataclass(frozen=True)
class Duration:
    """A Polars duration string (``15m``, ``1h30m``, ``1mo``) as (count, unit) parts.

    Example:
        >>> Duration.parse("1h30m").times(-2)
        '-2h60m'
    """

    parts: tuple[tuple[int, str], ...]

    @classmethod
    def parse(cls, text: str) -> Duration | None:
        """The duration ``text`` spells, or ``None`` if it is not one."""
        text = text.strip()
        if not _WHOLE.fullmatch(text):
            return None
        return cls(tuple((int(n), unit) for n, unit in _PART.findall(text)))

    def times(self, factor: int) -> str:
        """This duration multiplied by ``factor``, as a Polars duration string."""
        body = "".join(f"{n * abs(factor)}{unit}" for n, unit in self.parts)
        return f"-{body}" if factor < 0 else body

    def back(self, count: pl.Expr) -> pl.Expr:
        """This duration multiplied by ``-count`` (an integer expression), as a string
        expression for ``dt.offset_by``."""
        parts: list[pl.Expr] = [pl.lit("-")]
        for n, unit in self.parts:
            parts += [(count * n).cast(pl.String), pl.lit(unit)]
        return pl.concat_str(parts)

    def bounds_ns(self) -> tuple[int, int]:
        """The shortest and longest this duration can be, in nanoseconds."""
        low = high = 0
        for n, unit in self.parts:
            if unit in _CALENDAR:
                days = _CALENDAR[unit]
                low, high = low + n * days[0] * _DAY_NS, high + n * days[1] * _DAY_NS
            else:
                low, high = low + n * _NS[unit], high + n * _NS[unit]
        return low, high

    @property
    def sub_day(self) -> bool:
        """Whether it has parts shorter than a day."""
        return any(unit in _SUB_DAY for _, unit in self.parts)


@dataclass(frozen=True)
class WindowPlan:
    """A checked window spec, ready to cut frames.

    Attributes:
        column: the timestamp column.
        every: the start interval.
        period: the length.
        offset: the shift of the start grid.
        start: the name of the window-start column.
        end: the name of the window-end column.
    """

    column: str
    every: Duration
    period: Duration
    offset: Duration | None
    start: str
    end: str

    @property
    def candidates(self) -> int:
        """How many windows a row can fall in, at most."""
        if self.period == self.every:
            return 1
        return max(1, math.ceil(self.period.bounds_ns()[1] / self.every.bounds_ns()[0]))

    def assign(self, frame: pl.LazyFrame) -> pl.LazyFrame:
        """``frame`` with the window-start column: one row per (row, window) pair.

        Rows with a null timestamp belong to no window and are left out.
        """
        ts = pl.col(self.column)
        last = _shift(_shift(ts, self.offset, -1).dt.truncate(self.every.times(1)), self.offset, 1)
        frame = frame.filter(ts.is_not_null())
        if self.period == self.every:
            return frame.with_columns(last.alias(self.start))
        # one row per candidate window (the start column holds the candidate number
        # first), so the plan stays the same size however many windows overlap
        start = pl.col(self.start)
        return (
            frame.with_columns(pl.int_ranges(0, self.candidates).alias(self.start))
            .explode(self.start)
            .with_columns(last.dt.offset_by(self.every.back(start)).alias(self.start))
            .filter(start.dt.offset_by(self.period.times(1)) > ts)
        )

    def end_expr(self) -> pl.Expr:
        """The window-end expression, from the window-start column."""
        return pl.col(self.start).dt.offset_by(self.period.times(1)).alias(self.end)


def plan_window(window: Window, ctx: BuildContext, path: str) -> WindowPlan:
    """Check a window spec against the step's input.

    Raises:
        UnknownColumn: the window column does not exist.
        InvalidPipeline: ``invalid-type`` when it is not a date or datetime;
            ``invalid-value`` for a duration that does not parse or is zero.
    """
    check_columns([window.column], ctx.schema, step=ctx.step_id, path=f"{path}.column")
    dtype = ctx.schema[window.column]
    if not (dtype == pl.Date or isinstance(dtype, pl.Datetime)):
        raise step_error(
            "invalid-type",
            f"window column '{window.column}' is {dtype}, not a date or datetime",
            step=ctx.step_id,
            path=f"{path}.column",
            hint=f"cast it first, e.g. a cast step with `{window.column}: datetime`",
        )
    every = _duration(window.every, ctx, f"{path}.every")
    period = _duration(window.period, ctx, f"{path}.period") if window.period else every
    offset = _duration(window.offset, ctx, f"{path}.offset", zero=True) if window.offset else None
    for field in ("allowed_lateness", "idle_timeout"):
        value = getattr(window, field)
        if value is not None:
            _duration(value, ctx, f"{path}.{field}", zero=True)
    if dtype == pl.Date:
        for field, d in (("every", every), ("period", period), ("offset", offset)):
            if d is not None and d.sub_day:
                raise step_error(
                    "invalid-value",
                    f"window column '{window.column}' is a "
                    f"date: `{field}` must be whole days (d, w, mo, q, y)",
                    step=ctx.step_id,
                    path=f"{path}.{field}",
                )
    if window.start_column == window.end_column:
        raise step_error(
            "invalid-value",
            f"the window start and end columns have the same name '{window.start_column}'",
            step=ctx.step_id,
            path=f"{path}.end_column",
        )
    return WindowPlan(window.column, every, period, offset, window.start_column, window.end_column)


def _duration(text: str, ctx: BuildContext, path: str, *, zero: bool = False) -> Duration:
    d = Duration.parse(text)
    if d is None or (not zero and d.bounds_ns()[1] == 0):
        raise step_error(
            "invalid-value",
            f"'{text}' is not a {'' if zero else 'positive '}duration",
            step=ctx.step_id,
            path=path,
            hint="e.g. 30s, 15m, 1h, 1d, 1w, 1mo, 1y, or combined: 1h30m",
        )
    return d


def _shift(expr: pl.Expr, by: Duration | None, sign: int) -> pl.Expr:
    return expr if by is None else expr.dt.offset_by(by.times(sign))
