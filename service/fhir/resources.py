"""A service as FHIR R4: HealthcareService, its Location and Organization, the Locations of its coverage area, and
our code lists as CodeSystems. Pure; the tests validate every resource with fhir.resources (R4B models, which match
R4 for these resources).

Where the codes live: `{base}/fhir/CodeSystem/{name}` for ours (needs, circumstances, kinds, roles, …); HL7's
service-referral-method where a method has a code there.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Mapping

import msgspec
import shapely

from service.domain.codes import FIXED
from service.domain.geometry import circle, to_shape
from service.domain.model import (
    AreaCatchment,
    Hours,
    NationalCatchment,
    PolygonCatchment,
    RadiusCatchment,
    Service,
    Session,
    Taxonomies,
)
from service.domain.pathway import role_of
from service.domain.review import REVIEW_MONTHS, review_of
from service.domain.schedule import bank_holiday_days
from service.fhir.resource_types import (
    Address,
    Attachment,
    AvailableTime,
    CodeableConcept,
    CodeSystem,
    Coding,
    Concept,
    ContactPoint,
    Eligibility,
    Extension,
    HealthcareService,
    Identifier,
    Location,
    Meta,
    NotAvailable,
    Organization,
    Period,
    Position,
    Reference,
    Resource,
)
from service.openreferral.attributes import stamp
from service.openreferral.mapping import ENGLAND_AND_WALES, service_at_location_id
from service.openreferral.terms import stable_id

REFERRAL_METHOD = "http://terminology.hl7.org/CodeSystem/service-referral-method"
HL7_METHODS = {"phone": "phone", "email": "semail", "form": "elec"}
BOUNDARY = "http://hl7.org/fhir/StructureDefinition/location-boundary-geojson"
GSS_SYSTEM = "http://statistics.data.gov.uk/id/statistical-geography"
LOCATION_TYPE = "http://terminology.hl7.org/CodeSystem/location-physical-type"


# --- code systems -----------------------------------------------------------------------------------------


def code_systems(vocab: Taxonomies, base: str) -> tuple[CodeSystem, ...]:
    """Our codes: the versioned needs and circumstances, and the fixed lists, each at {base}/fhir/CodeSystem/{id}."""
    out = [
        CodeSystem(
            id=t.name,
            url=system_url(base, t.name),
            version=str(t.version),
            name=t.name.capitalize(),
            title=f"ld-pathways {t.name}",
            status="active",
            content="complete",
            concept=tuple(Concept(code=c.code, display=c.label, definition=c.definition or None) for c in t.terms),
        )
        for t in (vocab.needs, vocab.circumstances)
    ]
    out += [
        CodeSystem(
            id=c.name,
            url=system_url(base, c.name),
            version="1",
            name="".join(w.capitalize() for w in c.name.split("-")),
            title=c.title,
            status="active",
            content="complete",
            concept=tuple(Concept(code=code, display=words) for code, words in c.words.items()),
        )
        for c in FIXED
    ]
    return tuple(out)


def system_url(base: str, name: str) -> str:
    return f"{base}/fhir/CodeSystem/{name}"


def _coded(base: str, system: str, code: str, display: Mapping[str, str]) -> CodeableConcept:
    words = display.get(code, code)
    return CodeableConcept(coding=(Coding(system=system_url(base, system), code=code, display=words),), text=words)


# --- resources --------------------------------------------------------------------------------------------


def organization_id(s: Service) -> str:
    return stable_id("organization", s.organisation)


def organization(s: Service) -> Organization:
    return Organization(id=organization_id(s), active=True, name=s.organisation)


def location_id(s: Service) -> str:
    return service_at_location_id(s)


def location(s: Service) -> Location | None:
    """Where the service is (None for a phone line with neither a point nor an address)."""
    a = s.contacts.address
    if s.location is None and a is None:
        return None
    return Location(
        id=location_id(s),
        status="active",
        name=s.name,
        mode="instance",
        address=Address(line=a.lines or None, city=a.town or None, postalCode=a.postcode, country="GB") if a else None,
        position=Position(longitude=s.location.lon, latitude=s.location.lat) if s.location else None,
        managingOrganization=Reference(reference=f"Organization/{organization_id(s)}", display=s.organisation),
    )


def area_location_id(code: str) -> str:
    return f"area-{code}"


def coverage(s: Service, area_names: Mapping[str, str]) -> tuple[Location, ...]:
    """The Locations a service's coverageArea refers to: stored areas by GSS code, or its own drawn catchment."""
    match s.catchment:
        case NationalCatchment():
            return (area_location(ENGLAND_AND_WALES, "England and Wales"),)
        case AreaCatchment(codes=codes):
            return tuple(area_location(c, area_names.get(c, c)) for c in codes)
        case PolygonCatchment(geometry=geometry):
            return (_drawn(s, shapely.to_geojson(to_shape(geometry))),)
        case RadiusCatchment(km=km):
            if s.location is None:
                return ()
            return (_drawn(s, shapely.to_geojson(circle(s.location.lon, s.location.lat, km)), f"Within {km:g} km"),)


def coverage_ids(s: Service) -> frozenset[str]:
    """The ids of the Locations `coverage` gives, without drawing them (for searches by coverage area)."""
    match s.catchment:
        case NationalCatchment():
            return frozenset((area_location_id(ENGLAND_AND_WALES).lower(),))
        case AreaCatchment(codes=codes):
            return frozenset(area_location_id(c).lower() for c in codes)
        case RadiusCatchment() if s.location is None:
            return frozenset()
        case _:
            return frozenset((f"catchment-{s.id}",))


def area_location(code: str, name: str) -> Location:
    return Location(
        id=area_location_id(code),
        identifier=(Identifier(system=GSS_SYSTEM, value=code),),
        status="active",
        name=name,
        mode="kind",
        physicalType=CodeableConcept(coding=(Coding(system=LOCATION_TYPE, code="area", display="Area"),)),
    )


def _drawn(s: Service, geojson: str, description: str = "The area drawn on the map") -> Location:
    data = base64.b64encode(geojson.encode()).decode()
    return Location(
        id=f"catchment-{s.id}",
        extension=(Extension(url=BOUNDARY, valueAttachment=Attachment(contentType="application/geo+json", data=data)),),
        status="active",
        name=f"Catchment of {s.name}"[:200],
        description=description,
        mode="kind",
        physicalType=CodeableConcept(coding=(Coding(system=LOCATION_TYPE, code="area", display="Area"),)),
    )


def healthcare_service(
    s: Service,
    base: str,
    vocab: Taxonomies,
    area_names: Mapping[str, str],
    today: dt.date,
    review_months: int = REVIEW_MONTHS,
) -> HealthcareService:
    needs = {t.code: t.label for t in vocab.needs.terms}
    circumstances = {t.code: t.label for t in vocab.circumstances.terms}
    words = {c.name: c.words for c in FIXED}
    located = location(s)
    covered = coverage(s, area_names)
    e = s.eligibility
    eligibility = [Eligibility(code=_coded(base, "needs", n, needs), comment="Needs met") for n in e.needs]
    eligibility += [
        Eligibility(code=_coded(base, "genders", g, words["genders"]), comment="Accepted") for g in e.genders
    ]
    eligibility += [
        Eligibility(code=_coded(base, "circumstances", c, circumstances), comment="Required")
        for c in e.circumstances_required
    ]
    eligibility += [
        Eligibility(code=_coded(base, "circumstances", c, circumstances), comment="Excluded")
        for c in e.circumstances_excluded
    ]
    if e.age.min is not None or e.age.max is not None:
        eligibility.append(Eligibility(code=CodeableConcept(text="Age"), comment=_age_words(e.age.min, e.age.max)))
    telecom = [ContactPoint(system="phone", value=p.number, use="work") for p in s.contacts.phones]
    telecom += [ContactPoint(system="email", value=s.contacts.email, use="work")] if s.contacts.email else []
    telecom += [ContactPoint(system="url", value=s.contacts.website, use="work")] if s.contacts.website else []
    characteristic = [_coded(base, "contexts", c, words["contexts"]) for c in s.contexts]
    characteristic += [_coded(base, "access-modes", a, words["access-modes"]) for a in s.access_modes]
    characteristic.append(_coded(base, "capacity", s.capacity.status, words["capacity"]))
    review = review_of(s.verification, today, review_months)
    said = _coded(base, "review-status", review.status, words["review-status"])
    characteristic.append(msgspec.structs.replace(said, text=review.text))  # "Details not checked since 3 March 2026"
    return HealthcareService(
        id=str(s.id),
        meta=Meta(lastUpdated=stamp(s.updated_at)),
        active=s.status == "active",
        providedBy=Reference(reference=f"Organization/{organization_id(s)}", display=s.organisation),
        category=(_coded(base, "pathway-roles", role_of(s.kind, s.pathway_role), words["pathway-roles"]),),
        type=(_coded(base, "service-kinds", s.kind, words["service-kinds"]),),
        location=(Reference(reference=f"Location/{located.id}"),) if located else None,
        name=s.name,
        comment=s.description or None,
        extraDetails=s.referral.instructions or None,
        telecom=tuple(telecom) or None,
        coverageArea=tuple(Reference(reference=f"Location/{c.id}", display=c.name) for c in covered) or None,
        eligibility=tuple(eligibility) or None,
        characteristic=tuple(characteristic),
        referralMethod=tuple(_method(base, m) for m in s.referral.methods) or None,
        appointmentRequired="appointment" in s.access_modes and "walk_in" not in s.access_modes,
        availableTime=available_times(s) or None,
        notAvailable=not_available(s, today) or None,
        availabilityExceptions=_bank_holiday_words(s),
    )


def _method(base: str, method: str) -> CodeableConcept:
    if method in HL7_METHODS:
        code = HL7_METHODS[method]
        return CodeableConcept(coding=(Coding(system=REFERRAL_METHOD, code=code),), text=method.replace("_", " "))
    return _coded(base, "referral-methods", method, {c.name: c.words for c in FIXED}["referral-methods"])


def _age_words(low: float | None, high: float | None) -> str:
    if low is not None and high is not None:
        return f"From {low:g} to under {high:g}"
    return f"From {low:g}" if low is not None else f"Under {high:g}"


def _time(hhmm: str) -> str:
    return f"{hhmm}:00"


def available_times(s: Service) -> tuple[AvailableTime, ...]:
    """Weekly sessions by opening and closing time; a session past midnight is two, one on each day."""
    if s.schedule.open_24_7:
        return (AvailableTime(daysOfWeek=("mon", "tue", "wed", "thu", "fri", "sat", "sun"), allDay=True),)
    spans: dict[tuple[str, str], list[str]] = {}
    for x in s.schedule.weekly:
        for day, opens, closes in _split(x):
            spans.setdefault((opens, closes), []).append(day)
    out = []
    for (opens, closes), days in spans.items():
        if opens == "00:00:00" and closes == "23:59:59":
            out.append(AvailableTime(daysOfWeek=tuple(days), allDay=True))
        else:
            out.append(AvailableTime(daysOfWeek=tuple(days), availableStartTime=opens, availableEndTime=closes))
    return tuple(out)


NEXT_DAY = {"mon": "tue", "tue": "wed", "wed": "thu", "thu": "fri", "fri": "sat", "sat": "sun", "sun": "mon"}


def _split(x: Session) -> list[tuple[str, str, str]]:
    if x.closes == "24:00" or (x.closes <= x.opens and x.closes == "00:00"):
        return [(x.day, _time(x.opens), "23:59:59")]
    if x.closes > x.opens:
        return [(x.day, _time(x.opens), _time(x.closes))]
    return [(x.day, _time(x.opens), "23:59:59"), (NEXT_DAY[x.day], "00:00:00", _time(x.closes))]


def not_available(s: Service, today: dt.date) -> tuple[NotAvailable, ...]:
    """Dated exceptions, and each bank holiday of the next 13 months when the service closes or keeps other hours."""
    out = [_dated(e.date, e.hours, e.note) for e in s.schedule.exceptions]
    out += [_dated(day, hours, f"Bank holiday: {name}") for day, name, hours in bank_holiday_days(s.schedule, today)]
    return tuple(out)


def _dated(day: dt.date, hours: tuple[Hours, ...], note: str) -> NotAvailable:
    opening = ", ".join(f"{h.opens} to {h.closes}" for h in hours)
    words = f"Open only {opening}" if hours else "Closed all day"
    return NotAvailable(
        description=f"{note}: {words}" if note else words,
        during=Period(start=day.isoformat(), end=(day + dt.timedelta(days=1)).isoformat()),
    )


def _bank_holiday_words(s: Service) -> str | None:
    match s.schedule.bank_holidays.mode:
        case "closed":
            return "Closed on bank holidays (England and Wales)."
        case "special":
            return "Different hours on bank holidays (England and Wales): see notAvailable."
        case _:
            return None


def encode(resource: Resource) -> bytes:
    return msgspec.json.encode(resource)
