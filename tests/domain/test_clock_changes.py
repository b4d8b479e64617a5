"""The clock changes, read by one rule everywhere: a wall-clock time that does not exist (spring forward) is the first
instant after the gap, and one that occurs twice (fall back) is its first occurrence for an opening and its second
for a closing. The reference rules (open now, closing time, next opening, the detention window) and the index's
timeline say the same, on both nights of 2026 and 2027."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterator
from typing import Any

import msgspec
import numpy as np
import pytest

from service.domain.model import Point, Schedule, Service
from service.domain.request import Person
from service.domain.routing import Situation, open_when_needed
from service.domain.schedule import LONDON, UTC, OpeningState, intervals, london_instant, open_within, state_at
from service.index.timeline import Timeline, opening_state, spans_of

SPRING = [dt.date(2026, 3, 29), dt.date(2027, 3, 28)]
"""The Sundays the clocks go forward: 01:00 GMT (01:00 UTC) becomes 02:00 BST."""
AUTUMN = [dt.date(2026, 10, 25), dt.date(2027, 10, 31)]
"""The Sundays the clocks go back: 02:00 BST (01:00 UTC) becomes 01:00 GMT, so 01:00-01:59 happens twice."""
MINUTE = dt.timedelta(minutes=1)
DAY = dt.timedelta(days=1)


def sundays(opens: str, closes: str, *more: tuple[str, str]) -> Schedule:
    sessions = [(opens, closes), *more]
    return msgspec.convert({"weekly": [{"day": "sun", "opens": a, "closes": b} for a, b in sessions]}, Schedule)


def saturday_nights(opens: str, closes: str) -> Schedule:
    return msgspec.convert({"weekly": [{"day": "sat", "opens": opens, "closes": closes}]}, Schedule)


def utc(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def wall(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """A wall-clock time in London on an ordinary day (no clock change)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=LONDON)


def service(schedule: Schedule) -> Service:
    at = dt.datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    fields: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "version": 1,
        "created_at": at,
        "updated_at": at,
        "slug": "line",
        "name": "Line",
        "organisation": "O",
        "kind": "other",
        "contexts": ["custody", "street", "court", "community"],
        "access_modes": ["phone"],
        "catchment": {"type": "national"},
        "eligibility": {"needs": ["mental_health"]},
        "schedule": msgspec.to_builtins(schedule),
    }
    return msgspec.convert(fields, Service)


class Timelined:
    """One schedule on the index's timeline, built as the index builds it, some hours before the night."""

    def __init__(self, schedule: Schedule, now: dt.datetime) -> None:
        self.schedule = schedule
        self.timeline = Timeline(now)
        self.timeline.put(np.arange(1), [schedule], spans_of([service(schedule)], self.timeline.t0, self.timeline.t1))

    def state_at(self, at: dt.datetime) -> OpeningState:
        t = at.timestamp()
        assert self.timeline.covers(t)
        o = self.timeline.at(np.arange(1), t)
        return opening_state(bool(o.open_now[0]), self.schedule.open_24_7, float(o.closes[0]), float(o.next_open[0]))


def minutes(start: dt.datetime, end: dt.datetime) -> Iterator[dt.datetime]:
    at = start
    while at < end:
        yield at
        at += MINUTE


def both_ways(schedule: Schedule, night: dt.date, at: dt.datetime) -> OpeningState:
    """The reference's state at `at`, having checked that the index's timeline says the same."""
    reference = state_at(schedule, at)
    assert Timelined(schedule, utc(night, 0) - DAY).state_at(at) == reference, at
    return reference


# --- the rule itself ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("night", SPRING)
def test_a_wall_clock_time_in_the_missing_hour_is_the_first_instant_after_it_for_opening_and_closing(
    night: dt.date,
) -> None:
    gap = dt.datetime.combine(night, dt.time(1, 30))
    assert london_instant(gap) == london_instant(gap, closing=True) == utc(night, 1, 0)
    assert london_instant(dt.datetime.combine(night, dt.time(2, 0))) == utc(night, 1, 0)
    assert london_instant(dt.datetime.combine(night, dt.time(0, 59))) == utc(night, 0, 59)


@pytest.mark.parametrize("night", AUTUMN)
def test_a_wall_clock_time_in_the_repeated_hour_opens_at_its_first_occurrence_and_closes_at_its_second(
    night: dt.date,
) -> None:
    twice = dt.datetime.combine(night, dt.time(1, 30))
    assert london_instant(twice) == utc(night, 0, 30)  # 01:30 BST
    assert london_instant(twice, closing=True) == utc(night, 1, 30)  # 01:30 GMT
    once = dt.datetime.combine(night, dt.time(2, 0))
    assert london_instant(once) == london_instant(once, closing=True) == utc(night, 2, 0)


# --- spring forward -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("night", SPRING)
def test_a_session_wholly_inside_the_missing_hour_never_opens_and_is_never_a_next_opening(night: dt.date) -> None:
    gap_only = sundays("01:30", "02:00")
    a_week_on = wall(night + 7 * DAY, 1, 30)
    assert intervals(gap_only, utc(night, 0) - DAY, utc(night, 0) + DAY) == []
    timeline = Timelined(gap_only, utc(night, 0) - DAY)
    for at in minutes(utc(night, 0) - 12 * dt.timedelta(hours=1), utc(night, 3)):
        for state in (state_at(gap_only, at), timeline.state_at(at)):
            assert state == OpeningState(open_now=False, next_opens_at=a_week_on), at


@pytest.mark.parametrize("night", SPRING)
def test_a_session_spanning_the_missing_hour_opens_at_0200_bst(night: dt.date) -> None:
    spanning = sundays("01:30", "03:00")
    before = both_ways(spanning, night, utc(night, 0, 59))
    assert not before.open_now and before.next_opens_at == utc(night, 1, 0)
    during = both_ways(spanning, night, utc(night, 1, 0))
    assert during.open_now and during.closes_at == utc(night, 2, 0)  # 03:00 BST: an hour, not an hour and a half
    assert during.closes_at.astimezone(LONDON).time() == dt.time(3, 0)


@pytest.mark.parametrize("night", SPRING)
def test_a_session_closing_inside_the_missing_hour_closes_when_the_clocks_go_forward(night: dt.date) -> None:
    closing_in_gap = sundays("00:30", "01:30")
    state = both_ways(closing_in_gap, night, utc(night, 0, 45))
    assert state.open_now and state.closes_at == utc(night, 1, 0)
    assert not both_ways(closing_in_gap, night, utc(night, 1, 0)).open_now


# --- fall back ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("night", AUTUMN)
def test_a_session_inside_the_repeated_hour_runs_from_its_first_opening_to_its_second_closing(night: dt.date) -> None:
    inside = sundays("01:15", "01:45")
    assert intervals(inside, utc(night, 0) - DAY, utc(night, 0) + DAY) == [(utc(night, 0, 15), utc(night, 1, 45))]
    assert both_ways(inside, night, utc(night, 0, 14)).next_opens_at == utc(night, 0, 15)  # the first 01:15
    for at in (utc(night, 0, 15), utc(night, 0, 50), utc(night, 1, 5), utc(night, 1, 44)):
        state = both_ways(inside, night, at)
        assert state.open_now and state.closes_at == utc(night, 1, 45), at  # the second 01:45
    assert not both_ways(inside, night, utc(night, 1, 45)).open_now


@pytest.mark.parametrize("night", AUTUMN)
def test_a_session_closing_in_the_repeated_hour_closes_at_its_second_occurrence(night: dt.date) -> None:
    late = saturday_nights("22:00", "01:30")
    state = both_ways(late, night, utc(night, 0, 45))
    assert state.open_now and state.closes_at == utc(night, 1, 30)  # 01:30 GMT
    assert (state.closes_at - wall(night - DAY, 22, 0)).total_seconds() == 4.5 * 3600  # an hour more


@pytest.mark.parametrize("night", AUTUMN)
def test_a_session_opening_in_the_repeated_hour_opens_at_its_first_occurrence(night: dt.date) -> None:
    early = sundays("01:30", "03:00")
    state = both_ways(early, night, utc(night, 0, 0))
    assert not state.open_now and state.next_opens_at == utc(night, 0, 30)  # 01:30 BST
    assert both_ways(early, night, utc(night, 0, 30)).closes_at == utc(night, 3, 0)  # 03:00 GMT: an hour more


# --- the detention window agrees with open now ----------------------------------------------------------------


@pytest.mark.parametrize("night", SPRING + AUTUMN)
@pytest.mark.parametrize(
    "schedule",
    [sundays("01:30", "02:00"), sundays("01:30", "03:00"), sundays("00:30", "01:30"), sundays("01:15", "01:45")],
    ids=["01:30-02:00", "01:30-03:00", "00:30-01:30", "01:15-01:45"],
)
def test_open_within_a_window_is_true_exactly_when_the_service_is_open_at_some_minute_of_it(
    night: dt.date, schedule: Schedule
) -> None:
    start, end = utc(night, 22) - DAY, utc(night, 4)
    open_minutes = {at for at in minutes(start, end) if state_at(schedule, at).open_now}
    timeline = Timelined(schedule, utc(night, 0) - DAY)
    window = dt.timedelta(minutes=40)
    for at in minutes(start, end - window):
        ever_open = any(at + k * MINUTE in open_minutes for k in range(41))
        for state in (state_at(schedule, at), timeline.state_at(at)):
            assert open_within(state, at, window) == ever_open, at
            assert open_within(state, at, dt.timedelta(0)) == (at in open_minutes), at


# --- the reproduction -------------------------------------------------------------------------------

SATURDAY_NOON = dt.datetime(2027, 3, 27, 12, 0, tzinfo=UTC)


def situation(context: str, at: dt.datetime) -> Situation:
    return Situation(
        person=msgspec.convert({"age": 30, "needs": ["mental_health"]}, Person),
        context=context,  # type: ignore[arg-type]
        at=at,
        origin=Point(lon=-0.36, lat=53.76),
        origin_areas=frozenset(),
        detention_window=dt.timedelta(hours=24),
    )


def test_a_line_open_only_in_the_missing_hour_is_not_offered_in_custody_the_day_before() -> None:
    line = sundays("01:30", "02:00")
    for state in (state_at(line, SATURDAY_NOON), Timelined(line, SATURDAY_NOON - DAY).state_at(SATURDAY_NOON)):
        assert state.next_opens_at != dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
        assert not open_within(state, SATURDAY_NOON, dt.timedelta(hours=24))
    reason = open_when_needed(service(line), situation("custody", SATURDAY_NOON), state_at(line, SATURDAY_NOON))
    assert reason is not None and reason.code == "CLOSED_IN_WINDOW"
    for street_at in (dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC), dt.datetime(2027, 3, 28, 1, 45, tzinfo=UTC)):
        reason = open_when_needed(service(line), situation("street", street_at), state_at(line, street_at))
        assert reason is not None and reason.code == "CLOSED_NOW"


def test_the_same_line_with_a_real_session_later_that_sunday_is_offered_for_that_one() -> None:
    line = sundays("01:30", "02:00", ("09:00", "10:00"))
    nine_bst = dt.datetime(2027, 3, 28, 8, 0, tzinfo=UTC)
    for state in (state_at(line, SATURDAY_NOON), Timelined(line, SATURDAY_NOON - DAY).state_at(SATURDAY_NOON)):
        assert state.next_opens_at == nine_bst
        assert open_within(state, SATURDAY_NOON, dt.timedelta(hours=24))
    assert open_when_needed(service(line), situation("custody", SATURDAY_NOON), state_at(line, SATURDAY_NOON)) is None


def test_the_timeline_never_holds_an_empty_interval() -> None:
    line = service(sundays("01:30", "02:00", ("09:00", "10:00")))
    t0 = dt.datetime(2027, 3, 20, tzinfo=UTC).timestamp()
    (spans,) = spans_of([line], t0, t0 + 21 * 86400)
    assert spans and all(a < b for a, b in spans)
    assert not any(math.isclose(a, dt.datetime(2027, 3, 28, 1, 30, tzinfo=UTC).timestamp()) for a, _ in spans)


def test_a_time_in_the_repeated_october_hour_is_written_with_its_zone_and_any_other_time_without() -> None:
    from service.domain.reasons import local_time

    assert local_time(dt.datetime(2026, 10, 25, 0, 45, tzinfo=dt.UTC)) == "Sun 25 Oct 01:45 BST"
    assert local_time(dt.datetime(2026, 10, 25, 1, 45, tzinfo=dt.UTC)) == "Sun 25 Oct 01:45 GMT"
    assert local_time(dt.datetime(2026, 10, 25, 3, 45, tzinfo=dt.UTC)) == "Sun 25 Oct 03:45"
    assert local_time(dt.datetime(2027, 3, 28, 1, 0, tzinfo=dt.UTC)) == "Sun 28 Mar 02:00"
