"""Timer schedules: NCRONTAB or TimeSpan expressions, the time zone they run in, and the monitor rule.

Why: the timer trigger accepts either a cron expression or a .NET ``TimeSpan`` (``TimerSchedule.Create``
in Azure/azure-webjobs-sdk-extensions src/WebJobs.Extensions/Extensions/Timers/Scheduling/TimerSchedule.cs:
``%NAME%`` is resolved from the app settings first, cron is tried before TimeSpan, anything else is an
error naming the expression). ``use_monitor`` is switched off for schedules that fire more than once a
minute (``ShouldDisableScheduleMonitor`` for cron, ``TotalMinutes < 1`` for a TimeSpan), so only those
keep a schedule status across restarts. Cron runs on the wall clock of ``WEBSITE_TIME_ZONE`` (an IANA
name) when set, else of this machine, as Core Tools does; a TimeSpan is a constant interval.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from durableagent.local.triggers.ncrontab import Crontab, CrontabError

TIME_ZONE_SETTING = "WEBSITE_TIME_ZONE"
_SETTING = re.compile(r"%([^%]+)%")
# .NET TimeSpan.TryParse (invariant): [-]d | [-][d.]hh:mm[:ss[.fffffff]]
_TIMESPAN = re.compile(
    r"\s*(?P<neg>-)?(?:(?P<days_only>\d+)|(?:(?P<days>\d+)\.)?(?P<h>\d{1,2}):(?P<m>\d{1,2})"
    r"(?::(?P<s>\d{1,2})(?:\.(?P<f>\d{1,7}))?)?)\s*\Z"
)


class ScheduleError(ValueError):
    """The schedule cannot be used (the message names the expression and the reason)."""


def resolve_settings(expression: str, settings: Mapping[str, str] | None = None) -> str:
    """Replace ``%NAME%`` with the app setting ``NAME`` (the host's ``INameResolver.ResolveWholeString``)."""
    env = os.environ if settings is None else settings

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in env:
            raise ScheduleError(f"app setting {name!r} used by the schedule {expression!r} is not set")
        return env[name]

    return _SETTING.sub(value, expression)


def parse_timespan(text: str) -> timedelta | None:
    """A .NET TimeSpan string (``hh:mm:ss``, ``d.hh:mm``, ``d`` …) or None when it is not one."""
    m = _TIMESPAN.match(text)
    if m is None:
        return None
    if m.group("days_only") is not None:
        span = timedelta(days=int(m.group("days_only")))
    else:
        hours, minutes, seconds = int(m.group("h")), int(m.group("m")), int(m.group("s") or 0)
        if hours > 23 or minutes > 59 or seconds > 59:
            return None
        fraction = int((m.group("f") or "0").ljust(7, "0")) / 10_000_000
        span = timedelta(
            days=int(m.group("days") or 0), hours=hours, minutes=minutes, seconds=seconds + fraction
        )
    return -span if m.group("neg") else span


def time_zone(settings: Mapping[str, str] | None = None) -> tzinfo | None:
    """The zone cron schedules run in: ``WEBSITE_TIME_ZONE`` (IANA), else None (this machine's local time)."""
    env = os.environ if settings is None else settings
    name = env.get(TIME_ZONE_SETTING, "").strip()
    if not name:
        return None
    if name.upper() in ("UTC", "GMT", "ETC/UTC"):
        return timezone.utc
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"{TIME_ZONE_SETTING}={name!r} is not an IANA time zone name") from None


def _to_wall(moment: datetime, zone: tzinfo | None) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


def _from_wall(wall: datetime, zone: tzinfo | None) -> datetime:
    # A naive datetime's astimezone() reads it as this machine's local time (DST included).
    local = wall.astimezone() if zone is None else wall.replace(tzinfo=zone)
    return local.astimezone(timezone.utc)


@dataclass(frozen=True)
class CronSchedule:
    """An NCRONTAB schedule on the wall clock of ``zone`` (None: this machine's local time)."""

    crontab: Crontab
    zone: tzinfo | None

    def next_after(self, moment: datetime) -> datetime | None:
        """The next occurrence after ``moment`` (aware), in UTC; None when there is none."""
        wall = self.crontab.next_after(_to_wall(moment, self.zone))
        return None if wall is None else _from_wall(wall, self.zone)

    def fires_more_than_once_a_minute(self, now: datetime) -> bool:
        """``ShouldDisableScheduleMonitor``: only ``X * * * * *`` can; checked over the next minute."""
        if not all(self.crontab.field_is_full(i) for i in range(1, 6)):
            return False
        first = self.next_after(now)
        second = None if first is None else self.next_after(first)
        return second is not None and second <= now + timedelta(minutes=1)

    def describe(self) -> str:
        """The schedule for the startup listing."""
        return f"cron {self.crontab.expression!r}"


@dataclass(frozen=True)
class ConstantSchedule:
    """A TimeSpan schedule: a constant interval from the previous occurrence."""

    interval: timedelta
    expression: str

    def next_after(self, moment: datetime) -> datetime | None:
        """``moment`` plus the interval."""
        return moment + self.interval

    def fires_more_than_once_a_minute(self, now: datetime) -> bool:
        """True for intervals under a minute (the host then switches the monitor off)."""
        return self.interval < timedelta(minutes=1)

    def describe(self) -> str:
        """The schedule for the startup listing."""
        return f"every {self.expression.strip()}"


Schedule = CronSchedule | ConstantSchedule


def create(expression: str, settings: Mapping[str, str] | None = None) -> Schedule:
    """Parse a timer trigger's ``schedule`` as the host does (cron first, then TimeSpan)."""
    resolved = resolve_settings(expression, settings)
    try:
        return CronSchedule(Crontab.parse(resolved), time_zone(settings))
    except CrontabError as cron_error:
        span = parse_timespan(resolved)
        if span is None:
            raise ScheduleError(
                f"the schedule expression {resolved!r} was not recognized as a valid cron expression "
                f"or timespan string ({cron_error})"
            ) from None
        if span <= timedelta(0):
            raise ScheduleError(f"the schedule interval {resolved!r} must be positive") from None
        return ConstantSchedule(span, resolved)
