"""The review report: how many services are overdue for a check, by police force area, as of today.

A service counts under each force its catchment reaches: a force or district in its areas (a district under its
force; an area in no force, such as a custom one, under itself), the force holding its location for a radius, every
force a drawn catchment meets; a national service under "England and Wales". The counts are of services, not people:
nothing here needs suppressing.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from collections.abc import Iterable

import msgspec

from service.domain.geometry import to_shape
from service.domain.model import AreaCatchment, NationalCatchment, PolygonCatchment, RadiusCatchment, Service
from service.domain.review import review_of
from service.index.places import Places

NATIONAL = "national"
DUE_SOON_DAYS = 30


class AreaReviews(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    """A police force area's code, or "national" for services covering England and Wales."""
    name: str
    services: int
    overdue: int
    """Past their review date, or never checked (counted again in never_checked)."""
    never_checked: int
    due_soon: int
    """Within their review date, but due within 30 days."""


class ReviewReport(msgspec.Struct, frozen=True, kw_only=True):
    as_of: dt.date
    review_months: int
    """Months after a check by which a service is due again (PATHWAYS_REVIEW_MONTHS), unless an editor set sooner."""
    services: int
    overdue: int
    areas: tuple[AreaReviews, ...]
    """Most overdue first. A service whose catchment reaches two forces counts under both."""
    note: str = (
        "Services (not people) whose details are past their review date, by the police force areas their catchments "
        "reach. An overdue service still takes part in searches, flagged with the date it was last checked."
    )


def forces_of(s: Service, places: Places) -> frozenset[str]:
    """The police force areas a service's catchment reaches ("national" for England and Wales)."""
    match s.catchment:
        case NationalCatchment():
            return frozenset({NATIONAL})
        case AreaCatchment(codes=codes):
            return frozenset(places.force_of(c) or c for c in codes)  # an area in no force counts as itself
        case RadiusCatchment():
            if s.location is None:
                return frozenset()
            force = places.resolve_point(s.location.lon, s.location.lat).force
            return frozenset({force.code}) if force else frozenset()
        case PolygonCatchment(geometry=geometry):
            shape = to_shape(geometry)
            hits = places.area_tree.query(shape, predicate="intersects")
            return frozenset(places.areas[i].code for i in hits.tolist() if places.areas[i].kind == "police_force_area")
    return frozenset()


def review_report(
    services: Iterable[Service], places: Places, today: dt.date, months: int, areas: frozenset[str] | None = None
) -> ReviewReport:
    """The counts as of `today`, for the forces in `areas` (None: all, and national services)."""
    names = {a.code: a.name for a in places.areas} | {NATIONAL: "England and Wales (national services)"}
    counted: dict[str, Counter[str]] = {}
    total = overdue_total = 0
    soon = today + dt.timedelta(days=DUE_SOON_DAYS)
    for s in services:
        forces = forces_of(s, places)
        if areas is not None:
            forces = frozenset(f for f in forces if f in areas)
            if not forces:
                continue
        review = review_of(s.verification, today, months)
        total += 1
        overdue_total += review.overdue
        for force in forces:
            c = counted.setdefault(force, Counter())
            c["services"] += 1
            c["overdue"] += review.overdue
            c["never_checked"] += review.status == "never_checked"
            c["due_soon"] += not review.overdue and review.due is not None and review.due <= soon
    rows = [
        AreaReviews(
            code=code,
            name=names.get(code, code),
            services=c["services"],
            overdue=c["overdue"],
            never_checked=c["never_checked"],
            due_soon=c["due_soon"],
        )
        for code, c in counted.items()
    ]
    rows.sort(key=lambda r: (-r.overdue, -r.due_soon, r.name))
    return ReviewReport(as_of=today, review_months=months, services=total, overdue=overdue_total, areas=tuple(rows))


def review_csv(report: ReviewReport) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["area_code", "area_name", "services", "overdue", "never_checked", "due_within_30_days", "as_of"])
    for r in report.areas:
        writer.writerow([r.code, r.name, r.services, r.overdue, r.never_checked, r.due_soon, report.as_of.isoformat()])
    return out.getvalue()
