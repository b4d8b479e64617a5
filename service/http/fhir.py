"""/fhir: the directory as FHIR R4 (HealthcareService, Location, Organization, CodeSystem; read and search), with
a CapabilityStatement at /fhir/metadata. Served from the in-memory index; errors are OperationOutcomes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Annotated, Any
from urllib.parse import urlencode

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import PathParameter, QueryParameter

from service.domain import fhir
from service.domain.audience import public_record
from service.domain.errors import FieldProblem, InvalidInput, NotFound
from service.domain.model import Service
from service.http.access import READ
from service.http.deps import Ident
from service.http.problems import problem_responses
from service.index.published import Listing, Published
from service.runtime import runtime_of

FHIR_JSON = "application/fhir+json"
MAX_COUNT = 1000
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
Id = Annotated[str, PathParameter(max_length=120, description="The resource's id.")]
Token = Annotated[str | None, QueryParameter(max_length=300, description="A code, or system|code.")]
Ref = Annotated[str | None, QueryParameter(max_length=200, description="A reference: Type/id or id.")]
Count = Annotated[int, QueryParameter(name="_count", ge=1, le=MAX_COUNT, description="Results per page.")]
Offset = Annotated[int, QueryParameter(name="_offset", ge=0, le=10_000_000, description="Results to skip.")]


class _Issue(msgspec.Struct, frozen=True, kw_only=True):
    severity: str
    code: str
    diagnostics: str
    expression: tuple[str, ...] = ()


class OperationOutcome(msgspec.Struct, frozen=True, kw_only=True, tag="OperationOutcome", tag_field="resourceType"):
    issue: tuple[_Issue, ...]


def _outcome(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """FHIR errors as OperationOutcomes, naming the parameter (never echoing the query string)."""
    match exc:
        case NotFound():
            status, issues = 404, [_Issue(severity="error", code="not-found", diagnostics=str(exc))]
        case InvalidInput(problems=problems):
            status = 400
            issues = [
                _Issue(severity="error", code="invalid", diagnostics=f"{p.field}: {p.reason}", expression=(p.field,))
                for p in problems
            ]
        case _:
            detail = getattr(exc, "extra", None) or [{"message": str(getattr(exc, "detail", "bad request"))}]
            status = 400
            issues = [
                _Issue(
                    severity="error",
                    code="invalid",
                    diagnostics=str(d.get("key", "")) + ": " + str(d.get("message", ""))
                    if isinstance(d, dict)
                    else str(d),
                )
                for d in detail
            ]
    body = msgspec.json.encode(OperationOutcome(issue=tuple(issues)))
    return Response(content=body, status_code=status, media_type=FHIR_JSON)


def _spec(description: str) -> dict[int, ResponseSpec]:
    return {
        **problem_responses(),
        200: ResponseSpec(
            data_container=dict[str, Any], description=description, media_type=FHIR_JSON, generate_examples=False
        ),
        400: ResponseSpec(
            data_container=OperationOutcome,
            description="A bad parameter.",
            media_type=FHIR_JSON,
            generate_examples=False,
        ),
        404: ResponseSpec(
            data_container=OperationOutcome,
            description="No such resource.",
            media_type=FHIR_JSON,
            generate_examples=False,
        ),
    }


class FhirController(Controller):
    path = "/fhir"
    tags = ["fhir r4"]
    guards = READ
    exception_handlers = {NotFound: _outcome, InvalidInput: _outcome, ValidationException: _outcome}

    @get("/metadata", operation_id="getFhirCapabilityStatement", responses=_spec("The CapabilityStatement."))
    async def metadata(self, request: Request[Any, Any, Any], state: State) -> Response[bytes]:
        """What this FHIR server implements."""
        return _fhir(capability_statement(_base(request, state)))

    @get("/HealthcareService", operation_id="searchFhirHealthcareService", responses=_spec("A searchset Bundle."))
    async def search_services(
        self,
        request: Request[Any, Any, Any],
        state: State,
        identity: Ident,
        active: Annotated[str | None, QueryParameter(pattern="^(true|false)$")] = None,
        service_category: Annotated[str | None, QueryParameter(name="service-category", max_length=300)] = None,
        service_type: Annotated[str | None, QueryParameter(name="service-type", max_length=300)] = None,
        location: Ref = None,
        organization: Ref = None,
        coverage_area: Annotated[str | None, QueryParameter(name="coverage-area", max_length=200)] = None,
        count: Count = 50,
        offset: Offset = 0,
    ) -> Response[bytes]:
        """HealthcareServices by _id, active, service-category (pathway role), service-type (kind), location,
        organization, coverage-area and _lastUpdated."""
        _, listing = _listing(state)
        base = _base(request, state)
        keep = _service_filter(request, base, listing)
        chosen = [s for s in listing.services if keep(s)]
        runtime = runtime_of(state)
        names = listing.publishing.area_names
        today = listing.publishing.today

        def resource(s: Service) -> fhir.Resource:
            shown = public_record(s) if identity.kind == "anonymous" else s
            return fhir.healthcare_service(shown, base, runtime.vocab, names, today)

        return _bundle(request, base, "HealthcareService", chosen, resource, count, offset)

    @get("/HealthcareService/{id:str}", operation_id="readFhirHealthcareService", responses=_spec("The resource."))
    async def read_service(
        self, request: Request[Any, Any, Any], state: State, identity: Ident, id: Id
    ) -> Response[bytes]:
        """One HealthcareService."""
        _, listing = _listing(state)
        s = listing.by_id.get(id.lower())
        if s is None:
            raise NotFound("HealthcareService", id)
        shown = public_record(s) if identity.kind == "anonymous" else s
        runtime = runtime_of(state)
        names, today = listing.publishing.area_names, listing.publishing.today
        return _fhir(fhir.healthcare_service(shown, _base(request, state), runtime.vocab, names, today))

    @get("/Location", operation_id="searchFhirLocation", responses=_spec("A searchset Bundle."))
    async def search_locations(
        self,
        request: Request[Any, Any, Any],
        state: State,
        name: Annotated[str | None, QueryParameter(max_length=200)] = None,
        organization: Ref = None,
        count: Count = 50,
        offset: Offset = 0,
    ) -> Response[bytes]:
        """Locations: where services are, and the areas they cover, by _id, name and organization."""
        published, listing = _listing(state)
        locations: list[fhir.Location] = published.per_listing(listing, "fhir-locations", lambda: _locations(listing))
        ids = _ids(request)
        wanted = name.lower() if name else None
        org = _reference(organization, "Organization")
        chosen = [
            loc
            for loc in locations
            if (ids is None or loc.id in ids)
            and (wanted is None or wanted in (loc.name or "").lower())
            and (
                org is None
                or (
                    loc.managingOrganization is not None and loc.managingOrganization.reference == f"Organization/{org}"
                )
            )
        ]
        return _bundle(request, _base(request, state), "Location", chosen, lambda x: x, count, offset)

    @get("/Location/{id:str}", operation_id="readFhirLocation", responses=_spec("The resource."))
    async def read_location(self, state: State, id: Id) -> Response[bytes]:
        """One Location."""
        published, listing = _listing(state)
        locations: list[fhir.Location] = published.per_listing(listing, "fhir-locations", lambda: _locations(listing))
        found = next((loc for loc in locations if loc.id == id), None)
        if found is None:
            raise NotFound("Location", id)
        return _fhir(found)

    @get("/Organization", operation_id="searchFhirOrganization", responses=_spec("A searchset Bundle."))
    async def search_organizations(
        self,
        request: Request[Any, Any, Any],
        state: State,
        name: Annotated[str | None, QueryParameter(max_length=200)] = None,
        count: Count = 50,
        offset: Offset = 0,
    ) -> Response[bytes]:
        """Organizations, by _id and name."""
        published, listing = _listing(state)
        organizations: list[fhir.Organization] = published.per_listing(
            listing, "fhir-organizations", lambda: _organizations(listing)
        )
        ids = _ids(request)
        wanted = name.lower() if name else None
        chosen = [
            o for o in organizations if (ids is None or o.id in ids) and (wanted is None or wanted in o.name.lower())
        ]
        return _bundle(request, _base(request, state), "Organization", chosen, lambda x: x, count, offset)

    @get("/Organization/{id:str}", operation_id="readFhirOrganization", responses=_spec("The resource."))
    async def read_organization(self, state: State, id: Id) -> Response[bytes]:
        """One Organization."""
        published, listing = _listing(state)
        organizations: list[fhir.Organization] = published.per_listing(
            listing, "fhir-organizations", lambda: _organizations(listing)
        )
        found = next((o for o in organizations if o.id == id.lower()), None)
        if found is None:
            raise NotFound("Organization", id)
        return _fhir(found)

    @get("/CodeSystem", operation_id="searchFhirCodeSystem", responses=_spec("A searchset Bundle."))
    async def search_code_systems(
        self,
        request: Request[Any, Any, Any],
        state: State,
        url: Annotated[str | None, QueryParameter(max_length=300)] = None,
        count: Count = 50,
        offset: Offset = 0,
    ) -> Response[bytes]:
        """Our code lists (needs, circumstances, kinds, pathway roles, …), by _id and url."""
        base = _base(request, state)
        ids = _ids(request)
        systems = [
            c
            for c in fhir.code_systems(runtime_of(state).vocab, base)
            if (ids is None or c.id in ids) and (url is None or c.url == url)
        ]
        return _bundle(request, base, "CodeSystem", systems, lambda x: x, count, offset)

    @get("/CodeSystem/{id:str}", operation_id="readFhirCodeSystem", responses=_spec("The resource."))
    async def read_code_system(self, request: Request[Any, Any, Any], state: State, id: Id) -> Response[bytes]:
        """One of our code lists."""
        for c in fhir.code_systems(runtime_of(state).vocab, _base(request, state)):
            if c.id == id:
                return _fhir(c)
        raise NotFound("CodeSystem", id)


def _listing(state: State) -> tuple[Published, Listing]:
    runtime = runtime_of(state)
    return runtime.published, runtime.published.listing(runtime.index)


def _base(request: Request[Any, Any, Any], state: State) -> str:
    configured = runtime_of(state).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def _fhir(resource: Any) -> Response[bytes]:
    return Response(content=msgspec.json.encode(resource), media_type=FHIR_JSON)


def _locations(listing: Listing) -> list[fhir.Location]:
    out: dict[str, fhir.Location] = {}
    for s in listing.services:
        located = fhir.location(s)
        if located is not None:
            out[located.id] = located
        for covered in fhir.coverage(s, listing.publishing.area_names):
            out.setdefault(covered.id, covered)
    return list(out.values())


def _organizations(listing: Listing) -> list[fhir.Organization]:
    return sorted(
        {fhir.organization_id(s): fhir.organization(s) for s in listing.services}.values(), key=lambda o: o.name
    )


def _ids(request: Request[Any, Any, Any]) -> set[str] | None:
    values = request.query_params.getall("_id", [])
    return {v.strip().lower() for value in values for v in value.split(",")} if values else None


def _reference(value: str | None, kind: str) -> str | None:
    if value is None:
        return None
    return value.rsplit("/", 1)[-1].lower() if value.startswith(f"{kind}/") or "/" not in value else value.lower()


def _token(value: str, base: str, system: str) -> str | None:
    """The code of a token search (code, or system|code); None when the system is not this one."""
    if "|" in value:
        given, code = value.split("|", 1)
        return code if not given or given == fhir.system_url(base, system) else None
    return value


def _service_filter(request: Request[Any, Any, Any], base: str, listing: Listing) -> Callable[[Service], bool]:
    from service.domain.pathway import role_of

    params = request.query_params
    ids = _ids(request)
    active = params.get("active")
    categories = {
        _token(v, base, "pathway-roles") for value in params.getall("service-category", []) for v in value.split(",")
    }
    types = {_token(v, base, "service-kinds") for value in params.getall("service-type", []) for v in value.split(",")}
    location = _reference(params.get("location"), "Location")
    organization = _reference(params.get("organization"), "Organization")
    area = _reference(params.get("coverage-area"), "Location")
    updated = [_last_updated(v) for v in params.getall("_lastUpdated", [])]

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
        if area is not None and area not in {c.id.lower() for c in fhir.coverage(s, {})}:
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


def _last_updated(value: str) -> Callable[[dt.datetime], bool]:
    prefix, text = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput(
            (FieldProblem(field="_lastUpdated", reason="expected [ge|gt|le|lt|eq]YYYY-MM-DD[Thh:mm:ss]"),)
        ) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    compare = PREFIXES[prefix]
    return lambda at: compare(at, when)


def _bundle(
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
