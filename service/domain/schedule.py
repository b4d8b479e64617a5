"""Opening times in Europe/London: which intervals a schedule is open, and what that means at a given moment.

Rules, in order of precedence for each local date: a dated exception, then open 24/7, then England & Wales bank
holidays (closed, normal or special hours), then the weekly sessions. A session belongs to the date it starts on,
so Friday 22:00-02:00 runs into Saturday even when Saturday is a bank holiday. Times are wall-clock times in
Europe/London: a session keeps its wall-clock hours across the clock changes, so it lasts an hour less or more.

Every wall-clock time becomes an instant by one rule, `london_instant`, used for opening and closing alike (so open
now, the closing time, the next opening, the detention-window rule and the index's timeline all agree):
- a time that does not exist (spring forward: 01:00-01:59 on the last Sunday of March) is the first instant after
  the gap, 02:00 BST (01:00 UTC). A session 01:30-03:00 runs 02:00-03:00; one wholly in the gap (01:30-02:00) does
  not happen at all: it is never open and never a next opening;
- a time that occurs twice (fall back: 01:00-01:59 on the last Sunday of October) is its first occurrence (BST) for
  an opening and its second (GMT) for a closing. A session 01:15-01:45 runs from the first 01:15 to the second
  01:45, and 22:00-01:30 closes at the second 01:30.
An interval that comes out empty is dropped.
"""

from __future__ import annotations

import datetime as dt
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

import holidays
from msgspec import Struct

from service.domain.model import Hours, Schedule

LONDON = ZoneInfo("Europe/London")
UTC = dt.UTC
DAY_MINUTES = 24 * 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
HORIZON = dt.timedelta(days=8)
"""How far ahead to look for the next opening."""


class OpeningState(Struct, frozen=True, kw_only=True, gc=False):
    open_now: bool
    open_24_7: bool = False
    closes_at: dt.datetime | None = None
    """When the current opening ends; None when open now with no end within the horizon."""
    next_opens_at: dt.datetime | None = None
    """When closed: the next opening within the horizon (8 days), if any."""


@cache
def _england_and_wales() -> holidays.HolidayBase:
    # England and Wales share their bank holidays; the library keeps the list (incl. substitute days) current.
    return holidays.country_holidays("GB", subdiv="ENG")


@lru_cache(maxsize=4096)
def is_bank_holiday(day: dt.date) -> bool:
    return day in _england_and_wales()


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


@lru_cache(maxsize=8192)
def _range(opens: str, closes: str) -> tuple[int, int]:
    start, end = _minutes(opens), _minutes(closes)
    return (start, end if end > start else end + DAY_MINUTES)


def _hours(hours: tuple[Hours, ...]) -> tuple[tuple[int, int], ...]:
    return tuple(_range(h.opens, h.closes) for h in hours)


@lru_cache(maxsize=65536)
def day_ranges(schedule: Schedule, day: dt.date) -> tuple[tuple[int, int], ...]:
    """Minutes after local midnight of the sessions that start on `day`; an end past 1440 runs into the next day."""
    for exception in schedule.exceptions:
        if exception.date == day:
            return _hours(exception.hours)
    if schedule.open_24_7:
        return ((0, DAY_MINUTES),)
    if is_bank_holiday(day):
        match schedule.bank_holidays.mode:
            case "closed":
                return ()
            case "special":
                return _hours(schedule.bank_holidays.hours)
            case "normal":
                pass
    weekday = WEEKDAYS[day.weekday()]
    return tuple(_range(s.opens, s.closes) for s in schedule.weekly if s.day == weekday)


@lru_cache(maxsize=65536)
def london_instant(wall: dt.datetime, *, closing: bool = False) -> dt.datetime:
    """The instant, in UTC, at which Europe/London's clock reads `wall` (a time without a zone), by the clock-change
    rule in this module's docstring: a time in the spring gap is the first instant after the gap; a time in the
    autumn's repeated hour is its first occurrence, or its second when it is a closing time."""
    first = wall.replace(tzinfo=LONDON, fold=0).astimezone(UTC)
    second = wall.replace(tzinfo=LONDON, fold=1).astimezone(UTC)
    if first <= second:  # the same instant, or a repeated time (fold 0 is the earlier occurrence)
        return second if closing else first
    # A time in a gap: fold 0 reads it with the offset before the change, fold 1 with the one after, so the change
    # itself lies in (second, first]. Find it to the second: the first instant with the offset after the change.
    after = first.astimezone(LONDON).utcoffset()
    low, high = second.replace(microsecond=0), first.replace(microsecond=0)  # changes fall on whole seconds
    while high - low > dt.timedelta(seconds=1):
        middle = low + dt.timedelta(seconds=(high - low) // dt.timedelta(seconds=2))
        if middle.astimezone(LONDON).utcoffset() == after:
            high = middle
        else:
            low = middle
    return high


@lru_cache(maxsize=65536)
def _local(day: dt.date, minutes: int, *, closing: bool = False) -> dt.datetime:
    """The instant, in UTC, of `minutes` of wall-clock time after local midnight of `day` (past 1440: a later day)."""
    return london_instant(dt.datetime.combine(day, dt.time(0)) + dt.timedelta(minutes=minutes), closing=closing)


def intervals(schedule: Schedule, start: dt.datetime, end: dt.datetime) -> list[tuple[dt.datetime, dt.datetime]]:
    """Merged opening intervals, in UTC, that overlap [start, end); a session that comes out empty (one wholly in
    the spring gap) is dropped, so it is never open and never a next opening."""
    first = start.astimezone(LONDON).date() - dt.timedelta(days=1)
    last = end.astimezone(LONDON).date()
    raw: list[tuple[dt.datetime, dt.datetime]] = []
    day = first
    while day <= last:
        for a, b in day_ranges(schedule, day):
            opens, closes = _local(day, a), _local(day, b, closing=True)
            if opens < closes:
                raw.append((opens, closes))
        day += dt.timedelta(days=1)
    raw.sort()
    merged: list[tuple[dt.datetime, dt.datetime]] = []
    for opens, closes in raw:
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return [(opens, closes) for opens, closes in merged if closes > start and opens < end]


def state_at(schedule: Schedule, at: dt.datetime) -> OpeningState:
    """Open now (and until when), or when it next opens, looking up to 8 days ahead of the current minute."""
    horizon = at.replace(second=0, microsecond=0) + HORIZON
    for a, b in intervals(schedule, at - dt.timedelta(days=1), horizon):
        if a <= at < b:
            return OpeningState(open_now=True, open_24_7=schedule.open_24_7, closes_at=b if b < horizon else None)
        if a > at:
            return OpeningState(open_now=False, next_opens_at=a)
    return OpeningState(open_now=False)


def open_within(state: OpeningState, at: dt.datetime, window: dt.timedelta) -> bool:
    return state.open_now or (state.next_opens_at is not None and state.next_opens_at <= at + window)


BANK_HOLIDAY_MONTHS = 13
"""How far ahead a bank-holiday rule is spelt out as dated days, where a standard cannot state the rule itself."""


def bank_holiday_days(schedule: Schedule, today: dt.date) -> list[tuple[dt.date, str, tuple[Hours, ...]]]:
    """Each bank holiday of the next 13 months on which the rule changes the hours (closed: none; special: its
    hours), with its name; a day with a dated exception is left out, as the exception takes precedence."""
    rule = schedule.bank_holidays
    if rule.mode == "normal" or schedule.open_24_7:
        return []
    excepted = {e.date for e in schedule.exceptions}
    hours = rule.hours if rule.mode == "special" else ()
    end = today + dt.timedelta(days=31 * BANK_HOLIDAY_MONTHS)
    return [(day, name, hours) for day, name in bank_holidays_between(today, end) if day not in excepted]


@lru_cache(maxsize=64)
def bank_holidays_between(start: dt.date, end: dt.date) -> tuple[tuple[dt.date, str], ...]:
    """England and Wales bank holidays from `start` to `end` inclusive, with their names, in date order (remembered:
    every published record asks for the same span, and building the calendar is most of the cost of one)."""
    calendar = holidays.country_holidays("GB", subdiv="ENG", years=range(start.year, end.year + 1))
    return tuple(sorted((day, str(name)) for day, name in calendar.items() if start <= day <= end))
