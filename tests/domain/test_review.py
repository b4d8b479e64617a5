"""When a service is due for review, and the words every answer uses (service/domain/review.py)."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from hypothesis import given
from hypothesis import strategies as st

from service.domain.model import Service, Verification
from service.domain.review import add_months, due_date, most_due_first, review_of
from service.domain.validation import review_by_problems
from tests.api.helpers import SERVICE

CHECKED = dt.datetime(2026, 3, 3, 10, 0, tzinfo=dt.UTC)


def checked(at: dt.datetime = CHECKED, review_by: dt.date | None = None) -> Verification:
    return Verification(verified_at=at, verified_by="An editor", review_by=review_by)


def test_a_service_is_due_six_months_after_its_last_check_by_default() -> None:
    assert due_date(checked()) == dt.date(2026, 9, 3)


def test_the_review_period_is_a_setting() -> None:
    assert due_date(checked(), months=12) == dt.date(2027, 3, 3)


def test_a_check_on_the_31st_is_due_on_the_last_day_of_a_shorter_month() -> None:
    assert add_months(dt.date(2026, 8, 31), 6) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 8, 31), 6) == dt.date(2028, 2, 29)


def test_an_editors_sooner_date_wins_and_a_later_one_changes_nothing() -> None:
    assert due_date(checked(review_by=dt.date(2026, 5, 1))) == dt.date(2026, 5, 1)
    assert due_date(checked(review_by=dt.date(2027, 1, 1))) == dt.date(2026, 9, 3)


def test_the_day_is_england_and_waless_a_check_at_2330_utc_in_summer_is_the_next_day() -> None:
    late = dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC)  # 00:30 BST on 1 July
    assert review_of(checked(late), dt.date(2026, 7, 1)).checked_on == dt.date(2026, 7, 1)


def test_a_service_is_overdue_the_day_after_its_due_date_and_not_on_it() -> None:
    assert not review_of(checked(), dt.date(2026, 9, 3)).overdue
    late = review_of(checked(), dt.date(2026, 9, 4))
    assert late.overdue and late.status == "overdue"
    assert late.text == "Details not checked since 3 March 2026: confirm them before relying on them"


def test_a_service_never_checked_is_overdue_and_says_so() -> None:
    never = review_of(None, dt.date(2026, 12, 7))
    assert never.overdue and never.status == "never_checked" and never.due is None
    assert never.text.startswith("Details never checked")


def test_a_service_within_its_date_says_when_it_was_checked() -> None:
    fresh = review_of(checked(), dt.date(2026, 4, 1))
    assert not fresh.overdue and fresh.text == "Details checked 3 March 2026" and fresh.due == dt.date(2026, 9, 3)


def test_a_date_to_check_again_must_come_after_the_check() -> None:
    assert review_by_problems(CHECKED, dt.date(2026, 3, 3))[0].field == "verification.review_by"
    assert review_by_problems(CHECKED, dt.date(2026, 3, 4)) == []
    assert review_by_problems(CHECKED, dt.date(2101, 1, 1)) != []
    assert review_by_problems(CHECKED, None) == []


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2100, 12, 31)), st.integers(1, 36))
def test_the_due_date_is_always_within_the_period_and_never_before_the_check(day: dt.date, months: int) -> None:
    due = add_months(day, months)
    assert day < due <= day + dt.timedelta(days=31 * months)
    assert due.day <= day.day


def test_the_editors_list_puts_never_checked_then_the_longest_overdue_first() -> None:
    def one(slug: str, name: str, v: Verification | None) -> Service:
        body = {**SERVICE, "slug": slug, "name": name, "verification": msgspec.to_builtins(v) if v else None}
        now = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
        extra = {"id": str(uuid.uuid4()), "version": 1, "created_at": now, "updated_at": now}
        return msgspec.convert({**body, **extra}, Service)

    services = [
        one("fresh", "A fresh", checked(dt.datetime(2026, 11, 1, tzinfo=dt.UTC))),
        one("old", "B old", checked(dt.datetime(2026, 1, 1, tzinfo=dt.UTC))),
        one("never", "C never", None),
        one("older", "D older", checked(dt.datetime(2025, 6, 1, tzinfo=dt.UTC))),
    ]
    ordered = most_due_first(services, dt.date(2026, 12, 7))
    assert [s.slug for s in ordered] == ["never", "older", "old", "fresh"]
