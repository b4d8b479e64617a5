"""When a service's details must be checked again, and how every answer says it.

A directory is only as safe as its freshness: the NHS Directory of Services keeps a next-verification date per
service, and users of directories ask for re-checks every 6 to 12 months. "Last updated" is not "last checked":
imports and edits change the first; only a check (an editor's "Mark as checked today", or a record arriving with its
own `verification`) changes the second.

A service is due for review `months` after its last check (PATHWAYS_REVIEW_MONTHS, 6 by default), or on the sooner
date an editor set (`verification.review_by`). A service never checked is due at once. An overdue service still
takes part in searches (a stale number beats no pathway at 3 a.m.), but everything that shows it carries the flag and
says since when its details have not been checked. Days are England and Wales's calendar days.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from typing import Literal

from msgspec import Struct

from service.domain.model import Service, Verification
from service.domain.schedule import LONDON

REVIEW_MONTHS = 6
"""The default period between checks."""

ReviewStatus = Literal["checked", "overdue", "never_checked"]


class Review(Struct, frozen=True, kw_only=True, gc=False):
    """Whether a service's details are within their review date, in a form programs and people both read."""

    status: ReviewStatus
    """checked: within its review date; overdue: past it; never_checked: no check is recorded."""
    overdue: bool
    """Past its review date or never checked: the details may be out of date."""
    checked_on: dt.date | None
    """The day of the last check (England and Wales)."""
    due: dt.date | None
    """The day by which it must be checked again; none when it never was."""
    text: str
    """E.g. "Details not checked since 3 March 2026"."""


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` later, or the month's last day when it has fewer (31 August + 6 months: 28 February)."""
    total = day.month - 1 + months
    year, month = day.year + total // 12, total % 12 + 1
    if year > dt.MAXYEAR:
        return dt.date.max
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def checked_on(verification: Verification) -> dt.date:
    return verification.verified_at.astimezone(LONDON).date()


def due_date(verification: Verification | None, months: int = REVIEW_MONTHS) -> dt.date | None:
    """The day by which the details must be checked again: `months` after the last check, or the editor's sooner
    date; none for a service never checked (due at once)."""
    if verification is None:
        return None
    by_period = add_months(checked_on(verification), months)
    sooner = verification.review_by
    return min(by_period, sooner) if sooner is not None else by_period


def day_words(day: dt.date) -> str:
    """3 March 2026."""
    return f"{day.day} {day:%B %Y}"


def review_of(verification: Verification | None, today: dt.date, months: int = REVIEW_MONTHS) -> Review:
    """The review state on `today`: overdue the day after its due date."""
    due = due_date(verification, months)
    if verification is None or due is None:
        return Review(
            status="never_checked",
            overdue=True,
            checked_on=None,
            due=None,
            text="Details never checked: confirm them before relying on them",
        )
    last = checked_on(verification)
    if today > due:
        return Review(
            status="overdue",
            overdue=True,
            checked_on=last,
            due=due,
            text=f"Details not checked since {day_words(last)}: confirm them before relying on them",
        )
    return Review(status="checked", overdue=False, checked_on=last, due=due, text=f"Details checked {day_words(last)}")


def london_today(now: dt.datetime) -> dt.date:
    """The calendar day in England and Wales at an instant."""
    return now.astimezone(LONDON).date()


def most_due_first(services: Iterable[Service], today: dt.date, months: int = REVIEW_MONTHS) -> list[Service]:
    """An editor's list, what is due first: never checked, then by review date (overdue the longest first), then
    by name."""

    def key(s: Service) -> tuple[dt.date, str, str]:
        return (due_date(s.verification, months) or dt.date.min, s.name.lower(), s.slug)

    return sorted(services, key=key)
