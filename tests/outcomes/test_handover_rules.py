"""Handovers to health, without a database: what a record keeps of one (whole minutes rounded down, the hour of
arrival, never a time of day), which handovers are refused and naming which field, and the handover table's rows
(counts shown by the reports' rule, the share from shown counts, the median only beside a shown count)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.domain.errors import InvalidInput
from service.domain.schedule import LONDON
from service.outcomes.recording import FUTURE_SLACK, handover_of
from service.outcomes.records import LONGEST_HANDOVER, Handover, HandoverTimes, kept_handover
from service.outcomes.suppression import share, shown
from service.outcomes.tables import HandoverTable, handover_csv, handover_row, median_minutes

NOW = dt.datetime(2026, 12, 7, 19, 30, tzinfo=dt.UTC)
EARLIEST = dt.datetime(2024, 12, 7, 19, 30, tzinfo=dt.UTC)


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def test_a_handover_is_kept_as_whole_minutes_rounded_down_and_the_hour_of_arrival() -> None:
    kept = kept_handover(at("2026-07-01T14:37:12+01:00"), at("2026-07-01T15:49:11+01:00"))
    assert kept == Handover(minutes=71, arrived_hour=at("2026-07-01T13:00:00+00:00"))
    assert kept_handover(at("2026-07-01T14:00:00Z"), at("2026-07-01T14:59:59.999Z")).minutes == 59
    assert kept_handover(at("2026-07-01T14:00:00Z"), at("2026-07-01T15:00:00Z")).minutes == 60
    assert kept_handover(at("2026-07-01T14:10:00Z"), at("2026-07-01T14:10:00Z")).minutes == 0


def test_a_time_without_an_offset_is_london_time_and_a_clock_change_is_counted_in_real_minutes() -> None:
    summer = kept_handover(at("2026-07-01T14:37:00"), at("2026-07-01T15:07:00"))
    assert summer == Handover(minutes=30, arrived_hour=at("2026-07-01T13:00:00Z"))  # BST: 14:37 is 13:37 UTC
    winter = kept_handover(at("2026-01-15T23:59:00"), at("2026-01-16T00:30:00"))
    assert winter == Handover(minutes=31, arrived_hour=at("2026-01-15T23:00:00Z"))
    # The clocks go back at 02:00 BST on 25 October 2026: 00:30 BST to 01:10 GMT is 100 minutes, not 40.
    assert kept_handover(at("2026-10-25T00:30:00+01:00"), at("2026-10-25T01:10:00+00:00")).minutes == 100


moments = st.datetimes(
    min_value=dt.datetime(2000, 1, 2), max_value=dt.datetime(2100, 12, 30), timezones=st.just(dt.UTC)
)


@given(arrived=moments, wait=st.integers(0, int(LONGEST_HANDOVER.total_seconds() * 1_000_000)))
def test_whatever_the_times_the_minutes_are_the_floor_and_the_hour_has_no_minutes_or_seconds(
    arrived: dt.datetime, wait: int
) -> None:
    handed_over = arrived + dt.timedelta(microseconds=wait)
    kept = kept_handover(arrived, handed_over)
    assert kept.minutes == wait // 60_000_000
    assert (kept.arrived_hour.minute, kept.arrived_hour.second, kept.arrived_hour.microsecond) == (0, 0, 0)
    assert kept.arrived_hour <= arrived < kept.arrived_hour + dt.timedelta(hours=1)
    assert kept.arrived_hour.utcoffset() == dt.timedelta(0)


def times(arrived: str, handed_over: str) -> HandoverTimes:
    return HandoverTimes(arrived_at=at(arrived), handed_over_at=at(handed_over))


@pytest.mark.parametrize(
    ("arrived", "handed_over", "field"),
    [
        ("2026-12-01T10:00:00Z", "2026-12-01T09:59:00Z", "handed_over_at"),  # before the arrival
        ("2026-11-01T10:00:00Z", "2026-11-04T10:01:00Z", "handed_over_at"),  # more than 72 hours
        ("1999-12-31T23:00:00Z", "2026-12-01T10:00:00Z", "arrived_at"),
        ("2026-12-01T10:00:00Z", "2101-01-01T00:00:00Z", "handed_over_at"),
        ("0001-01-01T00:00:00+14:00", "2026-12-01T10:00:00Z", "arrived_at"),  # would overflow in UTC
        ("2026-12-01T10:00:00Z", "9999-12-31T23:59:59-14:00", "handed_over_at"),
        ("2026-12-07T21:00:00Z", "2026-12-07T21:30:00Z", "arrived_at"),  # ahead of now
        ("2026-12-07T19:00:00Z", "2026-12-07T20:00:00Z", "handed_over_at"),
        ("2024-12-07T19:59:00Z", "2024-12-07T21:00:00Z", "arrived_at"),  # its hour is before the retention period
        ("2024-12-07T18:59:00", "2024-12-07T21:00:00", "arrived_at"),  # 18:59 London time, in winter
    ],
)
def test_a_handover_is_refused_naming_the_field(arrived: str, handed_over: str, field: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        handover_of(times(arrived, handed_over), NOW, EARLIEST, "handover.")
    assert [p.field for p in refused.value.problems] == [f"handover.{field}"]
    with pytest.raises(InvalidInput) as again:
        handover_of(times(arrived, handed_over), NOW, EARLIEST)
    assert [p.field for p in again.value.problems] == [field]


def test_a_handover_at_the_edges_of_what_is_allowed_is_kept() -> None:
    longest = handover_of(times("2026-11-01T10:00:00Z", "2026-11-04T10:00:00Z"), NOW, EARLIEST)
    assert longest.minutes == LONGEST_HANDOVER // dt.timedelta(minutes=1)
    ahead = NOW + FUTURE_SLACK
    assert handover_of(HandoverTimes(arrived_at=NOW, handed_over_at=ahead), NOW, EARLIEST).minutes == 10
    oldest = handover_of(times("2024-12-07T20:00:00Z", "2024-12-07T20:45:00Z"), NOW, EARLIEST)
    assert oldest.arrived_hour == at("2024-12-07T20:00:00Z")  # the first whole hour of the retention period
    local = handover_of(times("2026-06-10T23:30:00", "2026-06-11T00:45:00"), NOW, EARLIEST)
    assert local == Handover(minutes=75, arrived_hour=at("2026-06-10T22:00:00Z"))


def test_a_row_shows_counts_by_the_rule_the_share_of_shown_counts_and_the_median_only_beside_shown_counts() -> None:
    both = handover_row("E23000012", "Humberside", "2026-03", (24, 7), (12, 3), 64.5)
    assert (both.handovers, both.within_hour) == (shown(24, 7), shown(12, 3))
    assert both.share_within_hour == share(both.within_hour, both.handovers) and both.median_minutes == 65
    few_in_time = handover_row("E23000012", "Humberside", "2026-03", (24, 7), (3, 3), 80.0)
    assert few_in_time.within_hour is None and few_in_time.share_within_hour is None
    assert few_in_time.median_minutes is None  # a median of an hour or less would bound the concealed part
    few = handover_row("E23000012", "Humberside", "2026-04", (4, 9), (2, 3), 45.0)
    assert (few.handovers, few.within_hour, few.share_within_hour, few.median_minutes) == (None, None, None, None)
    none = handover_row("E23000012", "Humberside", None, (0, 0), (0, 0), None)
    assert (none.handovers, none.median_minutes) == (None, None)
    table = HandoverTable(
        rows_by="area",
        period_from="2026-03",
        period_to="2026-04",
        areas=("E23000012",),
        rows=(both, few),
        totals=(handover_row("E23000012", "Humberside", None, (24, 7), (3, 3), 80.0),),
        synthetic=0,
    )
    lines = handover_csv(table).splitlines()
    assert lines[0] == "area,area_name,month,handovers,within_hour,share,median_minutes"
    assert lines[2] == "E23000012,Humberside,2026-04,[c],[c],[c],[c]"
    assert lines[3].startswith("E23000012,Humberside,total,") and lines[3].endswith(",[c],[c],[c]")


def test_a_median_is_given_in_whole_minutes_halves_rounded_up() -> None:
    assert [median_minutes(m) for m in (70.0, 70.5, 70.49, 0.0, None)] == [70, 71, 70, 0, None]


def test_the_hour_of_arrival_is_kept_in_utc_whatever_the_offset_given() -> None:
    kept = kept_handover(at("2026-03-29T00:30:00+00:00"), at("2026-03-29T03:15:00+01:00"))  # across spring forward
    assert kept == Handover(minutes=105, arrived_hour=at("2026-03-29T00:00:00Z"))
    assert kept.arrived_hour.astimezone(LONDON).hour == 0


def test_the_part_within_the_hour_is_never_shown_beside_a_concealed_whole_nor_a_share_above_one() -> None:
    for n in range(0, 60):
        for m in range(0, n + 1):
            for key in (1, 7, 100_000, 900_000):
                row = handover_row("E23000012", "Humberside", None, (n, key), (m, key * 3 + 1), 55.0)
                if row.handovers is None:
                    assert row.within_hour is None and row.median_minutes is None
                if row.within_hour is None:
                    assert row.share_within_hour is None and row.median_minutes is None
                assert row.share_within_hour is None or row.share_within_hour <= 1
