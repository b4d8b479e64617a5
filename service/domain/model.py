"""The directory model: services, areas and sites, as frozen msgspec Structs.

Field names follow the domain. docs/mapping in the README shows how they map to Open Referral UK (HSDS 3.0)
and FHIR R4 HealthcareService.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from msgspec import Meta, Struct

from service.domain.types import (
    SINGLE_LINE,
    AccessMode,
    AgeYears,
    AreaCode,
    AreaKind,
    AwareDateTime,
    BankHolidayMode,
    CapacityStatus,
    ClockTime,
    CloseTime,
    Code,
    Context,
    Email,
    Gender,
    Lat,
    Lon,
    LongText,
    Minutes,
    Name,
    PathwayRole,
    PhoneNumber,
    Postcode,
    Priority,
    ReferralMethod,
    Referrer,
    ServiceKind,
    ServiceStatus,
    ShortText,
    SiteKind,
    Slug,
    Url,
    Weekday,
    whole,
)


class Model(Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, gc=False):
    """Base for every directory Struct: immutable, keyword-only, strict about unknown fields.

    Not tracked by the cyclic garbage collector (msgspec's gc=False): a directory's Structs are trees that never
    form cycles, and 50,000 services tracked would make every full collection (in any thread) pause the server."""


# --- geometry (GeoJSON order: lon, lat) -------------------------------------------------------------------

Position = tuple[Lon, Lat]
Ring = Annotated[tuple[Position, ...], Meta(min_length=4, description="A closed linear ring: first == last.")]


class Point(Model, frozen=True, kw_only=True):
    lon: Lon
    lat: Lat


class Polygon(Model, tag="Polygon", tag_field="type", frozen=True, kw_only=True):
    coordinates: Annotated[tuple[Ring, ...], Meta(min_length=1)]


class MultiPolygon(Model, tag="MultiPolygon", tag_field="type", frozen=True, kw_only=True):
    coordinates: Annotated[tuple[Annotated[tuple[Ring, ...], Meta(min_length=1)], ...], Meta(min_length=1)]


Geometry = Polygon | MultiPolygon


# --- catchment: a tagged union, one Struct per kind ----------------------------------------------------------


class NationalCatchment(Model, tag="national", tag_field="type", frozen=True, kw_only=True):
    """Serves anywhere in England and Wales."""


class AreaCatchment(Model, tag="areas", tag_field="type", frozen=True, kw_only=True):
    """Serves the union of stored areas, by code."""

    codes: Annotated[tuple[AreaCode, ...], Meta(min_length=1, max_length=500)]


class PolygonCatchment(Model, tag="polygon", tag_field="type", frozen=True, kw_only=True):
    """Serves inside a GeoJSON Polygon or MultiPolygon."""

    geometry: Geometry


class RadiusCatchment(Model, tag="radius", tag_field="type", frozen=True, kw_only=True):
    """Serves within a radius of the service's location."""

    km: Annotated[float, Meta(gt=0.0, le=500.0)]


Catchment = NationalCatchment | AreaCatchment | PolygonCatchment | RadiusCatchment


# --- eligibility ------------------------------------------------------------------------------------------


class AgeRange(Model, frozen=True, kw_only=True):
    """min is inclusive and max exclusive: an 18-24 service is min 18, max 25. Either end may be open."""

    min: AgeYears | None = None
    max: AgeYears | None = None


class Eligibility(Model, frozen=True, kw_only=True):
    age: AgeRange = AgeRange()
    genders: tuple[Gender, ...] = ()
    """Accepted genders; empty means all."""
    needs: tuple[Code, ...] = ()
    """Needs served, as codes of the needs taxonomy."""
    circumstances_required: tuple[Code, ...] = ()
    circumstances_excluded: tuple[Code, ...] = ()


# --- schedule (Europe/London) -----------------------------------------------------------------------------


class Session(Model, frozen=True, kw_only=True):
    """A weekly session. A closing time at or before the opening time runs past midnight into the next day."""

    day: Weekday
    opens: ClockTime
    closes: CloseTime


class Hours(Model, frozen=True, kw_only=True):
    opens: ClockTime
    closes: CloseTime


class BankHolidays(Model, frozen=True, kw_only=True):
    """England & Wales bank holidays: closed, normal (the weekly sessions), or special hours."""

    mode: BankHolidayMode = "normal"
    hours: tuple[Hours, ...] = ()


class DatedException(Model, frozen=True, kw_only=True):
    """A date with its own hours; no hours means closed all day."""

    date: dt.date
    hours: tuple[Hours, ...] = ()
    note: ShortText = ""


class Schedule(Model, frozen=True, kw_only=True):
    """Precedence: dated exceptions > open 24/7 > bank holidays > weekly sessions."""

    open_24_7: bool = False
    weekly: Annotated[tuple[Session, ...], Meta(max_length=100)] = ()
    bank_holidays: BankHolidays = BankHolidays()
    exceptions: Annotated[tuple[DatedException, ...], Meta(max_length=400)] = ()


# --- referral, contacts, capacity -------------------------------------------------------------------------


class Referral(Model, frozen=True, kw_only=True):
    referrers: tuple[Referrer, ...] = ()
    methods: tuple[ReferralMethod, ...] = ()
    instructions: LongText = ""
    handover_target_minutes: Minutes | None = None


class Phone(Model, frozen=True, kw_only=True):
    number: PhoneNumber
    label: ShortText = ""
    twenty_four_hour: bool = False
    professionals_only: bool = False


class Address(Model, frozen=True, kw_only=True):
    lines: Annotated[tuple[ShortText, ...], Meta(max_length=6)] = ()
    town: ShortText = ""
    postcode: Postcode | None = None


class Contacts(Model, frozen=True, kw_only=True):
    phones: Annotated[tuple[Phone, ...], Meta(max_length=20)] = ()
    email: Email | None = None
    website: Url | None = None
    address: Address | None = None


class Capacity(Model, frozen=True, kw_only=True):
    """Live capacity. After `until` the status is unknown."""

    status: CapacityStatus = "unknown"
    until: AwareDateTime | None = None
    note: ShortText = ""


class Verification(Model, frozen=True, kw_only=True):
    """The last check of a service's details: when, by whom, and a date by which to check again sooner than the
    deployment's review period (PATHWAYS_REVIEW_MONTHS after the check; service/domain/review.py)."""

    verified_at: AwareDateTime
    verified_by: Name
    review_by: dt.date | None = None
    """A sooner date to check again (a contract ending, a move); a later one than the period's has no effect. The
    next check replaces it."""


class ExternalIds(Model, frozen=True, kw_only=True):
    ods_code: Annotated[str, Meta(pattern=whole(r"[A-Za-z0-9]{3,10}"))] | None = None
    open_referral_id: Annotated[str, Meta(max_length=200, pattern=SINGLE_LINE)] | None = None


# --- service ----------------------------------------------------------------------------------------------


class ServiceBody(Model, frozen=True, kw_only=True):
    """Everything an editor writes about a service."""

    slug: Slug
    name: Name
    organisation: Name
    description: LongText = ""
    kind: ServiceKind
    contexts: Annotated[tuple[Context, ...], Meta(min_length=1)]
    access_modes: Annotated[tuple[AccessMode, ...], Meta(min_length=1)]
    location: Point | None = None
    catchment: Catchment
    eligibility: Eligibility = Eligibility()
    schedule: Schedule = Schedule()
    referral: Referral = Referral()
    contacts: Contacts = Contacts()
    capacity: Capacity = Capacity()
    pathway_priority: Priority | None = None
    pathway_role: PathwayRole | None = None
    """The step of the pathway this service is for (consult, assess, place_of_safety, divert, refer_on, advice);
    when absent, its kind's (service/domain/pathway.py)."""
    verification: Verification | None = None
    status: ServiceStatus = "active"
    external_ids: ExternalIds = ExternalIds()
    police_station: bool = False
    """A police station or custody suite. As a place of safety (s136 MHA 1983): never for anyone under 18, and
    for adults only in the exceptional cases the 2017 regulations allow."""
    general_entry_for: tuple[Context, ...] = ()
    """Contexts in which this is a general entry point that takes anyone, whatever their needs (an officers'
    triage line, the custody L&D team)."""
    fallback_for_needs: tuple[Code, ...] = ()
    """Needs for which this is the labelled catch-all when no other option meets them."""
    fallback_for_steps: tuple[PathwayRole, ...] = ()
    """Steps of the pathway for which this is the labelled catch-all when the step has no option (A&E when no place
    of safety can take the person)."""
    group_pathway: bool = False
    """For a group, whatever its needs: anyone its eligibility admits (its age band, genders and required
    circumstances, which must say who the group is) is offered it with no need given, as the Bridgend 18-21 YOS
    link-back takes young adults known to the YOS."""
    finds_needs: bool | None = None
    """Its job is to find or meet the needs of a cohort (an L&D team, a triage line, the women's custody triage):
    offered to anyone its other rules admit when no need is given, and after the services meeting a need given when
    some are. None: its kind's default (pathway.FINDS_NEEDS_KINDS); true or false overrides the kind's."""


class ServiceRecord(ServiceBody, frozen=True, kw_only=True):
    """A service in the directory document; id is kept when present, made when absent."""

    id: uuid.UUID | None = None


class Service(ServiceBody, frozen=True, kw_only=True):
    """A stored service."""

    id: uuid.UUID
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime


# --- areas and sites --------------------------------------------------------------------------------------


class AreaBody(Model, frozen=True, kw_only=True):
    kind: AreaKind
    name: Name
    boundary: Geometry


class Area(AreaBody, frozen=True, kw_only=True):
    code: AreaCode


class StoredArea(Area, frozen=True, kw_only=True):
    version: int
    updated_at: dt.datetime


class AreaSummary(Model, frozen=True, kw_only=True):
    code: AreaCode
    kind: AreaKind
    name: Name
    bbox: tuple[float, float, float, float]
    version: int


class SiteBody(Model, frozen=True, kw_only=True):
    slug: Slug
    name: Name
    kind: SiteKind
    location: Point
    area_codes: Annotated[tuple[AreaCode, ...], Meta(max_length=50)] = ()
    """Codes of the areas containing the site; worked out from stored boundaries when left empty."""


class SiteRecord(SiteBody, frozen=True, kw_only=True):
    id: uuid.UUID | None = None


class Site(SiteBody, frozen=True, kw_only=True):
    id: uuid.UUID
    version: int
    updated_at: dt.datetime


# --- taxonomy, history, paging ----------------------------------------------------------------------------


class TaxonomyTerm(Model, frozen=True, kw_only=True):
    code: Code
    label: Name
    definition: LongText
    theme: ShortText = ""


class Taxonomy(Model, frozen=True, kw_only=True):
    name: str
    version: int
    terms: tuple[TaxonomyTerm, ...]
    published: dt.date | None = None

    def codes(self) -> frozenset[str]:
        return frozenset(t.code for t in self.terms)


class FieldChange(Model, frozen=True, kw_only=True):
    field: str
    old: object = None
    new: object = None


class Change(Model, frozen=True, kw_only=True):
    id: int
    at: dt.datetime
    actor: str
    operation: str
    version: int
    changes: tuple[FieldChange, ...]


class ChangeEntry(Change, frozen=True, kw_only=True):
    """A change in the whole directory's log: which record it was, besides what changed."""

    entity: str
    key: str


class Taxonomies(Model, frozen=True, kw_only=True):
    needs: Taxonomy
    circumstances: Taxonomy
