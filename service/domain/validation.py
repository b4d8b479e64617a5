"""Rules a service, area or site must meet beyond what its types say. Pure: the caller supplies the taxonomies."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable

import msgspec

from service.domain.decoding import join_path
from service.domain.errors import FieldProblem
from service.domain.geometry import geometry_problems, point_problems
from service.domain.model import (
    AgeRange,
    AreaBody,
    BankHolidays,
    Capacity,
    PolygonCatchment,
    RadiusCatchment,
    Schedule,
    ServiceBody,
    SiteBody,
)
from service.domain.schedule import LONDON

# Access modes that need a place to go to; phone lines and outreach teams need no location.
ACCESS_NEEDING_LOCATION = frozenset({"handover", "walk_in"})

MAX_CATCHMENT_VERTICES = 5_000
"""A drawn catchment: plenty for a hand-drawn shape. Official boundaries belong in areas, referred to by code."""
MAX_AREA_VERTICES = 200_000
"""An area's boundary: room for full-resolution official boundaries, not for a denial of service."""
MAX_SERVICE_BYTES = 256 * 1024
"""One service, as JSON. Lists return 50 services a page by default, so this bounds a page too."""
MAX_CAPACITY_HOURS = 120
"""A capacity status lasts at most this long, after which it reads as unknown (as in the NHS Directory of Services)."""
EARLIEST = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
"""No date the directory records is older than this: anything earlier is a typo, and dates at the ends of the
calendar overflow arithmetic."""
LATEST_DATE = dt.date(2100, 12, 31)
CLOCK_SKEW = dt.timedelta(minutes=5)
"""How far ahead of our clock another system's "now" may be."""


def capacity_problems(
    capacity: Capacity, now: dt.datetime, field: str = "capacity", *, future: bool = False
) -> list[FieldProblem]:
    """`until` at most 120 hours ahead; when a provider sets capacity now (`future`), it must also be ahead of now.
    A past `until` in a stored or imported record is harmless: the status simply reads as unknown."""
    until = capacity.until
    if until is None:
        return []
    latest = now + dt.timedelta(hours=MAX_CAPACITY_HOURS)
    if future and not now < until <= latest:
        return [
            FieldProblem(
                field=join_path(field, "until"),
                reason=f"must be in the future and at most {MAX_CAPACITY_HOURS} hours away",
            )
        ]
    if not EARLIEST <= until <= latest:
        return [
            FieldProblem(
                field=join_path(field, "until"),
                reason=f"must be after 2000 and at most {MAX_CAPACITY_HOURS} hours away",
            )
        ]
    return []


def age_range_problems(age: AgeRange, field: str) -> list[FieldProblem]:
    if age.min is not None and age.max is not None and age.min >= age.max:
        return [
            FieldProblem(
                field=f"{field}.min",
                reason=f"min ({age.min}) must be below max ({age.max}); max is exclusive",
            )
        ]
    return []


def unknown_code_problems(codes: Iterable[str], known: frozenset[str], field: str, what: str) -> list[FieldProblem]:
    return [
        FieldProblem(field=f"{field}[{i}]", reason=f"unknown {what} {code!r}")
        for i, code in enumerate(codes)
        if code not in known
    ]


def duplicate_problems(values: Iterable[object], field: str) -> list[FieldProblem]:
    counts = Counter(values)
    return [FieldProblem(field=field, reason=f"{v!r} is listed more than once") for v, n in counts.items() if n > 1]


def _hours_problems(opens: str, closes: str, field: str) -> list[FieldProblem]:
    if opens == closes:
        return [
            FieldProblem(field=field, reason="opens and closes are equal; use 00:00-24:00 for a whole day or open_24_7")
        ]
    return []


def _bank_holiday_problems(rule: BankHolidays, field: str) -> list[FieldProblem]:
    if rule.mode == "special" and not rule.hours:
        return [FieldProblem(field=f"{field}.hours", reason="special bank holiday hours need at least one range")]
    if rule.mode != "special" and rule.hours:
        return [
            FieldProblem(field=f"{field}.hours", reason=f"hours are only used when mode is special, not {rule.mode}")
        ]
    return []


def schedule_problems(schedule: Schedule, field: str = "schedule") -> list[FieldProblem]:
    problems: list[FieldProblem] = []
    for i, s in enumerate(schedule.weekly):
        problems += _hours_problems(s.opens, s.closes, f"{field}.weekly[{i}]")
    for i, h in enumerate(schedule.bank_holidays.hours):
        problems += _hours_problems(h.opens, h.closes, f"{field}.bank_holidays.hours[{i}]")
    problems += _bank_holiday_problems(schedule.bank_holidays, f"{field}.bank_holidays")
    for i, e in enumerate(schedule.exceptions):
        if not EARLIEST.date() <= e.date <= LATEST_DATE:
            problems.append(FieldProblem(field=f"{field}.exceptions[{i}].date", reason="must be between 2000 and 2100"))
        for j, h in enumerate(e.hours):
            problems += _hours_problems(h.opens, h.closes, f"{field}.exceptions[{i}].hours[{j}]")
    problems += duplicate_problems((e.date.isoformat() for e in schedule.exceptions), f"{field}.exceptions")
    return problems


def service_problems(
    body: ServiceBody, needs: frozenset[str], circumstances: frozenset[str], now: dt.datetime
) -> list[FieldProblem]:
    """Every problem with a service body that its types cannot express."""
    el = body.eligibility
    problems = age_range_problems(el.age, "eligibility.age")
    problems += unknown_code_problems(el.needs, needs, "eligibility.needs", "need")
    problems += unknown_code_problems(
        el.circumstances_required, circumstances, "eligibility.circumstances_required", "circumstance"
    )
    problems += unknown_code_problems(
        el.circumstances_excluded, circumstances, "eligibility.circumstances_excluded", "circumstance"
    )
    both = sorted(set(el.circumstances_required) & set(el.circumstances_excluded))
    if both:
        problems.append(
            FieldProblem(
                field="eligibility.circumstances_excluded",
                reason=f"{', '.join(both)} cannot be both required and excluded",
            )
        )
    problems += duplicate_problems(el.needs, "eligibility.needs")
    problems += unknown_code_problems(body.fallback_for_needs, needs, "fallback_for_needs", "need")
    problems += duplicate_problems(body.fallback_for_steps, "fallback_for_steps")
    problems += [
        FieldProblem(field=f"general_entry_for[{i}]", reason=f"{c!r} is not one of the service's contexts")
        for i, c in enumerate(body.general_entry_for)
        if c not in body.contexts
    ]
    if body.group_pathway and not (
        el.age.min is not None or el.age.max is not None or el.genders or el.circumstances_required
    ):
        reason = "a group pathway needs an age band, genders or required circumstances to say who the group is"
        problems.append(FieldProblem(field="group_pathway", reason=reason))
    problems += duplicate_problems(body.contexts, "contexts")
    problems += duplicate_problems(body.access_modes, "access_modes")
    if body.location is not None:
        problems += point_problems(body.location, "location")
    elif ACCESS_NEEDING_LOCATION & set(body.access_modes):
        problems.append(
            FieldProblem(field="location", reason="a service with handover or walk-in access needs a location")
        )
    match body.catchment:
        case RadiusCatchment() if body.location is None:
            problems.append(FieldProblem(field="catchment", reason="a radius catchment needs the service location"))
        case PolygonCatchment(geometry=geometry):
            problems += geometry_problems(geometry, "catchment.geometry", MAX_CATCHMENT_VERTICES)
        case _:
            pass
    problems += schedule_problems(body.schedule)
    problems += capacity_problems(body.capacity, now)
    size = len(msgspec.json.encode(body))
    if size > MAX_SERVICE_BYTES:
        problems.append(
            FieldProblem(field="body", reason=f"the service is {size:,} bytes as JSON; at most {MAX_SERVICE_BYTES:,}")
        )
    if body.verification is not None and not EARLIEST <= body.verification.verified_at <= now + CLOCK_SKEW:
        problems.append(
            FieldProblem(field="verification.verified_at", reason="must be after 2000 and not in the future")
        )
    if body.verification is not None:
        problems += review_by_problems(body.verification.verified_at, body.verification.review_by)
    return problems


def review_by_problems(
    checked: dt.datetime, review_by: dt.date | None, field: str = "verification.review_by"
) -> list[FieldProblem]:
    """A date to check again comes after the check it follows (a day it could fall on), and before 2101."""
    if review_by is None or checked.astimezone(LONDON).date() < review_by <= LATEST_DATE:
        return []
    return [FieldProblem(field=field, reason="must be after the day the details were checked, and before 2101")]


def area_problems(area: AreaBody) -> list[FieldProblem]:
    return geometry_problems(area.boundary, "boundary", MAX_AREA_VERTICES)


def site_problems(site: SiteBody) -> list[FieldProblem]:
    return point_problems(site.location, "location") + duplicate_problems(site.area_codes, "area_codes")
