"""The schedule status of a monitored timer, persisted in the store, and the past-due check.

Why: a restart after a missed occurrence must fire once with ``isPastDue`` as on Azure. The rules are
``ScheduleMonitor.CheckPastDueAsync`` (Azure/azure-webjobs-sdk-extensions
src/WebJobs.Extensions/Extensions/Timers/Scheduling/ScheduleMonitor.cs): with no recorded status, record
``Next`` = the next occurrence from now; with one, recompute the expected ``Next`` from ``Last`` (else
``LastUpdated``); if the schedule changed, record the new expectation (from now when it is already past);
the timer is past due when now is after the recorded ``Next``. The status lives in the store's
``timer_status`` table (the host keeps it in blob storage, one record per timer).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from durableagent.local.triggers.schedules import Schedule

_DEFAULT_JSON = "0001-01-01T00:00:00+00:00"  # .NET default(DateTime), as the worker sees it


@dataclass(frozen=True)
class ScheduleStatus:
    """``Last``/``Next``/``LastUpdated``; None is .NET's ``default(DateTime)``."""

    last: datetime | None
    next: datetime | None
    last_updated: datetime | None

    def to_json(self) -> dict[str, str]:
        """The ``ScheduleStatus`` object of the timer binding's JSON."""

        def fmt(value: datetime | None) -> str:
            return _DEFAULT_JSON if value is None else value.isoformat()

        return {"Last": fmt(self.last), "Next": fmt(self.next), "LastUpdated": fmt(self.last_updated)}


def _parse(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def load(conn: sqlite3.Connection, function_name: str) -> ScheduleStatus | None:
    """The recorded status of a timer function, or None when none was recorded."""
    row = conn.execute(
        "SELECT last, next, last_updated FROM timer_status WHERE function_name = ?", (function_name,)
    ).fetchone()
    return None if row is None else ScheduleStatus(_parse(row[0]), _parse(row[1]), _parse(row[2]))


def save(conn: sqlite3.Connection, function_name: str, status: ScheduleStatus) -> None:
    """Record the status of a timer function (insert or replace)."""
    conn.execute(
        "INSERT INTO timer_status (function_name, last, next, last_updated) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (function_name) DO UPDATE SET last = excluded.last, next = excluded.next, "
        "last_updated = excluded.last_updated",
        (function_name, _text(status.last), _text(status.next), _text(status.last_updated)),
    )


def check_past_due(
    schedule: Schedule, status: ScheduleStatus | None, now: datetime
) -> tuple[timedelta, ScheduleStatus, bool]:
    """``(past due by, status, status changed)``; a zero duration means not past due."""
    changed = False
    if status is None:
        status = ScheduleStatus(None, schedule.next_after(now), now)
        changed = True
    else:
        if status.last is not None:
            basis = status.last
        elif status.last_updated is not None:
            basis = status.last_updated
        else:
            basis = now
        expected = schedule.next_after(basis)
        if status.next != expected:
            if expected is not None and now > expected:
                expected, basis = schedule.next_after(now), now
            status = replace(status, last=None, next=expected, last_updated=basis)
            changed = True
    recorded = status.next
    if recorded is not None and now > recorded:
        return now - recorded, status, changed
    return timedelta(0), status, changed
