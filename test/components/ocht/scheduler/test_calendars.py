import itertools
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ocht.scheduler import CALENDARS, InvalidPeriod, calendar, parse_date


def keys(spec: str, first: str, last: str, holidays: tuple[str, ...] = ()) -> list[str]:
    cal = calendar(spec, holidays)
    return [p.key for p in cal.periods(date.fromisoformat(first), date.fromisoformat(last))]


def test_daily_periods_cross_a_month_end_and_a_leap_day() -> None:
    assert keys("daily", "2024-02-27", "2024-03-01") == [
        "2024-02-27",
        "2024-02-28",
        "2024-02-29",
        "2024-03-01",
    ]
    assert keys("daily", "2023-02-27", "2023-03-01") == ["2023-02-27", "2023-02-28", "2023-03-01"]


def test_monthly_periods_have_their_true_lengths() -> None:
    cal = calendar("monthly")
    feb_leap = cal.period_of(date(2024, 2, 10))
    feb = cal.period_of(date(2023, 2, 10))
    assert (feb_leap.start, feb_leap.end, feb_leap.last) == (
        date(2024, 2, 1),
        date(2024, 3, 1),
        date(2024, 2, 29),
    )
    assert feb.last == date(2023, 2, 28)
    dec = cal.period_of(date(2024, 12, 31))
    assert (dec.key, dec.end) == ("2024-12", date(2025, 1, 1))


def test_weekly_periods_are_iso_weeks_across_a_year_end() -> None:
    cal = calendar("weekly")
    week = cal.period_of(date(2025, 1, 1))  # a Wednesday in ISO week 1 of 2025
    assert (week.key, week.start, week.end) == ("2025-W01", date(2024, 12, 30), date(2025, 1, 6))
    assert cal.period_of(date(2020, 12, 31)).key == "2020-W53"


def test_quarterly_periods() -> None:
    assert keys("quarterly", "2023-11-15", "2024-04-01") == ["2023-Q4", "2024-Q1", "2024-Q2"]


def test_business_days_skip_weekends_and_holidays() -> None:
    got = keys("business", "2024-12-20", "2024-12-31", ("2024-12-25", "2024-12-26"))
    assert got == [
        "2024-12-20",
        "2024-12-23",
        "2024-12-24",
        "2024-12-27",
        "2024-12-30",
        "2024-12-31",
    ]
    with pytest.raises(InvalidPeriod, match="not a business day"):
        calendar("business").period_of(date(2024, 12, 21))


def test_fiscal_year_starting_in_april_is_named_after_the_year_it_ends() -> None:
    cal = calendar("fiscal-year:4")
    fy = cal.period_of(date(2024, 3, 31))
    assert (fy.key, fy.start, fy.end) == ("FY2024", date(2023, 4, 1), date(2024, 4, 1))
    assert cal.period_of(date(2024, 4, 1)).key == "FY2025"
    quarters = keys("fiscal-quarter:4", "2024-03-01", "2024-12-31")
    assert quarters == ["FY2024-Q4", "FY2025-Q1", "FY2025-Q2", "FY2025-Q3"]
    # a leap day inside a fiscal year starting in March
    q = calendar("fiscal-quarter:3").period_of(date(2024, 2, 29))
    assert (q.key, q.start, q.end) == ("FY2024-Q4", date(2023, 12, 1), date(2024, 3, 1))


def test_calendar_fiscal_years_start_in_january_by_default() -> None:
    assert calendar("fiscal-year").period_of(date(2024, 6, 1)).key == "FY2024"


def test_period_bounds_follow_daylight_saving() -> None:
    day = calendar("daily").period_of(date(2024, 3, 31))  # Europe: clocks go forward
    start, end = day.bounds("Europe/Paris")
    assert end - start == timedelta(hours=23)
    autumn = calendar("daily").period_of(date(2024, 10, 27))
    start, end = autumn.bounds("Europe/Paris")
    assert end - start == timedelta(hours=25)


def test_period_variables_are_what_pipelines_read() -> None:
    p = calendar("monthly").period_of(date(2024, 2, 10))
    assert p.variables() == {
        "key": "2024-02",
        "calendar": "monthly",
        "start": "2024-02-01",
        "end": "2024-03-01",
        "last": "2024-02-29",
        "year": "2024",
        "month": "02",
        "day": "01",
    }


@pytest.mark.parametrize(
    ("spec", "holidays", "message"),
    [
        ("hourly", (), "unknown calendar"),
        ("fiscal-year:13", (), "start month"),
        ("fiscal-year:x", (), "start month"),
        ("monthly:2", (), "takes no argument"),
        ("monthly", ("2024-01-01",), "holidays apply"),
        ("business", ("2024-13-01",), "is not a date"),
    ],
)
def test_bad_calendars_are_refused(spec: str, holidays: tuple[str, ...], message: str) -> None:
    with pytest.raises(InvalidPeriod, match=message) as info:
        calendar(spec, holidays)
    assert info.value.code == "invalid-period"


def test_a_range_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidPeriod, match="before it starts"):
        calendar("daily").periods(date(2024, 2, 1), date(2024, 1, 1))
    with pytest.raises(InvalidPeriod):
        parse_date("yesterday")


@given(
    st.sampled_from(
        [c for c in CALENDARS if not c.startswith("fiscal")]
        + ["fiscal-year:7", "fiscal-quarter:10"]
    ),
    st.dates(date(1999, 1, 1), date(2031, 1, 1)),
    st.integers(0, 400),
)
def test_periods_tile_the_range_without_gaps_or_overlaps(spec: str, first: date, days: int) -> None:
    cal = calendar(spec)
    last = first + timedelta(days=days)
    periods = cal.periods(first, last)
    assert len({p.key for p in periods}) == len(periods)
    for a, b in itertools.pairwise(periods):
        if spec == "business":
            assert a.end <= b.start
        else:
            assert a.end == b.start
    if spec != "business" or cal.is_business_day(first):
        assert periods[0].start <= first < periods[0].end
    for p in periods:
        assert cal.period_of(p.start) == p
        assert isinstance(p.start, date) and not isinstance(p.start, datetime)
