"""FHIR searches over the directory: the parameters as predicates, the searchset Bundle with its paging links, the
CapabilityStatement saying what is searchable, and the Location and Organization lists (one per directory version)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response

from service.domain import fhir
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.fhir_types import Location, Organization
from service.domain.model import Service
from service.domain.pathway import role_of
from service.index.published import Listing, Published

FHIR_JSON = "application/fhir+json"
SEARCH = {
    "HealthcareService": (
        "_id",
        "active",
        "service-category",
        "service-type",
        "location",
        "organization",
        "coverage-area",
        "_lastUpdated",
    ),
    "Location": ("_id", "name", "organization"),
    "Organization": ("_id", "name"),
    "CodeSystem": ("_id", "url"),
}
PAGING = ("_count", "_offset")


def locations(published: Published, listing: Listing) -> list[Location]:
    """Where services are, and the areas they cover, each once (worked out once per directory version)."""

    def make() -> list[Location]:
        out: dict[str, Location] = {}
        for s in listing.services:
            located = fhir.location(s)
            if located is not None:
                out[located.id] = located
            for covered in fhir.coverage(s, listing.publishing.area_names):
                out.setdefault(covered.id, covered)
        return list(out.values())

    found: list[Location] = published.per_listing(listing, "fhir-locations", make)
    return found


def organizations(published: Published, listing: Listing) -> list[Organization]:
    """Every organisation once, by name (worked out once per directory version)."""

    def make() -> list[Organization]:
        unique = {fhir.organization_id(s): fhir.organization(s) for s in listing.services}
        return sorted(unique.values(), key=lambda o: o.name)

    found: list[Organization] = published.per_listing(listing, "fhir-organizations", make)
    return found


REPEATS = 10
"""A repeatable parameter is taken at most this many times: with values of ASCII characters only, a search's whole
request line stays well inside what a server reads."""


def repeated(values: Sequence[str], name: str) -> Sequence[str]:
    """The values of a repeatable parameter, refused past REPEATS (litestar does not count a query list's values)."""
    if len(values) > REPEATS:
        raise InvalidInput((FieldProblem(field=name, reason=f"at most {REPEATS} times"),))
    return values


def ids_of(values: Sequence[str]) -> set[str] | None:
    """The ids of _id (repeated, or comma-separated), or None when there are none."""
    return {v.strip().lower() for value in repeated(values, "_id") for v in value.split(",")} if values else None


def reference(value: str | None, kind: str) -> str | None:
    if value is None:
        return None
    return value.rsplit("/", 1)[-1].lower() if value.startswith(f"{kind}/") or "/" not in value else value.lower()


def _token(value: str, base: str, system: str) -> str | None:
    """The code of a token search (code, or system|code); None when the system is not this one."""
    if "|" in value:
        given, code = value.split("|", 1)
        return code if not given or given == fhir.system_url(base, system) else None
    return value


def service_filter(request: Request[Any, Any, Any], base: str, listing: Listing) -> Callable[[Service], bool]:
    params = request.query_params
    ids = ids_of(repeated(params.getall("_id", []), "_id"))
    active = params.get("active")
    categories = {
        _token(v, base, "pathway-roles") for value in params.getall("service-category", []) for v in value.split(",")
    }
    types = {_token(v, base, "service-kinds") for value in params.getall("service-type", []) for v in value.split(",")}
    location = reference(params.get("location"), "Location")
    organization = reference(params.get("organization"), "Organization")
    area = reference(params.get("coverage-area"), "Location")
    updated = [_last_updated(v) for v in repeated(params.getall("_lastUpdated", []), "_lastUpdated")]

    def keep(s: Service) -> bool:
        if ids is not None and str(s.id) not in ids:
            return False
        if active is not None and (s.status == "active") != (active == "true"):
            return False
        if categories and role_of(s.kind, s.pathway_role) not in categories:
            return False
        if types and s.kind not in types:
            return False
        if location is not None and fhir.location_id(s) != location:
            return False
        if organization is not None and fhir.organization_id(s) != organization:
            return False
        if area is not None and area not in fhir.coverage_ids(s):
            return False
        return all(test(s.updated_at) for test in updated)

    return keep


PREFIXES: dict[str, Callable[[dt.datetime, dt.datetime], bool]] = {
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
    "eq": lambda a, b: a == b,
}


class NoSuchDate(InvalidInput):
    """A _lastUpdated written as a date should be, but of a day that never was (30 February): a 422, where a value
    not written as a date is refused by the parameter's pattern with a 400."""


def _last_updated(value: str) -> Callable[[dt.datetime], bool]:
    prefix, text = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise NoSuchDate((FieldProblem(field="_lastUpdated", reason=f"there is no such moment as {text}"),)) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    compare = PREFIXES[prefix]
    return lambda at: compare(at, when)


def bundle(
    request: Request[Any, Any, Any],
    base: str,
    kind: str,
    items: Sequence[Any],
    resource: Callable[[Any], Any],
    count: int,
    offset: int,
) -> Response[bytes]:
    """A searchset Bundle of one page, with self, first, previous and next links (the search's own parameters)."""
    page = items[offset : offset + count]
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in PAGING]

    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*params, ("_count", str(count)), ("_offset", str(at))])
        return {"relation": relation, "url": f"{base}/fhir/{kind}?{query}"}

    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if offset + count < len(items):
        links.append(link("next", offset + count))
    entries = []
    for item in page:
        r = resource(item)
        entries.append({"fullUrl": f"{base}/fhir/{kind}/{r.id}", "resource": r, "search": {"mode": "match"}})
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": len(items), "link": links, "entry": entries}
    return Response(content=msgspec.json.encode(bundle), media_type=FHIR_JSON)


def capability_statement(base: str) -> dict[str, Any]:
    def resource(kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": name, "type": _param_type(name)} for name in (*SEARCH[kind], *PAGING)],
        }

    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-11-24",
        "publisher": "ld-pathways",
        "kind": "instance",
        "software": {"name": "ld-pathways"},
        "implementation": {"description": "Liaison and Diversion referral pathway directory", "url": f"{base}/fhir"},
        "fhirVersion": "4.0.1",
        "format": ["json"],
        "rest": [{"mode": "server", "resource": [resource(kind) for kind in SEARCH]}],
    }


def _param_type(name: str) -> str:
    return {
        "_id": "token",
        "active": "token",
        "service-category": "token",
        "service-type": "token",
        "location": "reference",
        "organization": "reference",
        "coverage-area": "reference",
        "_lastUpdated": "date",
        "name": "string",
        "url": "uri",
        "_count": "number",
        "_offset": "number",
    }[name]
