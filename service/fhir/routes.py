"""/fhir: the directory as FHIR R4 (HealthcareService, Location, Organization, CodeSystem; read and search), with
a CapabilityStatement at /fhir/metadata. Served from the in-memory index; errors are OperationOutcomes. Each search
reads its query first (service/fhir/parameters.py: strict and lenient handling), and applies only what it read."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.datastructures import ResponseHeader, State
from litestar.exceptions import ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from msgspec import Meta

from service.domain.audience import public_record
from service.domain.decoding import field_problem
from service.domain.errors import InvalidInput, NotFound
from service.domain.types import IDENTIFIER, SINGLE_LINE, whole
from service.fhir import resources as fhir
from service.fhir.parameters import FORMATS, REPEATS, Unsupported
from service.fhir.search import (
    FHIR_JSON,
    NoSuchDate,
    bundle,
    bundle_page,
    capability_statement,
    ids_of,
    locations,
    organizations,
    reading,
    reference,
    service_filters,
)
from service.openreferral.listing import Listing
from service.openreferral.published import Audience, Published, published_of
from service.server.access import READ
from service.server.deps import Ident
from service.server.problems import parameter_name, problem_responses
from service.server.runtime import runtime_of
from service.server.schemas import each

if TYPE_CHECKING:
    from service.domain.model import Service
    from service.fhir.resource_types import Location, Organization

MAX_COUNT = 1000
Id = Annotated[str, PathParameter(max_length=120, pattern=IDENTIFIER, description="The resource's id.")]
Token = Annotated[
    str | None, QueryParameter(max_length=300, pattern=SINGLE_LINE, description="A code, or system|code.")
]
Ref = Annotated[
    str | None, QueryParameter(max_length=200, pattern=SINGLE_LINE, description="A reference: Type/id or id.")
]
IdList = Annotated[
    str, Meta(max_length=1000, pattern=whole(r"[A-Za-z0-9_.:, -]*"), description="Ids, comma-separated.")
]
Ids = Annotated[
    Annotated[tuple[IdList, ...], Meta(max_length=REPEATS)],
    QueryParameter(name="_id", description="Resources with these ids.", schema_extra=each(IdList, REPEATS)),
]
Moment = Annotated[
    str,
    Meta(
        max_length=40,
        pattern=whole(
            r"(?:ge|gt|le|lt|eq)?(?!0000)[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
            r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,6})?)?(?:Z|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?)?"
        ),
        description="[ge|gt|le|lt|eq]YYYY-MM-DD[Thh:mm:ss]",
    ),
]
LastUpdated = Annotated[
    Annotated[tuple[Moment, ...], Meta(max_length=REPEATS)],
    QueryParameter(
        name="_lastUpdated", description="Changed then (repeat for a range).", schema_extra=each(Moment, REPEATS)
    ),
]
TokenList = Annotated[
    str, Meta(max_length=300, pattern=SINGLE_LINE, description="Codes (or system|code), comma-separated.")
]
Categories = Annotated[
    Annotated[tuple[TokenList, ...], Meta(max_length=REPEATS)],
    QueryParameter(
        name="service-category",
        description="Pathway roles: any of them (comma-separated or repeated).",
        schema_extra=each(TokenList, REPEATS),
    ),
]
Types = Annotated[
    Annotated[tuple[TokenList, ...], Meta(max_length=REPEATS)],
    QueryParameter(
        name="service-type",
        description="Kinds of service: any of them (comma-separated or repeated).",
        schema_extra=each(TokenList, REPEATS),
    ),
]
Words = Annotated[str | None, QueryParameter(max_length=200, pattern=SINGLE_LINE, description="Words in the name.")]
Canonical = Annotated[str | None, QueryParameter(max_length=300, pattern=SINGLE_LINE, description="A canonical URL.")]
Count = Annotated[int, QueryParameter(name="_count", ge=1, le=MAX_COUNT, description="Results per page.")]
Offset = Annotated[int, QueryParameter(name="_offset", ge=0, le=10_000_000, description="Results to skip.")]
Formats = Annotated[
    str | None,
    QueryParameter(
        name="_format",
        pattern=whole("|".join(re.escape(f) for f in FORMATS)),
        description=f"JSON is the only format served: {', '.join(FORMATS)}.",
    ),
]
Prefer = Annotated[
    str | None,
    HeaderParameter(
        name="Prefer",
        max_length=1000,
        pattern=SINGLE_LINE,
        description="handling=strict: a parameter this search does not take (an unknown name, a modifier, a chain) "
        "or a second value of one taken once is a 400 OperationOutcome naming it. handling=lenient, the default: it "
        "is ignored, left out of the Bundle's links, and named in an OperationOutcome entry (search mode outcome).",
    ),
]
APPLIED = [
    ResponseHeader(
        name="Preference-Applied",
        documentation_only=True,
        description="The handling applied (handling=strict or handling=lenient), when the request asked for one.",
    )
]


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
        case Unsupported(problems=problems):
            status = 400
            issues = [
                _Issue(
                    severity="error",
                    code="not-supported",
                    diagnostics=f"{p.field}: {p.reason}",
                    expression=(p.field,) if p.field != "…" else (),
                )
                for p in problems
            ]
        case InvalidInput(problems=problems):
            status = 422 if isinstance(exc, NoSuchDate) else 400
            issues = [
                _Issue(severity="error", code="invalid", diagnostics=f"{p.field}: {p.reason}", expression=(p.field,))
                for p in problems
            ]
        case _:
            detail = getattr(exc, "extra", None) or [{"message": str(getattr(exc, "detail", "bad request"))}]
            status = 400
            issues = [_invalid(request, d) for d in detail]
    body = msgspec.json.encode(OperationOutcome(issue=tuple(issues)))
    return Response(content=body, status_code=status, media_type=FHIR_JSON)


def _invalid(request: Request[Any, Any, Any], error: object) -> _Issue:
    """One of litestar's parameter errors, naming the parameter as the client wrote it (`_count`)."""
    if not isinstance(error, dict):
        return _Issue(severity="error", code="invalid", diagnostics=str(error))
    name = parameter_name(request, str(error.get("key") or ""))
    found = field_problem(str(error.get("message", "invalid value")), name)
    return _Issue(
        severity="error",
        code="invalid",
        diagnostics=f"{found.field}: {found.reason}",
        expression=(name,) if name else (),
    )


def _spec(description: str, *, dates: bool = False) -> dict[int, ResponseSpec]:
    impossible = ResponseSpec(
        data_container=OperationOutcome,
        description="A _lastUpdated of a day that never was (30 February).",
        media_type=FHIR_JSON,
        generate_examples=False,
    )
    return {
        **({422: impossible} if dates else {}),
        **problem_responses(),
        200: ResponseSpec(
            data_container=dict[str, Any], description=description, media_type=FHIR_JSON, generate_examples=False
        ),
        400: ResponseSpec(
            data_container=OperationOutcome,
            description="A bad parameter; under Prefer: handling=strict, a parameter the search does not take.",
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

    @get(
        "/HealthcareService",
        operation_id="searchFhirHealthcareService",
        responses=_spec("A searchset Bundle.", dates=True),
        response_headers=APPLIED,
    )
    async def search_services(
        self,
        request: Request[Any, Any, Any],
        state: State,
        identity: Ident,
        active: Annotated[str | None, QueryParameter(pattern="^(true|false)$")] = None,
        service_category: Categories = (),
        service_type: Types = (),
        location: Ref = None,
        organization: Ref = None,
        coverage_area: Annotated[
            str | None, QueryParameter(name="coverage-area", max_length=200, pattern=SINGLE_LINE)
        ] = None,
        only: Ids = (),
        last_updated: LastUpdated = (),
        count: Count = 50,
        offset: Offset = 0,
        fmt: Formats = None,
        prefer: Prefer = None,
    ) -> Response[bytes]:
        """HealthcareServices by _id, active, service-category (pathway role), service-type (kind), location,
        organization, coverage-area and _lastUpdated."""
        applied = reading(request, "HealthcareService")
        published, listing = await _listing(state)
        base = _base(request, state)
        wanted, masks = service_filters(applied, base, listing)
        applied.check()
        chosen = await listing.select(wanted, masks)
        audience: Audience = "public" if identity.kind == "anonymous" else "staff"
        names, today, vocab = listing.publishing.area_names, listing.publishing.today, published.vocab

        def encode(shown: Service) -> bytes:
            return msgspec.json.encode(
                fhir.healthcare_service(shown, base, vocab, names, today, published.review_months)
            )

        page = [
            (str(s.id), msgspec.Raw(published.fhir_record(s, listing, audience, base, encode)))
            for s in listing.services(chosen[offset : offset + count])
        ]
        return bundle_page(applied, base, "HealthcareService", len(chosen), page, count, offset)

    @get("/HealthcareService/{id:str}", operation_id="readFhirHealthcareService", responses=_spec("The resource."))
    async def read_service(
        self, request: Request[Any, Any, Any], state: State, identity: Ident, id: Id
    ) -> Response[bytes]:
        """One HealthcareService."""
        _, listing = await _listing(state)
        s = listing.service(id.lower())
        if s is None:
            raise NotFound("HealthcareService", id)
        shown = public_record(s) if identity.kind == "anonymous" else s
        runtime = runtime_of(state)
        names, today, months = listing.publishing.area_names, listing.publishing.today, listing.publishing.review_months
        return _fhir(fhir.healthcare_service(shown, _base(request, state), runtime.vocab, names, today, months))

    @get(
        "/Location",
        operation_id="searchFhirLocation",
        responses=_spec("A searchset Bundle."),
        response_headers=APPLIED,
    )
    async def search_locations(
        self,
        request: Request[Any, Any, Any],
        state: State,
        name: Words = None,
        organization: Ref = None,
        only: Ids = (),
        count: Count = 50,
        offset: Offset = 0,
        fmt: Formats = None,
        prefer: Prefer = None,
    ) -> Response[bytes]:
        """Locations: where services are, and the areas they cover, by _id, name and organization."""
        applied = reading(request, "Location").check()
        published, listing = await _listing(state)
        every: list[Location] = await listing.derive("fhir-locations", lambda x: locations(x, published.remembered))
        ids = ids_of(applied.values("_id"))
        wanted = _lower(applied.value("name"))
        org = reference(applied.value("organization"), "Organization")
        managed = f"Organization/{org}"
        chosen = [
            loc
            for loc in every
            if (ids is None or loc.id in ids)
            and (wanted is None or wanted in (loc.name or "").lower())
            and (
                org is None or (loc.managingOrganization is not None and loc.managingOrganization.reference == managed)
            )
        ]
        return bundle(applied, _base(request, state), "Location", chosen, lambda x: x, count, offset)

    @get("/Location/{id:str}", operation_id="readFhirLocation", responses=_spec("The resource."))
    async def read_location(self, state: State, id: Id) -> Response[bytes]:
        """One Location."""
        published, listing = await _listing(state)
        every: list[Location] = await listing.derive("fhir-locations", lambda x: locations(x, published.remembered))
        found = next((loc for loc in every if loc.id == id), None)
        if found is None:
            raise NotFound("Location", id)
        return _fhir(found)

    @get(
        "/Organization",
        operation_id="searchFhirOrganization",
        responses=_spec("A searchset Bundle."),
        response_headers=APPLIED,
    )
    async def search_organizations(
        self,
        request: Request[Any, Any, Any],
        state: State,
        name: Words = None,
        only: Ids = (),
        count: Count = 50,
        offset: Offset = 0,
        fmt: Formats = None,
        prefer: Prefer = None,
    ) -> Response[bytes]:
        """Organizations, by _id and name."""
        applied = reading(request, "Organization").check()
        published, listing = await _listing(state)
        every: list[Organization] = await listing.derive(
            "fhir-organizations", lambda x: organizations(x, published.remembered)
        )
        ids = ids_of(applied.values("_id"))
        wanted = _lower(applied.value("name"))
        chosen = [o for o in every if (ids is None or o.id in ids) and (wanted is None or wanted in o.name.lower())]
        return bundle(applied, _base(request, state), "Organization", chosen, lambda x: x, count, offset)

    @get("/Organization/{id:str}", operation_id="readFhirOrganization", responses=_spec("The resource."))
    async def read_organization(self, state: State, id: Id) -> Response[bytes]:
        """One Organization."""
        published, listing = await _listing(state)
        every: list[Organization] = await listing.derive(
            "fhir-organizations", lambda x: organizations(x, published.remembered)
        )
        found = next((o for o in every if o.id == id.lower()), None)
        if found is None:
            raise NotFound("Organization", id)
        return _fhir(found)

    @get(
        "/CodeSystem",
        operation_id="searchFhirCodeSystem",
        responses=_spec("A searchset Bundle."),
        response_headers=APPLIED,
    )
    async def search_code_systems(
        self,
        request: Request[Any, Any, Any],
        state: State,
        url: Canonical = None,
        only: Ids = (),
        count: Count = 50,
        offset: Offset = 0,
        fmt: Formats = None,
        prefer: Prefer = None,
    ) -> Response[bytes]:
        """Our code lists (needs, circumstances, kinds, pathway roles, …), by _id and url."""
        applied = reading(request, "CodeSystem").check()
        base = _base(request, state)
        ids = ids_of(applied.values("_id"))
        wanted = applied.value("url")
        systems = [
            c
            for c in fhir.code_systems(runtime_of(state).vocab, base)
            if (ids is None or c.id in ids) and (wanted is None or c.url == wanted)
        ]
        return bundle(applied, base, "CodeSystem", systems, lambda x: x, count, offset)

    @get("/CodeSystem/{id:str}", operation_id="readFhirCodeSystem", responses=_spec("The resource."))
    async def read_code_system(self, request: Request[Any, Any, Any], state: State, id: Id) -> Response[bytes]:
        """One of our code lists."""
        for c in fhir.code_systems(runtime_of(state).vocab, _base(request, state)):
            if c.id == id:
                return _fhir(c)
        raise NotFound("CodeSystem", id)


async def _listing(state: State) -> tuple[Published, Listing]:
    published = published_of(state)
    return published, await published.listing(runtime_of(state).index)


def _base(request: Request[Any, Any, Any], state: State) -> str:
    configured = runtime_of(state).settings.public_url
    return (configured or str(request.base_url)).rstrip("/")


def _lower(words: str | None) -> str | None:
    return words.lower() if words else None


def _fhir(resource: Any) -> Response[bytes]:
    return Response(content=msgspec.json.encode(resource), media_type=FHIR_JSON)
