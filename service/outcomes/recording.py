"""From a referral as sent (NewReferral) to the record kept (NewRecord): the service found, the origin placed as a
site or as the district and force of a point (never the point), the age banded, the codes checked, the time kept to
the hour, a handover kept as whole minutes and the hour of arrival, and the warnings it carries (the service full or
closed at that moment: recorded all the same). The API and the page's "Record referral" both come through here, and a
handover recorded later (POST /v1/referrals/{id}/handover) is judged by the same rules (`handover_of`)."""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid

from msgspec import Struct

from service.domain.answer import Reason
from service.domain.bands import age_band
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.model import Service
from service.domain.request import SiteOrigin
from service.domain.schedule import LONDON
from service.domain.validation import EARLIEST
from service.index.columns import unknown_codes
from service.index.engine import DirectoryIndex
from service.index.places import Resolution
from service.outcomes.records import (
    LONGEST_HANDOVER,
    AreaOrigin,
    BandedPerson,
    Handover,
    HandoverTimes,
    NewRecord,
    NewReferral,
    Placed,
    ReferralOrigin,
    handover_problem,
    in_london,
    kept_handover,
    retention_cutoff,
    to_the_hour,
)
from service.outcomes.referral_warnings import referral_warnings, standing_at
from service.search.entry import Geocoder, resolve_origin

FUTURE_SLACK = dt.timedelta(minutes=10)
"""A referral may be dated a little ahead (clocks differ), not later."""


class Recording(Struct, frozen=True, kw_only=True):
    """A referral ready to keep, with what stood in its way at its moment: `warnings` for the API's answer, and
    `standing` in words for the page's "<service> is ... Record the referral anyway?"."""

    record: NewRecord
    warnings: tuple[Reason, ...] = ()
    standing: tuple[str, ...] = ()


def find_service(index: DirectoryIndex, key: str) -> Service:
    service = index.by_slug.get(key)
    if service is None:
        with contextlib.suppress(ValueError):
            row = index.row_of.get(uuid.UUID(key))
            service = None if row is None else index.services[row]
    if service is None:
        raise InvalidInput((FieldProblem(field="service", reason=f"unknown service {key!r}"),))
    return service


def _placed(where: Resolution, site_id: object = None, site_slug: str | None = None) -> Placed:
    district = next((a.code for a in where.areas if a.kind == "local_authority"), None)
    force = where.force.code if where.force else None
    return Placed(site_id=site_id, site_slug=site_slug, force_code=force, district_code=district)  # type: ignore[arg-type]


def _area(index: DirectoryIndex, origin: AreaOrigin) -> Placed:
    area = next((a for a in index.places.areas if a.code == origin.code), None)
    shape = index.places.area_shape(origin.code)
    if area is None or shape is None:
        raise InvalidInput((FieldProblem(field="origin.code", reason=f"unknown area {origin.code!r}"),))
    if area.kind == "police_force_area":
        return Placed(force_code=area.code)
    return Placed(force_code=index.places.force_of(area.code), district_code=area.code)


async def new_record(
    index: DirectoryIndex, body: NewReferral, geocoder: Geocoder | None, now: dt.datetime, retention_months: int
) -> Recording:
    """The record to keep and its warnings, or InvalidInput naming the field (422): a referral is dated within the
    retention period (PATHWAYS_REFERRAL_RETENTION_MONTHS) and not ahead of now. The warnings judge the service at
    the moment given, not the hour kept."""
    given = (body.origin is not None, body.context is not None, body.person is not None)
    if body.search is not None and any(given):
        raise InvalidInput((FieldProblem(field="search", reason="give either search, or origin, context and person"),))
    service = find_service(index, body.service)
    origin: ReferralOrigin
    if body.search is not None:
        search = body.search
        origin, context, at = search.origin, search.context, search.at or body.at
        p = search.person
        person = BandedPerson(age_band=age_band(p.age), gender=p.gender, needs=p.needs, circumstances=p.circumstances)
        prefix = "search."
    else:
        missing = [name for name, there in zip(("origin", "context", "person"), given, strict=True) if not there]
        if missing:
            raise InvalidInput(tuple(FieldProblem(field=m, reason="required (or give search)") for m in missing))
        assert body.origin is not None and body.context is not None and body.person is not None
        origin, context, person, at, prefix = body.origin, body.context, body.person, body.at, ""
    problems = unknown_codes(index.vocab, person.needs, person.circumstances, prefix + "person")
    if problems:
        raise InvalidInput(tuple(problems))
    field = "search.at" if body.search is not None and body.search.at else "at"
    earliest = retention_cutoff(retention_months, now)
    when = _when(at, now, field, earliest)
    handover = None if body.handover is None else handover_of(body.handover, now, earliest, "handover.")
    if handover is not None and (problem := handover_problem(context, when, handover, "handover.")) is not None:
        raise InvalidInput((problem,))
    match origin:
        case AreaOrigin():
            placed = _area(index, origin)
        case SiteOrigin(site=key):
            site, where = index.places.resolve_site(key)
            placed = _placed(where, site.id, site.slug)
        case _:
            where, _, _ = await resolve_origin(index, origin, geocoder)
            placed = _placed(where)
    record = NewRecord(
        service_id=service.id,
        service_slug=service.slug,
        service_name=service.name,
        placed=placed,
        context=context,
        made_at=to_the_hour(when),
        age_band=person.age_band,
        gender=person.gender,
        needs=person.needs,
        circumstances=person.circumstances,
        repeat_contact=body.repeat_contact,
        handover=handover,
    )
    warnings, standing = referral_warnings(service, context, when), standing_at(service, context, when)
    return Recording(record=record, warnings=warnings, standing=standing)


def _when(at: dt.datetime | None, now: dt.datetime, field: str, earliest: dt.datetime) -> dt.datetime:
    if at is None:
        return now
    if at.year < EARLIEST.year or at.year > 2100:
        raise InvalidInput((FieldProblem(field=field, reason="must be between 2000 and 2100"),))
    if at.tzinfo is None:
        at = at.replace(tzinfo=LONDON)  # as a search reads it
    if at > now + FUTURE_SLACK:
        raise InvalidInput((FieldProblem(field=field, reason="a referral cannot be recorded ahead of time"),))
    if to_the_hour(at) < earliest:  # it would be deleted within the hour, and is more likely a date of birth
        reason = f"before the retention period: referrals are kept from {earliest:%Y-%m-%d %H:%M} UTC"
        raise InvalidInput((FieldProblem(field=field, reason=reason),))
    return at


def handover_of(times: HandoverTimes, now: dt.datetime, earliest: dt.datetime, prefix: str = "") -> Handover:
    """The handover to keep, or InvalidInput naming the field (`prefix` + arrived_at or handed_over_at, 422): both
    times in 2000-2100, neither ahead of now, the handover not before the arrival nor more than LONGEST_HANDOVER after
    it, and the arrival within the retention period (`earliest`, as a referral's `at`)."""

    def refuse(name: str, reason: str) -> InvalidInput:
        return InvalidInput((FieldProblem(field=prefix + name, reason=reason),))

    # The years first, before any arithmetic: moments at the ends of the calendar overflow it.
    for name, moment in (("arrived_at", times.arrived_at), ("handed_over_at", times.handed_over_at)):
        if not EARLIEST.year <= moment.year <= 2100:
            raise refuse(name, "must be between 2000 and 2100")
    arrived, handed_over = in_london(times.arrived_at), in_london(times.handed_over_at)
    if arrived > now + FUTURE_SLACK:
        raise refuse("arrived_at", "a handover cannot be recorded ahead of time")
    if handed_over > now + FUTURE_SLACK:
        raise refuse("handed_over_at", "a handover cannot be recorded ahead of time")
    if handed_over < arrived:
        raise refuse("handed_over_at", "must not be before arrived_at")
    kept = kept_handover(arrived, handed_over)
    if handed_over - arrived > LONGEST_HANDOVER:  # the real wait, not its whole minutes
        hours = LONGEST_HANDOVER // dt.timedelta(hours=1)
        raise refuse("handed_over_at", f"more than {hours} hours after arrived_at: is the day or the month right?")
    if kept.arrived_hour < earliest:  # it would be deleted within the hour
        reason = f"before the retention period: referrals are kept from {earliest:%Y-%m-%d %H:%M} UTC"
        raise refuse("arrived_at", reason)
    return kept
