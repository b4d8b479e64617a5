"""The one way into a search, for the API (POST body or GET query) and the pages alike.

A search arrives as a decoded `ReferralRequest` (the POST body), or as query parameters, which `SearchQuery`
decodes in one step (its fields carry the same constraints as the body's, from service/domain/types.py) and turns
into a `ReferralRequest`. `find` resolves the origin (a point, a site, or a postcode offline, or online if
configured), and asks the index. Problems name the field as the caller sent it: `QUERY_NAMES` is the one table
from the body's field names to the query's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Protocol

import msgspec
from msgspec import Meta

from service.domain import gridref
from service.domain.answer import ReferralAnswer
from service.domain.decoding import problem_from
from service.domain.errors import FieldProblem, InvalidInput, MalformedInput
from service.domain.geometry import point_is_plausible
from service.domain.request import (
    GRID_REFERENCE_SEARCH,
    POSTCODE_SEARCH,
    GridReferenceOrigin,
    Origin,
    Person,
    PersonGender,
    PointOrigin,
    PostcodeOrigin,
    PublicOnly,
    ReferralRequest,
    SiteOrigin,
    StepLimit,
    WhenNeeded,
    when_needed,
)
from service.domain.types import REFERENCE, AgeYears, Context, Lat, Lon, ResolvedFrom, whole
from service.index.engine import DirectoryIndex
from service.index.places import Resolution

log = logging.getLogger("service.geocoder")

QUERY_NAMES = {
    "person.age": "age",
    "person.gender": "gender",
    "person.needs": "needs",
    "person.circumstances": "circumstances",
    "origin.postcode": "postcode",
    "origin.site": "site",
    "origin.lat": "lat",
    "origin.lon": "lon",
    "origin.grid_reference": "grid_reference",
}
"""Body field -> query parameter, where they differ."""
LISTS = ("needs", "circumstances")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


SiteKey = Annotated[str, Meta(pattern=REFERENCE, description="Site id or slug.")]
PostcodeText = Annotated[str, Meta(max_length=10, pattern=POSTCODE_SEARCH, description="Full postcode or district.")]
GridReferenceText = Annotated[
    str,
    Meta(max_length=40, pattern=GRID_REFERENCE_SEARCH, description="OS National Grid reference, e.g. TA 09 29."),
]
CodesText = Annotated[
    str,
    Meta(
        max_length=200,
        pattern=whole(r"[\x20-\x7e]*"),
        description="Codes, repeated (needs=a&needs=b) or comma-separated (needs=a,b); one that is no code is unknown.",
    ),
]
CodesList = Annotated[list[CodesText], Meta(max_length=30)]
"""At most 30 values of at most 200 printable ASCII characters: a search's request line stays well inside what a
server reads (uvicorn with httptools refuses a head of 64 KiB), whatever is asked."""


class SearchQuery(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=False):
    """A search as query parameters: the GET API and the pages. Needs and circumstances are repeated
    (needs=a&needs=b) or comma-separated (needs=a,b)."""

    context: Context
    age: AgeYears
    lat: Lat | None = None
    lon: Lon | None = None
    site: SiteKey | None = None
    postcode: PostcodeText | None = None
    grid_reference: GridReferenceText | None = None
    gender: PersonGender = "not_stated"
    needs: CodesList = []
    circumstances: CodesList = []
    at: WhenNeeded | None = None
    at_release: bool = False
    limit: Annotated[int, Meta(ge=1, le=50)] = 10
    step_limit: StepLimit = 5
    max_travel_minutes: Annotated[int, Meta(ge=1, le=1440)] | None = None
    explain: bool = False
    explain_limit: Annotated[int, Meta(ge=1, le=200)] = 10
    public_only: PublicOnly = False

    def request(self) -> ReferralRequest:
        """The same search as a body; which origin parameters go together is a rule (422), like other rules."""
        return ReferralRequest(
            origin=self._origin(),
            context=self.context,
            person=self._person(),
            at=self.at,
            at_release=self.at_release,
            limit=self.limit,
            step_limit=self.step_limit,
            max_travel_minutes=self.max_travel_minutes,
            explain=self.explain,
            explain_limit=self.explain_limit,
            public_only=self.public_only,
        )

    def _person(self) -> Person:
        """Through msgspec, so that the Person's own limits (at most 30 needs, say) hold for a query as for a body."""
        person = {
            "age": self.age,
            "gender": self.gender,
            "needs": _codes(self.needs, "needs", "need"),
            "circumstances": _codes(self.circumstances, "circumstances", "circumstance"),
        }
        try:
            return msgspec.convert(person, Person)
        except msgspec.ValidationError as e:
            problem = problem_from(e, "person")
            raise MalformedInput((FieldProblem(field=query_field(problem.field), reason=problem.reason),)) from e

    def _origin(self) -> Origin:
        point = self.lat is not None or self.lon is not None
        given = (point, self.site is not None, self.postcode is not None, self.grid_reference is not None)
        if sum(given) != 1:
            reason = "give exactly one of lat and lon, site, postcode, or grid_reference"
            raise InvalidInput((FieldProblem(field="origin", reason=reason),))
        if self.grid_reference is not None:
            return GridReferenceOrigin(grid_reference=self.grid_reference)
        if self.site is not None:
            return SiteOrigin(site=self.site)
        if self.postcode is not None:
            return PostcodeOrigin(postcode=self.postcode)
        if self.lat is None or self.lon is None:
            missing = "lat" if self.lat is None else "lon"
            raise InvalidInput((FieldProblem(field=missing, reason="give both lat and lon"),))
        return PointOrigin(lat=self.lat, lon=self.lon)


def _codes(values: Sequence[str], field: str, what: str) -> tuple[str, ...]:
    """In a query, codes are free text, so one that cannot be a code is simply unknown (422, as for any other
    unknown code), not malformed."""
    codes = tuple(v.strip() for value in values for v in value.split(",") if v.strip())
    problems = [
        FieldProblem(field=f"{field}[{i}]", reason=f"unknown {what} {code[:64]!r}")
        for i, code in enumerate(codes)
        if not _CODE.fullmatch(code)
    ]
    if problems:
        raise InvalidInput(tuple(problems))
    return codes


def search_query(params: Mapping[str, str | Sequence[str]]) -> SearchQuery:
    """Decode query parameters (each a string, or a list of the repeated values). An empty value is absent, as a
    form's blank field is."""
    raw: dict[str, object] = {}
    for name in SearchQuery.__struct_fields__:
        value = params.get(name)
        values = [value] if isinstance(value, str) else list(value or ())
        values = [v for v in values if v.strip()]
        if values:
            raw[name] = values if name in LISTS else values[-1]
    try:
        return msgspec.convert(raw, SearchQuery, strict=False)
    except msgspec.ValidationError as e:
        raise MalformedInput((problem_from(e),)) from e


def query_field(field: str) -> str:
    for body_name, query_name in QUERY_NAMES.items():
        if field == body_name or field.startswith(body_name + "["):
            return query_name
    return field


def renamed(e: InvalidInput) -> InvalidInput:
    """The same problem (and status), naming the query parameters."""
    return type(e)(tuple(FieldProblem(field=query_field(p.field), reason=p.reason) for p in e.problems))


# --- origins -------------------------------------------------------------------------------------------------


class Geocoder(Protocol):
    async def locate(self, postcode: str) -> tuple[float, float] | None:
        """(lon, lat) of a postcode, or None when it cannot be found."""
        ...


class NominatimGeocoder:
    """Online postcode look-up through geopy's Nominatim client. Off by default: set PATHWAYS_ONLINE_GEOCODER."""

    def __init__(self, user_agent: str, timeout: float = 3.0) -> None:
        from geopy.geocoders import Nominatim

        self._client = Nominatim(user_agent=user_agent, timeout=timeout)

    async def locate(self, postcode: str) -> tuple[float, float] | None:
        from geopy.exc import GeopyError

        try:
            found = await asyncio.to_thread(self._client.geocode, {"postalcode": postcode, "country": "GB"})
        except GeopyError as e:
            log.warning("online geocoder failed: %s", type(e).__name__)
            return None
        return (float(found.longitude), float(found.latitude)) if found is not None else None


def make_geocoder(name: str, user_agent: str) -> Geocoder | None:
    match name:
        case "":
            return None
        case "nominatim":
            return NominatimGeocoder(user_agent)
        case _:
            raise ValueError(f"unknown online geocoder {name!r}; the one supported is 'nominatim'")


Resolved = tuple[Resolution, str, ResolvedFrom]


async def resolve_origin(index: DirectoryIndex, origin: Origin, geocoder: Geocoder | None) -> Resolved:
    places = index.places
    match origin:
        case PointOrigin(lat=lat, lon=lon):
            if not point_is_plausible(lon, lat):
                raise InvalidInput(
                    (FieldProblem(field="origin", reason=f"({lat}, {lon}) is outside England and Wales"),)
                )
            return places.resolve_point(lon, lat), f"{lat:.5f}, {lon:.5f}", "point"
        case SiteOrigin(site=key):
            site, where = places.resolve_site(key)
            return where, site.name, "site"
        case PostcodeOrigin(postcode=postcode):
            found = places.locate_postcode(postcode)
            if found is not None:
                code, (lon, lat) = found
                return places.resolve_point(lon, lat), code, "postcode"
            located = await geocoder.locate(postcode) if geocoder is not None else None
            if located is None or not point_is_plausible(*located):
                reason = f"unknown postcode {postcode.strip().upper()!r}: neither its sector nor its district is known"
                raise InvalidInput((FieldProblem(field="origin.postcode", reason=reason),))
            return places.resolve_point(*located), postcode.strip().upper(), "postcode"
        case GridReferenceOrigin(grid_reference=text):
            field = "origin.grid_reference"
            reference = gridref.parse(text, field)
            point = gridref.to_point(reference)
            if not point_is_plausible(point.lon, point.lat):
                reason = f"{gridref.as_written(reference)} is outside England and Wales"
                raise InvalidInput((FieldProblem(field=field, reason=reason),))
            return places.resolve_point(point.lon, point.lat), gridref.as_written(reference), "grid_reference"


async def find(index: DirectoryIndex, request: ReferralRequest, geocoder: Geocoder | None) -> ReferralAnswer:
    """Ranked, explained referral options for a decoded request."""
    where, label, resolved_from = await resolve_origin(index, request.origin, geocoder)
    at = when_needed(request.at, dt.datetime.now(dt.UTC))
    return index.search(request, at=at, where=where, origin_label=label, resolved_from=resolved_from)
