"""The index's timeline (service/index/timeline.py) against the schedule rules (service/domain/schedule.py): at any
moment of the coming week, for many rows at once, the look-up gives exactly the state the rules give, across the
clock changes, bank holidays, overnight sessions and dated exceptions."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.model import BankHolidays, DatedException, Hours, Schedule, Session
from service.domain.schedule import HORIZON, OpeningState, state_at
from service.domain.types import Weekday
from service.index.timeline import WEEK, Opening, Timeline, spans_of
from tests.domain.test_clock_changes import service

UTC = dt.UTC
DAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
BUILDS = [
    dt.datetime(2026, 3, 27, 22, 0, tzinfo=UTC),  # the week holding the spring clock change and Easter
    dt.datetime(2026, 10, 21, 9, 30, tzinfo=UTC),  # the autumn clock change
    dt.datetime(2026, 12, 21, 4, 0, tzinfo=UTC),  # Christmas, Boxing Day and their substitute days
    dt.datetime(2027, 3, 26, 12, 0, tzinfo=UTC),  # the next spring change and Good Friday
    dt.datetime(2027, 8, 27, 18, 45, tzinfo=UTC),  # the summer bank holiday
    dt.datetime(2026, 12, 7, 7, 8, tzinfo=UTC),
]


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# Quarter hours, with the minutes either side of the clock changes' hours (00:59, 01:00, 01:30, 02:00) in reach.
times = st.one_of(
    st.integers(0, 95).map(lambda q: clock(q * 15)),
    st.sampled_from(["00:59", "01:00", "01:01", "01:30", "01:59", "02:00", "02:01", "23:59"]),
)
closings = st.one_of(times, st.just("24:00"))
hours = st.builds(Hours, opens=times, closes=closings)


@st.composite
def schedules(draw: st.DrawFn, around: dt.date) -> Schedule:
    if draw(st.integers(0, 9)) == 0:
        return Schedule(open_24_7=True, exceptions=tuple(draw(st.lists(exceptions(around), max_size=2))))
    weekly = draw(
        st.lists(st.builds(Session, day=st.sampled_from(DAYS), opens=times, closes=closings), min_size=0, max_size=9)
    )
    bank = draw(
        st.one_of(
            st.just(BankHolidays()),
            st.just(BankHolidays(mode="closed")),
            st.builds(BankHolidays, mode=st.just("special"), hours=st.lists(hours, max_size=2).map(tuple)),
        )
    )
    dated = draw(st.lists(exceptions(around), max_size=3, unique_by=lambda e: e.date))
    return Schedule(weekly=tuple(weekly), bank_holidays=bank, exceptions=tuple(dated))


def exceptions(around: dt.date) -> st.SearchStrategy[DatedException]:
    return st.builds(
        DatedException,
        date=st.integers(-2, 16).map(lambda k: around + dt.timedelta(days=k)),
        hours=st.lists(hours, max_size=2).map(tuple),
    )


def reference(o: Opening, i: int, always: bool) -> OpeningState:
    closes, upcoming = float(o.closes[i]), float(o.next_open[i])
    return OpeningState(
        open_now=bool(o.open_now[i]),
        open_24_7=always and bool(o.open_now[i]),
        closes_at=None if math.isnan(closes) else dt.datetime.fromtimestamp(closes, UTC),
        next_opens_at=None if math.isnan(upcoming) else dt.datetime.fromtimestamp(upcoming, UTC),
    )


def built(now: dt.datetime, chosen: list[Schedule], rows: list[int]) -> Timeline:
    timeline = Timeline(now)
    followed = [chosen[k] for k in rows]
    timeline.put(np.arange(len(rows)), followed, spans_of([service(s) for s in followed], timeline.t0, timeline.t1))
    return timeline


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_the_timeline_gives_every_row_the_state_the_schedule_rules_give_at_any_moment_of_the_coming_week(
    data: st.DataObject,
) -> None:
    now = data.draw(st.sampled_from(BUILDS))
    chosen = data.draw(st.lists(schedules(now.date()), min_size=1, max_size=5))
    rows = data.draw(st.lists(st.integers(0, len(chosen) - 1), min_size=1, max_size=12))
    timeline = built(now, chosen, rows)
    first, last = now - dt.timedelta(hours=23), now + WEEK
    edges = sorted(
        {
            edge
            for spans in spans_of([service(s) for s in chosen], first.timestamp(), last.timestamp())
            for span in spans
            for edge in span
        }
    )
    for _ in range(8):
        on_edge = data.draw(st.booleans())
        if edges and on_edge:  # on an opening or a closing, or a second or a minute either side
            edge = dt.datetime.fromtimestamp(data.draw(st.sampled_from(edges)), UTC)
            at = edge + dt.timedelta(seconds=data.draw(st.sampled_from([-60, -1, 0, 0, 1, 60])))
            at = min(max(at, first), last)
        else:
            minutes = data.draw(st.integers(-23 * 60, int(WEEK.total_seconds() // 60)))
            at = now + dt.timedelta(minutes=minutes, seconds=data.draw(st.sampled_from([0, 0, 1, 30, 59])))
        assert timeline.covers(at.timestamp())
        asked = np.array(data.draw(st.lists(st.integers(0, len(rows) - 1), min_size=1, max_size=len(rows))))
        o = timeline.at(asked, at.timestamp())
        for i, row in enumerate(asked.tolist()):
            s = chosen[rows[row]]
            expected = state_at(s, at)
            expected = OpeningState(
                open_now=expected.open_now,
                open_24_7=s.open_24_7 and expected.open_now,
                closes_at=expected.closes_at,
                next_opens_at=expected.next_opens_at,
            )
            assert reference(o, i, s.open_24_7) == expected, (s, at)


def test_a_row_looked_up_alone_or_among_many_gets_the_same_state() -> None:
    """Rows outnumbering schedules are worked out a schedule at a time; a few rows, row by row: the same answer."""
    now = BUILDS[0]
    chosen = [
        Schedule(open_24_7=True),
        Schedule(weekly=tuple(Session(day=d, opens="09:00", closes="17:00") for d in DAYS[:5])),
        Schedule(weekly=(Session(day="fri", opens="22:00", closes="02:00"),)),
    ]
    timeline = built(now, chosen, [0, 1, 2, 1, 1, 2, 0, 1])
    for hours_on in range(0, 24 * 7, 5):
        t = (now + dt.timedelta(hours=hours_on, minutes=7)).timestamp()
        together = timeline.at(np.arange(8), t)
        for row in range(8):
            alone = timeline.at(np.array([row]), t)
            assert alone.open_now[0] == together.open_now[row]
            np.testing.assert_array_equal(alone.closes, together.closes[[row]])
            np.testing.assert_array_equal(alone.next_open, together.next_open[[row]])


def test_a_row_whose_schedule_changes_follows_its_new_schedule() -> None:
    now = BUILDS[-1]
    closed = Schedule()
    always = Schedule(open_24_7=True)
    timeline = built(now, [closed, always], [0, 1])
    t = (now + dt.timedelta(days=3)).timestamp()
    assert timeline.at(np.arange(2), t).open_now.tolist() == [False, True]
    timeline.put(
        np.array([0, 1]), [always, closed], spans_of([service(always), service(closed)], timeline.t0, timeline.t1)
    )
    assert timeline.at(np.arange(2), t).open_now.tolist() == [True, False]
    assert timeline.schedules == 3  # the never-open row, and the two schedules


def test_the_timeline_covers_the_whole_coming_week_until_it_says_it_must_roll_on() -> None:
    now = BUILDS[-1]
    timeline = Timeline(now)
    hour = dt.timedelta(hours=1)
    for later in range(0, 24):  # within a day of its build, every moment of the coming week is a look-up
        moment = now + later * hour
        assert not timeline.rolls(moment.timestamp())
        assert timeline.covers((moment + WEEK).timestamp())
        assert timeline.covers(moment.timestamp())
    assert timeline.rolls((now + 2 * dt.timedelta(days=1)).timestamp())
    assert not timeline.covers((now + 2 * WEEK).timestamp())  # far ahead: the rules row by row
    assert timeline.t1 >= (now + WEEK + HORIZON).timestamp()
