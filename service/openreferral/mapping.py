"""A service as Open Referral UK 3.0 (HSDS 3.0 with the UK profile): pure, one function per HSDS entity.

Every field HSDS holds goes to its HSDS place; every other field goes to attributes (service/openreferral/terms.py),
so that nothing is dropped and the importer (service/openreferral/importing.py) can read the directory back. The README
has the table. Phones go to both: HSDS's `phones` for any consumer (the UK profile drops them but allows them), and
attributes with every flag for the importer. Ids of the records we make (locations, schedules, service areas, phones,
attributes) are UUID 5 of the service's id and what they are, so they are the same in every export.

Whoever reads, the service given is the one their audience may see: an anonymous reader's has no professionals-only
numbers (service/domain/audience.py, applied in service/openreferral/published.py), so neither its `phones` nor its
attributes carry one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import msgspec
import shapely

from service.domain.geometry import circle
from service.domain.model import (
    AreaCatchment,
    Hours,
    NationalCatchment,
    Phone,
    PolygonCatchment,
    RadiusCatchment,
    Schedule,
    Service,
)
from service.domain.review import REVIEW_MONTHS, Review, checked_on, review_of
from service.domain.schedule import bank_holiday_days
from service.openreferral import hsds
from service.openreferral.attributes import attributes, stamp
from service.openreferral.terms import stable_id

STATUS: Mapping[str, str] = {"active": "active", "temporarily_closed": "temporarily closed", "closed": "inactive"}
"""Our status to HSDS's (the importer reads "inactive" and "defunct" as closed)."""
BYDAY: Mapping[str, str] = {"mon": "MO", "tue": "TU", "wed": "WE", "thu": "TH", "fri": "FR", "sat": "SA", "sun": "SU"}
GSS_URI = "http://statistics.data.gov.uk/id/statistical-geography/"
"""The ONS's persistent URI for a GSS area code, the service area's `uri` for an area catchment."""
AREA_URN = "urn:ld-pathways:area:"
"""The service area's `uri` for an area whose code is not a GSS code (a custom area)."""
ENGLAND_AND_WALES = "K04000001"
PHONE_TYPE = "voice"
"""HSDS's phone `type` (RFC 6350's words) for every number we hold: numbers to call."""
ANSWERED_24_HOURS = "Answered 24 hours a day."
PROFESSIONALS_ONLY = "For professionals only."
"""The sentences a phone's HSDS `description` ends with, after its label, for our two flags (the importer reads them
back when our attributes are absent: service/openreferral/reading.py)."""


@dataclass(frozen=True)
class Publishing:
    """What a service's HSDS record needs besides the service: our terms, the areas, and the time of publication."""

    terms: dict[str, dict[str, hsds.TaxonomyTerm]]
    area_names: Mapping[str, str]
    area_extents: Mapping[str, str]
    """GeoJSON of each area's boundary, simplified (the area's `uri` names the exact one)."""
    vocab_modified: Mapping[str, dt.datetime]
    """When the needs and the circumstances taxonomies last changed: a service using them was modified then too."""
    today: dt.date
    review_months: int = REVIEW_MONTHS
    """Months after a check by which a service is due for review (its `alert` says when it is overdue)."""


def gss_uri(code: str) -> str:
    is_gss = len(code) == 9 and code[0] in "EWSNK" and code[1:].isdigit()
    return f"{GSS_URI}{code}" if is_gss else f"{AREA_URN}{code}"


def last_modified(s: Service, p: Publishing) -> dt.datetime:
    latest = s.updated_at
    e = s.eligibility
    if (e.needs or s.fallback_for_needs) and "needs" in p.vocab_modified:
        latest = max(latest, p.vocab_modified["needs"])
    if (e.circumstances_required or e.circumstances_excluded) and "circumstances" in p.vocab_modified:
        latest = max(latest, p.vocab_modified["circumstances"])
    return latest


def organization(s: Service) -> hsds.Organization:
    return hsds.Organization(id=stable_id("organization", s.organisation), name=s.organisation, description="")


def listed(s: Service, p: Publishing) -> hsds.ListedService:
    """The one-to-one fields (a /services page without `full`)."""
    age = s.eligibility.age
    return hsds.ListedService(
        id=str(s.id),
        organization_id=stable_id("organization", s.organisation),
        name=s.name,
        description=s.description or None,
        url=s.contacts.website,
        email=s.contacts.email,
        status=STATUS[s.status],
        minimum_age=age.min,
        maximum_age=None if age.max is None else age.max - 1,
        assured_date=checked_on(s.verification).isoformat() if s.verification else None,
        alert=_alert(s, review_of(s.verification, p.today, p.review_months)),
        last_modified=stamp(last_modified(s, p)),
        organization=organization(s),
    )


def full(s: Service, p: Publishing) -> hsds.Service:
    """The fully nested service (/services/{id}, and pages with `full=true`)."""
    one = listed(s, p)
    location = service_location(s)
    return hsds.Service(
        **{f: getattr(one, f) for f in hsds.ListedService.__struct_fields__},
        phones=tuple(phones(s)) or None,
        schedules=tuple(schedules(s, p.today)) or None,
        service_areas=tuple(service_areas(s, p)) or None,
        service_at_locations=(service_at_location(s, location),) if location else None,
        attributes=tuple(attributes(s, p.terms, review_of(s.verification, p.today, p.review_months))) or None,
    )


def _alert(s: Service, review: Review) -> str | None:
    """HSDS's short-term notice: a temporary closure, and details past their review date (a feed's consumers show
    `alert`; few read our attributes)."""
    said = ["Temporarily closed."] if s.status == "temporarily_closed" else []
    if review.overdue:
        said.append(f"{review.text}.")
    return " ".join(said) or None


# --- phones -----------------------------------------------------------------------------------------------


def phones(s: Service) -> list[hsds.HsdsPhone]:
    """The service's numbers as HSDS phones, in order: the label and the flags in words in `description`. Only the
    service has them: we hold no contacts, and a service's one location has no numbers of its own."""
    sid = str(s.id)
    seen: dict[tuple[str, str], int] = {}
    out: list[hsds.HsdsPhone] = []
    for phone in s.contacts.phones:
        key = (phone.number, phone.label)
        repeat = seen[key] = seen.get(key, -1) + 1
        out.append(
            hsds.HsdsPhone(
                id=stable_id("phone", sid, phone.number, phone.label, *([str(repeat)] if repeat else [])),
                number=phone.number,
                type=PHONE_TYPE,
                description=phone_description(phone),
            )
        )
    return out


def phone_description(phone: Phone) -> str | None:
    """The label as it is, or with a sentence for each flag set after it: "Crisis line. Answered 24 hours a day. For
    professionals only."."""
    flags = [ANSWERED_24_HOURS] if phone.twenty_four_hour else []
    flags += [PROFESSIONALS_ONLY] if phone.professionals_only else []
    label = phone.label
    if flags and label and not label.endswith((".", "!", "?")):
        label += "."
    return " ".join([label, *flags] if label else flags) or None


# --- locations --------------------------------------------------------------------------------------------


def service_location(s: Service, *, with_address: bool = True) -> hsds.Location | None:
    """Where the service is, when it has a point or an address (a phone line has neither)."""
    address = s.contacts.address
    if s.location is None and address is None:
        return None
    location_id = stable_id("location", str(s.id))
    addresses = None
    if address is not None and with_address:
        addresses = (
            hsds.Address(
                id=stable_id("address", str(s.id)),
                location_id=location_id,
                address_1=", ".join(address.lines),
                city=address.town,
                state_province=_nation(s),
                postal_code=address.postcode or "",
                country="GB",
                address_type="physical",
            ),
        )
    return hsds.Location(
        id=location_id,
        location_type="physical",
        name=s.name,
        latitude=s.location.lat if s.location else None,
        longitude=s.location.lon if s.location else None,
        addresses=addresses,
    )


def _nation(s: Service) -> str:
    """Wales for a service whose catchment names a Welsh area (GSS codes W…), else England."""
    match s.catchment:
        case AreaCatchment(codes=codes) if any(c.startswith("W") for c in codes):
            return "Wales"
        case _:
            return "England"


def service_at_location_id(s: Service) -> str:
    return stable_id("service_at_location", str(s.id))


def service_at_location(s: Service, location: hsds.Location) -> hsds.ServiceAtLocation:
    return hsds.ServiceAtLocation(
        id=service_at_location_id(s), service_id=str(s.id), location_id=location.id, location=location
    )


# --- schedules --------------------------------------------------------------------------------------------


def hsds_time(hhmm: str) -> str:
    """HH:MM to HSDS's HH:MM:SS; our 24:00 closing is 00:00, which HSDS (and we) read as midnight at the end."""
    return "00:00:00" if hhmm == "24:00" else f"{hhmm}:00"


def schedules(s: Service, today: dt.date) -> list[hsds.Schedule]:
    """Weekly sessions as WEEKLY rules (one per opening and closing time, its days in BYDAY); open 24/7 as one rule
    over every day; dated exceptions and, for a bank-holiday rule, each bank holiday of the next 13 months as a
    schedule valid on that date alone (no hours: closed)."""
    sid = str(s.id)
    schedule = s.schedule
    out: list[hsds.Schedule] = []
    if schedule.open_24_7:
        out.append(
            hsds.Schedule(
                id=derived_schedule_id(sid, "open_24_7"),
                service_id=sid,
                freq="WEEKLY",
                interval=1,
                byday=",".join(BYDAY.values()),
                opens_at="00:00:00",
                closes_at="00:00:00",
                description="Open 24 hours a day, 7 days a week.",
            )
        )
    days: dict[tuple[str, str], list[str]] = {}
    for session in schedule.weekly:
        days.setdefault((session.opens, session.closes), []).append(session.day)
    for (opens, closes), on in days.items():
        out.append(
            hsds.Schedule(
                id=stable_id("schedule", sid, opens, closes),
                service_id=sid,
                freq="WEEKLY",
                interval=1,
                byday=",".join(BYDAY[d] for d in on),
                opens_at=hsds_time(opens),
                closes_at=hsds_time(closes),
                description=f"{', '.join(d.capitalize() for d in on)}: {opens} to {closes}.",
            )
        )
    for exception in schedule.exceptions:
        out += _dated(sid, exception.date, exception.hours, exception.note, stable_id("exception", sid))
    out += _bank_holidays(sid, schedule, today)
    return out


def derived_schedule_id(sid: str, what: str) -> str:
    """Schedules spelt out from a rule HSDS cannot state (24/7, bank holidays): the importer knows them by id."""
    return stable_id("derived", sid, what)


def _dated(sid: str, day: dt.date, hours: tuple[Hours, ...], note: str, prefix: str) -> list[hsds.Schedule]:
    iso = day.isoformat()
    if not hours:
        return [
            hsds.Schedule(
                id=stable_id(prefix, iso),
                service_id=sid,
                valid_from=iso,
                valid_to=iso,
                dtstart=iso,
                description=f"Closed all day on {iso}.",
                notes=note or None,
            )
        ]
    return [
        hsds.Schedule(
            id=stable_id(prefix, iso, str(i)),
            service_id=sid,
            valid_from=iso,
            valid_to=iso,
            dtstart=iso,
            opens_at=hsds_time(h.opens),
            closes_at=hsds_time(h.closes),
            description=f"On {iso}: {h.opens} to {h.closes}.",
            notes=note or None,
        )
        for i, h in enumerate(hours)
    ]


def _bank_holidays(sid: str, schedule: Schedule, today: dt.date) -> list[hsds.Schedule]:
    prefix = derived_schedule_id(sid, "bank_holiday")
    out: list[hsds.Schedule] = []
    for day, name, hours in bank_holiday_days(schedule, today):
        out += _dated(sid, day, hours, f"Bank holiday: {name}", prefix)
    return out


# --- service areas ----------------------------------------------------------------------------------------


def service_areas(s: Service, p: Publishing) -> list[hsds.ServiceArea]:
    sid = str(s.id)
    match s.catchment:
        case NationalCatchment():
            return [
                hsds.ServiceArea(
                    id=stable_id("service_area", sid, "national"),
                    service_id=sid,
                    name="England and Wales",
                    service_area="Anywhere in England and Wales.",
                    uri=gss_uri(ENGLAND_AND_WALES),
                )
            ]
        case AreaCatchment(codes=codes):
            return [
                hsds.ServiceArea(
                    id=stable_id("service_area", sid, code),
                    service_id=sid,
                    name=p.area_names.get(code, code),
                    service_area=f"Anywhere in {p.area_names.get(code, code)}.",
                    uri=gss_uri(code),
                    extent=p.area_extents.get(code),
                    extent_type="geojson" if code in p.area_extents else None,
                )
                for code in codes
            ]
        case PolygonCatchment(geometry=geometry):
            return [
                hsds.ServiceArea(
                    id=stable_id("service_area", sid, "polygon"),
                    service_id=sid,
                    name="The area drawn on the map",
                    extent=msgspec.json.encode(geometry).decode(),
                    extent_type="geojson",
                )
            ]
        case RadiusCatchment(km=km):
            extent = None
            if s.location is not None:
                shape = shapely.set_precision(circle(s.location.lon, s.location.lat, km), 1e-6)
                extent = shapely.to_geojson(shape)
            return [
                hsds.ServiceArea(
                    id=stable_id("service_area", sid, "radius"),
                    service_id=sid,
                    name=f"Within {km:g} km of the service",
                    extent=extent,
                    extent_type="geojson" if extent else None,
                )
            ]
