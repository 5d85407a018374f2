"""NCRONTAB and TimeSpan schedules, the monitor rule and the past-due check (pure, no host)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from durableagent.local.triggers.ncrontab import Crontab, CrontabError
from durableagent.local.triggers.schedule_monitor import ScheduleStatus, check_past_due
from durableagent.local.triggers.schedules import (
    ConstantSchedule,
    CronSchedule,
    ScheduleError,
    create,
    parse_timespan,
)

UTC = timezone.utc


def _next(expression: str, base: str) -> datetime | None:
    return Crontab.parse(expression).next_after(datetime.fromisoformat(base))


@pytest.mark.parametrize(
    ("expression", "base", "expected"),
    [
        ("* * * * * *", "2024-01-01T00:00:00.500000", "2024-01-01T00:00:01"),  # whole seconds, strictly after
        ("*/15 * * * * *", "2024-01-01T00:00:14", "2024-01-01T00:00:15"),
        ("0 */5 * * * *", "2024-01-01T00:04:59", "2024-01-01T00:05:00"),
        ("0 30 9 * * 1-5", "2024-01-06T10:00:00", "2024-01-08T09:30:00"),  # Saturday -> Monday
        ("0 0 0 * * Sun", "2024-01-01T00:00:00", "2024-01-07T00:00:00"),  # names; Sunday is 0
        ("0 0 0 1 Ma *", "2024-01-01T00:00:00", "2024-03-01T00:00:00"),  # prefix "Ma" is March
        ("0 0 0 13 * 5", "2024-01-01T00:00:00", "2024-09-13T00:00:00"),  # day AND day of week (Friday 13th)
        ("0 0 0 31 * *", "2024-01-31T00:00:00", "2024-03-31T00:00:00"),  # months without a 31st skipped
        ("0 0 0 29 2 *", "2024-03-01T00:00:00", "2028-02-29T00:00:00"),  # leap years
        ("5/20 * * * * *", "2024-01-01T00:00:06", "2024-01-01T00:00:25"),  # a/step = a-max/step
        ("10-5 * * * * *", "2024-01-01T00:00:00", "2024-01-01T00:00:05"),  # reversed range is swapped
        ("0 15 10 * * *", "2024-01-01T10:15:00", "2024-01-02T10:15:00"),
        ("30 10 * * *", "2024-01-01T00:00:00", "2024-01-01T10:30:00"),  # five fields: no seconds
    ],
)
def test_next_occurrence(expression: str, base: str, expected: str) -> None:
    assert _next(expression, base) == datetime.fromisoformat(expected)


def test_impossible_schedule_has_no_occurrence() -> None:
    assert _next("0 0 0 30 2 *", "2024-01-01T00:00:00") is None


@pytest.mark.parametrize(
    "expression",
    ["", "* * * *", "* * * * * * *", "60 * * * * *", "* * 24 * * *", "* * * 0 * *", "* * * * 13 *",
     "* * * * * 7", "* * * * * L", "0 0 0 ? * *", "* 1/Z * * * *", "* 3-l2 * * * *", "* ,1 * * * *",
     "* * * * Foo *"],
)  # fmt: skip
def test_host_grammar_rejects(expression: str) -> None:
    with pytest.raises(CrontabError):
        Crontab.parse(expression)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("00:00:01", timedelta(seconds=1)),
        ("01:30", timedelta(hours=1, minutes=30)),
        ("1.02:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("2", timedelta(days=2)),
        ("00:00:00.5", timedelta(seconds=0.5)),
        ("24:00:00", None),
        ("1:60", None),
        ("soon", None),
    ],
)
def test_timespan(text: str, expected: timedelta | None) -> None:
    assert parse_timespan(text) == expected


def test_create_resolves_settings_and_tries_cron_first() -> None:
    schedule = create("%S%", {"S": "0 0 * * * *", "WEBSITE_TIME_ZONE": "UTC"})
    assert isinstance(schedule, CronSchedule)
    assert isinstance(create("00:05:00", {}), ConstantSchedule)
    with pytest.raises(ScheduleError, match="not recognized"):
        create("every day", {})
    with pytest.raises(ScheduleError, match="'MISSING'"):
        create("%MISSING%", {})
    with pytest.raises(ScheduleError, match="IANA"):
        create("* * * * * *", {"WEBSITE_TIME_ZONE": "Pacific Standard Time"})


def test_cron_in_a_time_zone() -> None:
    schedule = create("0 0 9 * * *", {"WEBSITE_TIME_ZONE": "Europe/Paris"})
    nxt = schedule.next_after(datetime(2024, 7, 1, 12, 0, tzinfo=UTC))
    assert nxt == datetime(2024, 7, 2, 7, 0, tzinfo=UTC)  # 09:00 CEST


@pytest.mark.parametrize(
    ("expression", "disabled"),
    [
        ("* * * * * *", True),
        ("*/10 * * * * *", True),
        ("0 * * * * *", False),  # once a minute: monitored
        ("* * * * * 1,2", False),  # a restricted day of week keeps the monitor
        ("00:00:30", True),
        ("00:01:00", False),
    ],
)
def test_monitor_rule(expression: str, disabled: bool) -> None:
    schedule = create(expression, {"WEBSITE_TIME_ZONE": "UTC"})
    assert schedule.fires_more_than_once_a_minute(datetime(2024, 1, 1, tzinfo=UTC)) is disabled


def test_past_due_check() -> None:
    schedule = create("0 0 * * * *", {"WEBSITE_TIME_ZONE": "UTC"})
    now = datetime(2024, 1, 1, 10, 30, tzinfo=UTC)
    due, status, changed = check_past_due(schedule, None, now)
    assert (due, changed) == (timedelta(0), True)
    assert status == ScheduleStatus(None, datetime(2024, 1, 1, 11, tzinfo=UTC), now)
    # The host was down over 11:00: past due by the time since the recorded Next.
    later = datetime(2024, 1, 1, 11, 20, tzinfo=UTC)
    due, again, changed = check_past_due(schedule, status, later)
    assert (due, changed, again) == (timedelta(minutes=20), False, status)
    # A changed schedule whose expected Next is already past is re-based on now: not past due.
    every_minute = create("0 * * * * *", {"WEBSITE_TIME_ZONE": "UTC"})
    ran = ScheduleStatus(datetime(2024, 1, 1, 9, tzinfo=UTC), datetime(2024, 1, 1, 10, tzinfo=UTC), None)
    due, rebased, changed = check_past_due(every_minute, ran, later)
    assert (due, changed) == (timedelta(0), True)
    assert rebased.next == datetime(2024, 1, 1, 11, 21, tzinfo=UTC)
