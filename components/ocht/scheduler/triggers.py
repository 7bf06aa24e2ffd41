"""When a schedule fires: a cron expression in a time zone, or a fixed interval.

Cron fires at wall-clock times in the schedule's zone (croniter does the arithmetic). On
the spring-forward night a time that does not exist fires at the first instant after the
gap; on the fall-back night a wall-clock time that happens twice fires once (the first),
as cron daemons do. An interval fires every ``interval`` seconds counted from an anchor,
whatever the clocks say.

Example:
    >>> from datetime import datetime, UTC
    >>> t = Trigger(cron="0 6 * * 1-5", timezone="Europe/Paris")
    >>> [f.isoformat() for f in t.next_fires(datetime(2024, 3, 29, tzinfo=UTC), 2)]
    ['2024-03-29T05:00:00+00:00', '2024-04-01T04:00:00+00:00']
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ocht.scheduler.errors import InvalidSchedule

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_FIRES = 100_000  # a catch-up over years of a per-minute cron stops somewhere


def zone(name: str) -> ZoneInfo:
    """The time zone ``name``, or :class:`InvalidSchedule`."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise InvalidSchedule(
            f"unknown time zone '{name}'", hint="use an IANA name such as Europe/Paris or UTC"
        ) from None


def aware(value: datetime) -> datetime:
    """``value`` in UTC (naive values are taken as UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Trigger:
    """A cron expression with a time zone, or an interval in seconds.

    Attributes:
        cron: five-field cron expression (``*/15 * * * *``), or ``None``.
        timezone: the zone cron's wall-clock times are in.
        interval: seconds between fires, or ``None``.
        anchor: the instant intervals count from (default: the Unix epoch).
    """

    cron: str | None = None
    timezone: str = "UTC"
    interval: float | None = None
    anchor: datetime = EPOCH

    def __post_init__(self) -> None:
        if (self.cron is None) == (self.interval is None):
            raise InvalidSchedule(
                "a schedule needs either a cron expression or an interval",
                hint="--cron '0 6 * * *' or --every 15m",
            )
        zone(self.timezone)
        if self.cron is not None:
            from croniter import croniter

            if len(self.cron.split()) != 5 or not croniter.is_valid(self.cron):
                raise InvalidSchedule(
                    f"'{self.cron}' is not a cron expression",
                    hint="five fields: minute hour day-of-month month day-of-week",
                )
        if self.interval is not None and not self.interval > 0:
            raise InvalidSchedule("an interval must be more than 0 seconds")

    def describe(self) -> str:
        """``cron 0 6 * * * (Europe/Paris)`` or ``every 900s``."""
        if self.cron is not None:
            return f"cron {self.cron} ({self.timezone})"
        return f"every {self.interval:g}s"

    def iter_fires(self, after: datetime) -> Iterator[datetime]:
        """Fire instants (UTC) strictly after ``after``, in order, without end."""
        after = aware(after)
        if self.interval is not None:
            step = timedelta(seconds=self.interval)
            n = max(0, int((after - self.anchor) / step) + 1)
            while True:
                fire = self.anchor + n * step
                if fire > after:
                    yield fire
                n += 1
            return
        from croniter import croniter

        tz = zone(self.timezone)
        it = croniter(self.cron, after.astimezone(tz))
        previous_wall: tuple[int, ...] | None = None
        while True:
            local = it.get_next(datetime)
            wall = local.timetuple()[:6]
            if wall == previous_wall:  # the repeated hour of a fall-back night
                continue
            previous_wall = wall
            fire = local.astimezone(UTC)
            if fire > after:
                yield fire

    def fires(self, after: datetime, until: datetime) -> list[datetime]:
        """Fire instants in ``(after, until]``, oldest first."""
        until = aware(until)
        out: list[datetime] = []
        for fire in self.iter_fires(after):
            if fire > until or len(out) >= MAX_FIRES:
                break
            out.append(fire)
        return out

    def next_fires(self, after: datetime, count: int = 3) -> list[datetime]:
        """The next ``count`` fire instants after ``after``."""
        out: list[datetime] = []
        for fire in self.iter_fires(after):
            if len(out) >= count:
                break
            out.append(fire)
        return out


def parse_duration(text: str | float | int, what: str = "duration") -> float:
    """Seconds from ``90``, ``90s``, ``15m``, ``2h``, ``1d`` (or a number).

    Example:
        >>> parse_duration("15m"), parse_duration("1h30m")
        (900.0, 5400.0)

    Raises:
        InvalidSchedule: not a duration.
    """
    if isinstance(text, int | float):
        return float(text)
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
    raw = text.strip().lower()
    total, number = 0.0, ""
    try:
        for ch in raw:
            if ch.isdigit() or ch == ".":
                number += ch
            elif ch in units and number:
                total += float(number) * units[ch]
                number = ""
            else:
                raise ValueError(ch)
        if number:
            total += float(number)
    except ValueError:
        total = -1
    if not raw or total < 0:
        raise InvalidSchedule(
            f"{what} '{text}' is not a duration", hint="e.g. 30s, 15m, 2h, 1d"
        ) from None
    return total
