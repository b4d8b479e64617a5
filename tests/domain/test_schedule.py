"""Opening times: precedence, sessions past midnight, clock changes, bank holidays and exceptions."""

from __future__ import annotations

import datetime as dt

import msgspec

from service.domain.model import Schedule
from service.domain.schedule import LONDON, UTC, is_bank_holiday, open_within, state_at


def schedule(**fields: object) -> Schedule:
    return msgspec.convert(fields, Schedule)


def london(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=LONDON)


NIGHTS = schedule(weekly=[{"day": d, "opens": "22:00", "closes": "02:00"} for d in ("fri", "sat")])
OFFICE = schedule(
    weekly=[{"day": d, "opens": "09:00", "closes": "17:00"} for d in ("mon", "tue", "wed", "thu", "fri")],
    bank_holidays={"mode": "closed"},
)


def test_a_22_to_02_session_is_open_after_midnight_on_the_next_day() -> None:
    state = state_at(NIGHTS, london(2026, 11, 21, 1, 30))  # Saturday 01:30, Friday's session
    assert state.open_now and state.closes_at == london(2026, 11, 21, 2, 0)


def test_a_22_to_02_session_is_closed_at_03_and_next_opens_at_22() -> None:
    state = state_at(NIGHTS, london(2026, 11, 21, 3, 0))
    assert not state.open_now and state.next_opens_at == london(2026, 11, 21, 22, 0)


def test_the_night_the_clocks_go_forward_a_22_to_02_session_lasts_three_hours() -> None:
    # Sunday 29 March 2026: 01:00 GMT becomes 02:00 BST.
    start = state_at(NIGHTS, london(2026, 3, 28, 21, 0)).next_opens_at
    assert start == london(2026, 3, 28, 22, 0)
    closes = state_at(NIGHTS, london(2026, 3, 28, 23, 0)).closes_at
    assert closes is not None and (closes - start).total_seconds() == 3 * 3600
    assert closes.astimezone(LONDON).hour == 2


def test_the_night_the_clocks_go_back_a_22_to_02_session_lasts_five_hours() -> None:
    # Sunday 25 October 2026: 02:00 BST becomes 01:00 GMT; 01:30 happens twice, and both are open.
    closes = state_at(NIGHTS, london(2026, 10, 24, 23, 0)).closes_at
    assert closes is not None and (closes - london(2026, 10, 24, 22, 0)).total_seconds() == 5 * 3600
    first_0130 = dt.datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 01:30 BST
    second_0130 = dt.datetime(2026, 10, 25, 1, 30, tzinfo=UTC)  # 01:30 GMT
    assert state_at(NIGHTS, first_0130).open_now and state_at(NIGHTS, second_0130).open_now


def test_office_hours_follow_utc_offsets_across_the_clock_change() -> None:
    assert state_at(OFFICE, london(2026, 3, 27, 9, 30)).open_now  # Friday, GMT
    assert state_at(OFFICE, london(2026, 3, 30, 9, 30)).open_now  # Monday, BST
    assert state_at(OFFICE, dt.datetime(2026, 3, 30, 8, 30, tzinfo=UTC)).open_now  # 09:30 BST


def test_a_bank_holiday_closes_a_service_that_closes_on_bank_holidays() -> None:
    assert is_bank_holiday(dt.date(2026, 12, 28))  # Boxing Day (substitute)
    state = state_at(OFFICE, london(2026, 12, 28, 10, 0))
    assert not state.open_now and state.next_opens_at == london(2026, 12, 29, 9, 0)


def test_special_bank_holiday_hours_replace_the_weekly_ones() -> None:
    special = schedule(
        weekly=[{"day": "mon", "opens": "09:00", "closes": "17:00"}],
        bank_holidays={"mode": "special", "hours": [{"opens": "10:00", "closes": "12:00"}]},
    )
    easter_monday = dt.date(2026, 4, 6)
    assert is_bank_holiday(easter_monday)
    assert not state_at(special, london(2026, 4, 6, 9, 30)).open_now
    assert state_at(special, london(2026, 4, 6, 11, 0)).closes_at == london(2026, 4, 6, 12, 0)


def test_normal_bank_holiday_mode_keeps_the_weekly_hours() -> None:
    normal = schedule(weekly=[{"day": "mon", "opens": "09:00", "closes": "17:00"}])
    assert state_at(normal, london(2026, 4, 6, 10, 0)).open_now


def test_an_exception_date_overrides_everything_including_24_7() -> None:
    closed_day = schedule(open_24_7=True, exceptions=[{"date": "2026-12-25"}])
    assert not state_at(closed_day, london(2026, 12, 25, 12, 0)).open_now
    assert state_at(closed_day, london(2026, 12, 25, 12, 0)).next_opens_at == london(2026, 12, 26, 0, 0)
    short = schedule(
        open_24_7=True, exceptions=[{"date": "2026-12-24", "hours": [{"opens": "08:00", "closes": "12:00"}]}]
    )
    assert state_at(short, london(2026, 12, 24, 9, 0)).closes_at == london(2026, 12, 24, 12, 0)


def test_open_24_7_beats_bank_holidays_and_has_no_closing_time() -> None:
    always = schedule(open_24_7=True, bank_holidays={"mode": "closed"})
    state = state_at(always, london(2026, 12, 25, 3, 0))
    assert state.open_now and state.open_24_7 and state.closes_at is None


def test_an_exception_with_hours_on_a_normally_closed_day_opens_it() -> None:
    weekend = schedule(
        weekly=[{"day": "mon", "opens": "09:00", "closes": "17:00"}],
        exceptions=[{"date": "2026-11-22", "hours": [{"opens": "10:00", "closes": "14:00"}]}],
    )
    assert state_at(weekend, london(2026, 11, 22, 11, 0)).open_now  # a Sunday


def test_a_service_with_no_hours_never_opens() -> None:
    state = state_at(schedule(), london(2026, 11, 22, 11, 0))
    assert state == state.__class__(open_now=False)


def test_open_within_a_window_counts_a_later_opening() -> None:
    at = london(2026, 11, 21, 3, 0)
    state = state_at(NIGHTS, at)
    assert open_within(state, at, dt.timedelta(hours=24))
    assert not open_within(state, at, dt.timedelta(hours=12))
