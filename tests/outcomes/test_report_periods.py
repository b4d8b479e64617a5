"""Reports cover whole months, quarters, calendar years and financial years only (service.outcomes.reports.period): any
other range is refused, naming the parameter as the client wrote it (`from`, `to`) with words that say what is
allowed."""

from __future__ import annotations

import datetime as dt

import pytest

from service.domain.errors import InvalidInput
from service.outcomes.reports import period

NOW = dt.datetime(2026, 12, 7, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("first", "last", "months"),
    [
        ("2026-03", "2026-03", 1),
        ("2026-04", "2026-06", 3),
        ("2026-01", "2026-12", 12),
        ("2025-04", "2026-03", 12),
        ("2026-04", "2027-03", 9),  # a financial year under way: its months up to this one
        ("2026-10", "2026-12", 3),
    ],
)
def test_a_month_a_quarter_a_calendar_year_and_a_financial_year_are_reports(first: str, last: str, months: int) -> None:
    when = period(first, last, NOW)
    assert (when.first, when.last, len(when.months)) == (first, last, months)
    assert when.months[0] == first


def test_the_default_is_this_calendar_year_and_months_begin_at_midnight_in_london() -> None:
    when = period(None, None, NOW)
    assert (when.first, when.last, when.months[-1]) == ("2026-01", "2026-12", "2026-12")
    summer = period("2026-07", "2026-09", NOW)
    assert summer.start == dt.datetime(2026, 6, 30, 23, tzinfo=dt.UTC)
    assert summer.end == dt.datetime(2026, 9, 30, 23, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("first", "last", "field", "words"),
    [
        ("2026-02", "2026-04", "to", "with from 2026-02 it must be 2026-02"),
        ("2026-01", "2026-11", "to", "it must be 2026-01 or 2026-03 or 2026-12"),
        ("2026-04", "2027-02", "to", "a financial year (April to March)"),
        ("2026-12", "2026-01", "to", "must not be before from"),
        ("2026-13", "2026-12", "from", "YYYY-MM"),
        ("2026-01", "2026-1", "to", "YYYY-MM"),
        ("1999-01", "1999-12", "from", "from 2000 to 2100"),
        ("2026-01", None, "to", "give it with from: 2026-01 or 2026-03 or 2026-12"),
        (None, "2026-03", "from", "give it with to: 2026-03 or 2026-01 or 2025-04"),
        ("2027-01", "2027-12", "from", "must not be after this month, 2026-12"),
    ],
)
def test_any_other_range_is_refused_naming_the_parameter_and_what_is_allowed(
    first: str | None, last: str | None, field: str, words: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        period(first, last, NOW)
    [problem] = refused.value.problems
    assert problem.field == field and words in problem.reason, problem
