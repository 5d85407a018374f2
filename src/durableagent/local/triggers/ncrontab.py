"""NCRONTAB expressions exactly as the Functions timer trigger reads them (six fields with seconds, or five).

Why hand-written rather than croniter/cronsim: those accept a different grammar (``L``, ``W``, ``#``,
``?``, seconds as the last field, day-of-month OR day-of-week), so a schedule that the Functions host
refuses, or fires differently, would run here. The grammar and the search follow atifaziz/NCrontab,
which the WebJobs timer extension uses (``CronSchedule.TryCreate`` in
Azure/azure-webjobs-sdk-extensions src/WebJobs.Extensions/Extensions/Timers/Scheduling/CronSchedule.cs):

* the expression is split on spaces; five fields mean "no seconds", any other count is read as six
  (``CronSchedule.HasSeconds``) and fails unless it is six;
* a field is a comma list of items; an item is ``*``, a value, or a range ``a-b`` (swapped when
  ``a > b``), each optionally ``/step``; ``a/step`` means ``a-max/step`` (``CrontabFieldImpl.InternalParse``,
  ``CrontabField.Accumulate``);
* months and days of week also take names, matched as case-insensitive prefixes of the English names
  (``Ma`` is March); days of week are 0-6 with Sunday 0;
* an occurrence needs the day of month AND the day of week to match (``TryGetNextOccurrence``);
  occurrences are whole seconds strictly after the base time.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")  # fmt: skip
_DAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
_INT = re.compile(r"[+-]?\d+\Z")
# (name, min, max, names) in NCrontab's field order.
_FIELDS: tuple[tuple[str, int, int, tuple[str, ...] | None], ...] = (
    ("second", 0, 59, None),
    ("minute", 0, 59, None),
    ("hour", 0, 23, None),
    ("day", 1, 31, None),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 6, _DAYS),
)
SEARCH_YEARS = 30  # a schedule with no occurrence within this horizon (e.g. 30 February) never fires


class CrontabError(ValueError):
    """The expression is not a valid NCRONTAB expression (the message says which field and why)."""


def _value(text: str, field: tuple[str, int, int, tuple[str, ...] | None]) -> int:
    kind, low, high, names = field
    if not text:
        raise CrontabError(f"a {kind} value cannot be empty")
    if text[0].isdigit():
        if not text.isdigit():
            raise CrontabError(f"{text!r} is not a valid {kind} value")
        return int(text)
    if names is None:
        raise CrontabError(f"{text!r} is not a valid {kind} value (a number from {low} to {high})")
    for i, name in enumerate(names):
        if name.lower().startswith(text.lower()):
            return low + i
    raise CrontabError(f"{text!r} is not a known {kind} name")


def _accumulate(bits: set[int], start: int, end: int, step: int, field: tuple[str, int, int, object]) -> None:
    kind, low, high, _ = field
    if start == end:
        if start < 0:  # the wildcard
            start, end = low, high
        elif not low <= start <= high:
            raise CrontabError(f"{kind} value {start} is outside {low}-{high}")
    else:
        start, end = min(start, end), max(start, end)
        start = low if start < 0 else start
        if start < low or end > high:
            raise CrontabError(f"{kind} range {start}-{end} is outside {low}-{high}")
    bits.update(range(start, end + 1, max(step, 1)))


def _parse_item(item: str, bits: set[int], field: tuple[str, int, int, tuple[str, ...] | None]) -> None:
    step: int | None = None
    slash = item.find("/")
    if slash > 0:
        every = item[slash + 1 :]
        if not _INT.match(every):
            raise CrontabError(f"{every!r} is not a valid step in {item!r}")
        step, item = int(every), item[:slash]
    if item == "*":
        _accumulate(bits, -1, -1, step or 1, field)
        return
    dash = item.find("-")
    if dash > 0:
        _accumulate(bits, _value(item[:dash], field), _value(item[dash + 1 :], field), step or 1, field)
        return
    value = _value(item, field)
    if step is None:
        _accumulate(bits, value, value, 1, field)
    else:
        _accumulate(bits, value, field[2], step, field)


def _parse_field(text: str, field: tuple[str, int, int, tuple[str, ...] | None]) -> tuple[int, ...]:
    bits: set[int] = set()
    items = text.split(",") if text.find(",") > 0 else [text]
    try:
        for item in items:
            _parse_item(item, bits, field)
    except CrontabError as exc:
        raise CrontabError(f"{text!r} is not a valid {field[0]} field: {exc}") from None
    return tuple(sorted(bits))


def _next_in(values: tuple[int, ...], current: int) -> int | None:
    i = bisect.bisect_left(values, current)
    return values[i] if i < len(values) else None


@dataclass(frozen=True)
class Crontab:
    """A parsed expression: the allowed values of each field (seconds ``(0,)`` for five fields)."""

    expression: str
    seconds: tuple[int, ...]
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    days_of_week: tuple[int, ...]

    @classmethod
    def parse(cls, expression: str) -> Crontab:
        """Parse an expression; raises :class:`CrontabError` with the field and the reason."""
        tokens = [t for t in expression.split(" ") if t]
        with_seconds = len(tokens) != 5
        if len(tokens) != (6 if with_seconds else 5):
            raise CrontabError(
                f"{expression!r} must have 6 fields (second minute hour day month day-of-week) or 5"
            )
        fields = _FIELDS if with_seconds else _FIELDS[1:]
        parsed = [_parse_field(token, field) for token, field in zip(tokens, fields, strict=True)]
        if not with_seconds:
            parsed.insert(0, (0,))
        return cls(expression, *parsed)

    def field_is_full(self, index: int) -> bool:
        """True when field ``index`` (0 seconds … 5 day of week) allows every value (NCrontab: ``*``)."""
        _, low, high, _ = _FIELDS[index]
        values = (self.seconds, self.minutes, self.hours, self.days, self.months, self.days_of_week)[index]
        return values == tuple(range(low, high + 1))

    def next_after(self, base: datetime) -> datetime | None:
        """The first occurrence strictly after ``base`` (naive wall clock), or None within the horizon."""
        t = base.replace(microsecond=0) + timedelta(seconds=1)
        limit = t.year + SEARCH_YEARS
        while t.year <= limit:
            if t.month not in self.months:
                t = datetime(t.year + (t.month == 12), t.month % 12 + 1, 1)
                continue
            if t.day not in self.days or (t.weekday() + 1) % 7 not in self.days_of_week:
                t = datetime(t.year, t.month, t.day) + timedelta(days=1)
                continue
            hour = _next_in(self.hours, t.hour)
            if hour is None:
                t = datetime(t.year, t.month, t.day) + timedelta(days=1)
                continue
            if hour != t.hour:
                t = t.replace(hour=hour, minute=0, second=0)
            minute = _next_in(self.minutes, t.minute)
            if minute is None:
                t = t.replace(minute=0, second=0) + timedelta(hours=1)
                continue
            if minute != t.minute:
                t = t.replace(minute=minute, second=0)
            second = _next_in(self.seconds, t.second)
            if second is None:
                t = t.replace(second=0) + timedelta(minutes=1)
                continue
            return t.replace(second=second)
        return None
