"""FHIR searches over the directory: the parameters as filters (each worked out once per directory version, in
service/openreferral/listings.py), the searchset Bundle with its paging links, the CapabilityStatement saying what is
searchable, and the Location and Organization lists (one per directory version). What each search takes, and how
its query is read (strict and lenient handling), is service/fhir/parameters.py."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response

from service.domain.errors import FieldProblem, InvalidInput
from service.domain.model import Service
from service.domain.pathway import role_of
from service.fhir import resources as fhir
from service.fhir.parameters import HANDLING, SEARCH, Reading, handling_of, read, taken
from service.fhir.resource_types import Location, Organization
from service.openreferral.listing import Filter, Listing, Mask
from service.openreferral.query import OfOrganization

FHIR_JSON = "application/fhir+json"


def locations(listing: Listing, remembered: dict[str, Any]) -> list[Location]:
    """Where services are, and the areas they cover, each once, in the order of the services (worked out once per
    directory version, in a worker thread: `listing.derive`). Each service's Locations are remembered by its version
    from one directory version to the next (in `remembered`), so only the services that changed are drawn again
    (drawing them all takes about 2 s at 50,000 services)."""
    places = listing.index.places
    before = remembered.get("fhir-locations")
    held: dict[uuid.UUID, tuple[int, Location | None, tuple[Location, ...]]] = (
        before[1] if before is not None and before[0] is places else {}
    )
    now: dict[uuid.UUID, tuple[int, Location | None, tuple[Location, ...]]] = {}
    out: dict[str, Location] = {}
    for s in listing.in_order():
        found = held.get(s.id)
        if found is None or found[0] != s.version:
            found = (s.version, fhir.location(s), fhir.coverage(s, listing.publishing.area_names))
        now[s.id] = found
        _, located, covered = found
        if located is not None:
            out[located.id] = located
        for area in covered:
            out.setdefault(area.id, area)
    remembered["fhir-locations"] = (places, now)
    return list(out.values())


def organizations(listing: Listing, remembered: dict[str, Any]) -> list[Organization]:
    """Every organisation once, by name (worked out once per directory version, in a worker thread:
    `listing.derive`; each organisation's id is remembered from one version to the next, in `remembered`)."""
    held: dict[str, tuple[str, Organization]] = remembered.get("fhir-organizations", {})
    now: dict[str, tuple[str, Organization]] = {}
    for s in listing.in_order():
        found = now.get(s.organisation) or held.get(s.organisation)
        if found is None:
            found = (fhir.organization_id(s), fhir.organization(s))
        now[s.organisation] = found
    remembered["fhir-organizations"] = now
    unique = dict(now.values())
    return sorted(unique.values(), key=lambda o: o.name)


def reading(request: Request[Any, Any, Any], kind: str) -> Reading:
    """The search's query read against what a search of `kind` takes, with the handling its Prefer header asks for
    (its `check` refuses, under strict handling, a parameter the search does not take)."""
    return read(kind, list(request.query_params.multi_items()), handling_of(request.headers.getall("prefer", ())))


def ids_of(values: Sequence[str]) -> set[str] | None:
    """The ids of _id (repeated, or comma-separated), or None when there are none."""
    return {v.strip().lower() for value in values for v in value.split(",")} if values else None


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


def service_filters(applied: Reading, base: str, listing: Listing) -> tuple[list[Filter], list[Mask]]:
    """HealthcareService's search parameters, as applied: filters (each worked out once per directory version) and
    masks (the ids and the location, looked up directly); a service passes when it passes them all."""
    ids = ids_of(applied.values("_id"))
    active = applied.value("active")
    categories = frozenset(
        _token(v, base, "pathway-roles") for value in applied.values("service-category") for v in value.split(",")
    )
    types = frozenset(
        _token(v, base, "service-kinds") for value in applied.values("service-type") for v in value.split(",")
    )
    location = reference(applied.value("location"), "Location")
    organization = reference(applied.value("organization"), "Organization")
    area = reference(applied.value("coverage-area"), "Location")
    updated = [(value, _last_updated(value)) for value in applied.values("_lastUpdated")]
    masks = [] if ids is None else [listing.ids(ids)]
    if location is not None:
        found = listing.location_of(location)
        masks.append(listing.only(() if found is None else (found,)))
    chosen: list[Filter] = []
    if active is not None:
        chosen.append(Filter(("fhir-active", active == "true"), _Active(active == "true")))
    if categories:
        chosen.append(Filter(("fhir-category", categories), _Category(categories)))
    if types:
        chosen.append(Filter(("fhir-type", types), _Type(types)))
    if organization is not None:
        chosen.append(Filter(("fhir-organization", organization), OfOrganization(organization)))
    if area is not None:
        chosen.append(Filter(("fhir-coverage-area", area), _Covers(area)))
    chosen += [Filter(("fhir-last-updated", when), _Updated(test)) for when, test in updated]
    return chosen, masks


class _Active:
    def __init__(self, active: bool) -> None:
        self.active = active

    def __call__(self, s: Service) -> bool:
        return (s.status == "active") == self.active


class _Category:
    def __init__(self, categories: frozenset[str | None]) -> None:
        self.categories = categories

    def __call__(self, s: Service) -> bool:
        return role_of(s.kind, s.pathway_role) in self.categories


class _Type:
    def __init__(self, types: frozenset[str | None]) -> None:
        self.types = types

    def __call__(self, s: Service) -> bool:
        return s.kind in self.types


class _Covers:
    def __init__(self, area: str) -> None:
        self.area = area

    def __call__(self, s: Service) -> bool:
        return self.area in fhir.coverage_ids(s)


class _Updated:
    def __init__(self, test: Callable[[dt.datetime], bool]) -> None:
        self.test = test

    def __call__(self, s: Service) -> bool:
        return self.test(s.updated_at)


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
    applied: Reading,
    base: str,
    kind: str,
    items: Sequence[Any],
    resource: Callable[[Any], Any],
    count: int,
    offset: int,
) -> Response[bytes]:
    """A searchset Bundle of one page, with self, first, previous and next links (the search's own parameters)."""
    entries = [(r.id, r) for r in map(resource, items[offset : offset + count])]
    return bundle_page(applied, base, kind, len(items), entries, count, offset)


def bundle_page(
    applied: Reading,
    base: str,
    kind: str,
    total: int,
    page: Sequence[tuple[str, Any]],
    count: int,
    offset: int,
) -> Response[bytes]:
    """A searchset Bundle of one page of `total` matches: each entry's id and resource (or its JSON, as
    msgspec.Raw). Its links carry only the parameters applied (never one that was ignored), and their own paging;
    what was ignored is named in an OperationOutcome entry (search mode outcome)."""

    def link(relation: str, at: int) -> dict[str, str]:
        query = urlencode([*applied.applied, ("_count", str(count)), ("_offset", str(at))])
        return {"relation": relation, "url": f"{base}/fhir/{kind}?{query}"}

    links = [link("self", offset), link("first", 0)]
    if offset > 0:
        links.append(link("previous", max(0, offset - count)))
    if offset + count < total:
        links.append(link("next", offset + count))
    entries: list[dict[str, Any]] = [
        {"fullUrl": f"{base}/fhir/{kind}/{id}", "resource": r, "search": {"mode": "match"}} for id, r in page
    ]
    if applied.ignored:
        entries.append({"resource": _ignored(applied), "search": {"mode": "outcome"}})
    bundle = {"resourceType": "Bundle", "type": "searchset", "total": total, "link": links, "entry": entries}
    headers = {"Preference-Applied": f"handling={applied.handling}"} if applied.asked else None
    return Response(content=msgspec.json.encode(bundle), media_type=FHIR_JSON, headers=headers)


def _ignored(applied: Reading) -> dict[str, Any]:
    """The OperationOutcome of a lenient search naming each parameter it ignored (never its value)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "diagnostics": f"{p.field}: {p.reason}",
                **({"expression": [p.field]} if p.field != "…" else {}),
            }
            for p in applied.ignored
        ],
    }


def capability_statement(base: str) -> dict[str, Any]:
    def resource(kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "interaction": [{"code": "read"}, {"code": "search-type"}],
            "searchParam": [{"name": p.name, "type": p.type, "documentation": p.documentation} for p in taken(kind)],
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
        "rest": [{"mode": "server", "documentation": HANDLING, "resource": [resource(kind) for kind in SEARCH]}],
    }
