"""Calendars cut time into periods: a day, a week, a month, a fiscal quarter.

A :class:`Period` is a half-open range of calendar dates ``[start, end)`` with a stable
``key`` (``2024-02-29``, ``2024-W09``, ``2024-02``, ``2024-Q1``, ``FY2025-Q1``). Periods
are dates, not instants: a day in a time zone is a day whether it has 23, 24 or 25 hours
(:meth:`Period.bounds` gives the instants in a zone).

Calendars are named by a short spec: ``daily``, ``weekly``, ``monthly``, ``quarterly``,
``yearly``, ``business`` (Monday to Friday, minus holidays), ``fiscal-year:4`` and
``fiscal-quarter:4`` (a fiscal year starting in April; named after the calendar year it
ends in, as most companies do).

Example:
    >>> from datetime import date
    >>> [p.key for p in calendar("monthly").periods(date(2024, 1, 15), date(2024, 3, 1))]
    ['2024-01', '2024-02', '2024-03']
    >>> calendar("fiscal-quarter:4").period_of(date(2024, 4, 1)).key
    'FY2025-Q1'
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ocht.scheduler.errors import InvalidPeriod

CALENDARS = ("daily", "weekly", "monthly", "quarterly", "yearly", "business", "fiscal-year",
             "fiscal-quarter")  # fmt: skip
MAX_PERIODS = 100_000


@dataclass(frozen=True)
class Period:
    """A range of dates ``[start, end)`` a run is about.

    Attributes:
        calendar: the calendar's spec (``monthly``, ``fiscal-quarter:4``, ...).
        key: a stable name, unique within the calendar (``2024-02``).
        start: the first day in the period.
        end: the first day after it.
    """

    calendar: str
    key: str
    start: date
    end: date

    @property
    def last(self) -> date:
        """The last day in the period."""
        return self.end - timedelta(days=1)

    def bounds(self, tz: str = "UTC") -> tuple[datetime, datetime]:
        """The period's first and first-after instants (midnight in ``tz``), in UTC.

        A day has 23 or 25 hours when the clocks change in ``tz``.
        """
        zone = ZoneInfo(tz)
        return (
            datetime.combine(self.start, time(), zone).astimezone(UTC),
            datetime.combine(self.end, time(), zone).astimezone(UTC),
        )

    def variables(self) -> dict[str, Any]:
        """What ``${period.*}`` resolves to in a pipeline.

        ``start`` and ``end`` are ISO dates (``end`` exclusive), ``last`` the last day,
        ``year``, ``month`` and ``day`` the start's parts (zero-padded), ``key`` the name.
        """
        return {
            "key": self.key,
            "calendar": self.calendar,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "last": self.last.isoformat(),
            "year": f"{self.start.year:04d}",
            "month": f"{self.start.month:02d}",
            "day": f"{self.start.day:02d}",
        }

    def to_dict(self) -> dict[str, str]:
        """A JSON-ready view."""
        return {
            "calendar": self.calendar,
            "key": self.key,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Period:
        """The period :meth:`to_dict` wrote."""
        return cls(
            str(data["calendar"]),
            str(data["key"]),
            date.fromisoformat(str(data["start"])),
            date.fromisoformat(str(data["end"])),
        )


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Calendar:
    """A way of cutting dates into periods (see :func:`calendar`).

    Attributes:
        kind: one of :data:`CALENDARS`.
        start_month: the fiscal year's first month (1 for calendar years).
        holidays: days a ``business`` calendar skips.
    """

    kind: str
    start_month: int = 1
    holidays: frozenset[date] = field(default_factory=frozenset)

    @property
    def spec(self) -> str:
        """The short spec that names this calendar."""
        if self.kind.startswith("fiscal"):
            return f"{self.kind}:{self.start_month}"
        return self.kind

    def period_of(self, day: date) -> Period:
        """The period that contains ``day``.

        For a ``business`` calendar a weekend day or a holiday belongs to no period.

        Raises:
            InvalidPeriod: ``day`` is not a business day of a ``business`` calendar.
        """
        if isinstance(day, datetime):
            day = day.date()
        kind = self.kind
        if kind == "daily":
            return self._make(day.isoformat(), day, day + timedelta(days=1))
        if kind == "business":
            if not self.is_business_day(day):
                raise InvalidPeriod(f"{day.isoformat()} is not a business day")
            return self._make(day.isoformat(), day, day + timedelta(days=1))
        if kind == "weekly":  # ISO weeks: Monday to Sunday, numbered by ISO year
            start = day - timedelta(days=day.weekday())
            year, week, _ = start.isocalendar()
            return self._make(f"{year}-W{week:02d}", start, start + timedelta(days=7))
        if kind == "monthly":
            start = day.replace(day=1)
            return self._make(f"{day.year}-{day.month:02d}", start, _add_months(start, 1))
        if kind == "quarterly":
            start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
            quarter = (day.month - 1) // 3 + 1
            return self._make(f"{day.year}-Q{quarter}", start, _add_months(start, 3))
        if kind == "yearly":
            start = date(day.year, 1, 1)
            return self._make(str(day.year), start, date(day.year + 1, 1, 1))
        # fiscal: months since the fiscal year began
        offset = (day.month - self.start_month) % 12
        fy_start = _add_months(day.replace(day=1), -offset)
        fy_end = _add_months(fy_start, 12)
        fy_name = f"FY{fy_end.year if self.start_month != 1 else fy_start.year}"
        if kind == "fiscal-year":
            return self._make(fy_name, fy_start, fy_end)
        quarter = offset // 3 + 1
        q_start = _add_months(fy_start, (quarter - 1) * 3)
        return self._make(f"{fy_name}-Q{quarter}", q_start, _add_months(q_start, 3))

    def is_business_day(self, day: date) -> bool:
        """Monday to Friday and not a holiday."""
        return day.weekday() < 5 and day not in self.holidays

    def periods(self, first: date, last: date) -> list[Period]:
        """Every period from the one holding ``first`` to the one holding ``last``.

        Raises:
            InvalidPeriod: ``last`` is before ``first``, or the range is absurdly long.
        """
        if isinstance(first, datetime):
            first = first.date()
        if isinstance(last, datetime):
            last = last.date()
        if last < first:
            raise InvalidPeriod(
                f"the range ends ({last.isoformat()}) before it starts ({first.isoformat()})",
                hint="give --from before --to",
            )
        return list(self._iter(first, last))

    def _iter(self, first: date, last: date) -> Iterator[Period]:
        day, count = first, 0
        while day <= last:
            if self.kind == "business" and not self.is_business_day(day):
                day += timedelta(days=1)
                continue
            period = self.period_of(day)
            yield period
            count += 1
            if count > MAX_PERIODS:
                raise InvalidPeriod(f"more than {MAX_PERIODS:,} periods in the range")
            day = period.end

    def _make(self, key: str, start: date, end: date) -> Period:
        return Period(self.spec, key, start, end)


def calendar(spec: str, holidays: Iterable[date | str] = ()) -> Calendar:
    """The calendar a short spec names.

    Args:
        spec: ``daily``, ``weekly``, ``monthly``, ``quarterly``, ``yearly``, ``business``,
            ``fiscal-year:M`` or ``fiscal-quarter:M`` (``M`` the fiscal year's first month).
        holidays: days a ``business`` calendar skips (dates or ISO strings).

    Raises:
        InvalidPeriod: an unknown calendar, a bad start month or a bad holiday date.

    Example:
        >>> calendar("business", ["2024-12-25"]).periods(date(2024, 12, 24), date(2024, 12, 27))[1].key
        '2024-12-26'
    """
    kind, _, arg = spec.strip().partition(":")
    if kind not in CALENDARS:
        raise InvalidPeriod(
            f"unknown calendar '{spec}'",
            hint=f"use one of {', '.join(CALENDARS)} (fiscal ones take a start month: "
            "fiscal-year:4)",
        )
    start_month = 1
    if kind.startswith("fiscal"):
        try:
            start_month = int(arg or "1")
        except ValueError:
            start_month = 0
        if not 1 <= start_month <= 12:
            raise InvalidPeriod(
                f"'{spec}': a fiscal year's start month is 1 to 12", hint="e.g. fiscal-year:4"
            )
    elif arg:
        raise InvalidPeriod(f"calendar '{kind}' takes no argument (got '{spec}')")
    days: set[date] = set()
    for item in holidays:
        days.add(item if isinstance(item, date) else parse_date(str(item), "holiday"))
    if days and kind != "business":
        raise InvalidPeriod(f"holidays apply to the business calendar, not to '{kind}'")
    return Calendar(kind, start_month, frozenset(days))


def parse_date(text: str, what: str = "date") -> date:
    """An ISO date (``2024-02-29``), or :class:`InvalidPeriod` naming ``what``."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidPeriod(
            f"{what} '{text}' is not a date", hint="write it as YYYY-MM-DD"
        ) from None
