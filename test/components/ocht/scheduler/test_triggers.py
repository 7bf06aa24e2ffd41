from datetime import UTC, datetime, timedelta

import pytest

from ocht.scheduler import InvalidSchedule, Trigger, parse_duration


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_cron_fires_in_its_time_zone_across_the_spring_forward_night() -> None:
    t = Trigger(cron="30 2 * * *", timezone="Europe/Paris")
    fires = t.next_fires(utc(2024, 3, 29), 3)
    # 02:30 does not exist on 31 March in Paris: the run comes at 03:00 local (01:00 UTC)
    assert fires == [utc(2024, 3, 29, 1, 30), utc(2024, 3, 30, 1, 30), utc(2024, 3, 31, 1, 0)]


def test_cron_fires_once_on_the_fall_back_night() -> None:
    t = Trigger(cron="30 2 * * *", timezone="Europe/Paris")
    fires = t.fires(utc(2024, 10, 26, 12), utc(2024, 10, 28, 12))
    # 02:30 happens twice on 27 October; the first one fires, the repeat does not
    assert fires == [utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 1, 30)]


def test_hourly_cron_keeps_local_hours_after_the_change() -> None:
    t = Trigger(cron="0 9 * * 1-5", timezone="America/New_York")
    fires = t.next_fires(utc(2024, 3, 8, 15), 2)  # Friday after 9:00, then Monday after DST
    assert fires == [utc(2024, 3, 11, 13), utc(2024, 3, 12, 13)]


def test_interval_counts_from_its_anchor_whatever_the_clocks_say() -> None:
    t = Trigger(interval=900, anchor=utc(2024, 1, 1))
    assert t.next_fires(utc(2024, 1, 1, 0, 20), 2) == [
        utc(2024, 1, 1, 0, 30),
        utc(2024, 1, 1, 0, 45),
    ]
    assert t.fires(utc(2024, 1, 1), utc(2024, 1, 1, 1)) == [
        utc(2024, 1, 1, 0, 15) + timedelta(minutes=15 * i) for i in range(4)
    ]


def test_fires_are_strictly_after_and_up_to_including() -> None:
    t = Trigger(cron="0 * * * *")
    assert t.fires(utc(2024, 1, 1, 1), utc(2024, 1, 1, 3)) == [
        utc(2024, 1, 1, 2),
        utc(2024, 1, 1, 3),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "either a cron expression or an interval"),
        ({"cron": "* * * * *", "interval": 5}, "either"),
        ({"cron": "61 * * * *"}, "not a cron expression"),
        ({"cron": "* * * *"}, "not a cron expression"),
        ({"cron": "* * * * *", "timezone": "Mars/Olympus"}, "unknown time zone"),
        ({"interval": 0}, "more than 0"),
    ],
)
def test_bad_triggers_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(InvalidSchedule, match=message) as info:
        Trigger(**kwargs)
    assert info.value.code == "invalid-schedule"


def test_durations() -> None:
    assert parse_duration("90") == 90
    assert parse_duration("2h") == 7200
    assert parse_duration("1d12h") == 129600
    for bad in ("", "abc", "5x", "m"):
        with pytest.raises(InvalidSchedule, match="not a duration"):
            parse_duration(bad)
