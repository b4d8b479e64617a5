"""/openreferral: the directory as an Open Referral UK 3.0 read API (the profile's openapi30.json, every operation).

Served from the in-memory index (service/openreferral/published.py): no database read. The order and each filter's
result are worked out once per directory version, off the event loop (service/openreferral/listings.py): a page is a
slice. Reads are open to anyone, CORS included, when PATHWAYS_READ_ACCESS is open (service/server/open_reads.py);
anonymous readers never see professionals-only numbers.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import QueryParameter, RawBody

from service.domain.errors import FieldProblem, InvalidInput, NotFound
from service.domain.model import Service
from service.openreferral import hsds
from service.openreferral import mapping as oruk_export
from service.openreferral.listing import Listing, Mask
from service.openreferral.published import Audience, Published, page_json, published_of
from service.openreferral.query import (
    Clock,
    Day,
    Full,
    Id,
    MaxAge,
    MinAge,
    ModifiedAfter,
    OrganizationId,
    Page,
    PerPage,
    Postcode,
    Proximity,
    TaxonomyId,
    TermId,
    Text,
    day_of,
    filters,
)
from service.openreferral.store import OpenReferralReport, import_openreferral
from service.server.access import ADMIN, READ
from service.server.deps import Actor, Conn, Ident, Vocab
from service.server.problems import problem_responses
from service.server.runtime import runtime_of

JSON = "application/json"
OPENAPI_URL = "https://raw.githubusercontent.com/openreferral/uk-profile/main/openapi30.json"
PROFILE_URL = "https://github.com/openreferral/uk-profile"
MAX_PER_PAGE = 1000


class PageHead(msgspec.Struct, frozen=True, kw_only=True):
    """The profile's paging envelope; each page below adds its `contents`."""

    total_items: int
    total_pages: int
    page_number: int
    size: int
    first_page: bool
    last_page: bool
    empty: bool


class ServicePage(PageHead, frozen=True, kw_only=True):
    contents: list[hsds.Service]


class ServiceAtLocationPage(PageHead, frozen=True, kw_only=True):
    contents: list[hsds.ServiceAtLocationFull]


class TaxonomyPage(PageHead, frozen=True, kw_only=True):
    contents: list[hsds.Taxonomy]


class TermPage(PageHead, frozen=True, kw_only=True):
    contents: list[hsds.TaxonomyTerm]


def _ok(kind: type[Any], description: str) -> dict[int, ResponseSpec]:
    return {200: ResponseSpec(data_container=kind, description=description, generate_examples=False)}


def _json(body: bytes) -> Response[bytes]:
    return Response(content=body, media_type=JSON)


def _audience(identity: Ident) -> Audience:
    return "public" if identity.kind == "anonymous" else "staff"


class OpenReferralController(Controller):
    path = "/openreferral"
    tags = ["open referral uk"]
    guards = READ

    @get("/", operation_id="getOpenReferralAbout", responses=problem_responses())
    async def about(self) -> hsds.About:
        """Which HSDS version and profile this API follows."""
        return hsds.About(version="3.0", profile=PROFILE_URL, openapi_url=OPENAPI_URL)

    @get(
        "/services",
        operation_id="listOpenReferralServices",
        responses={**_ok(ServicePage, "A page of services."), **problem_responses(422)},
    )
    async def services(
        self,
        state: State,
        identity: Ident,
        search: Text = None,
        text: Text = None,
        taxonomy_term_id: TermId = None,
        taxonomy_id: TaxonomyId = None,
        organization_id: OrganizationId = None,
        modified_after: ModifiedAfter = None,
        minimum_age: MinAge = None,
        maximum_age: MaxAge = None,
        start_time: Clock = None,
        end_time: Clock = None,
        day: Day = None,
        full: Full = False,
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> Response[bytes]:
        """Services, a page at a time, filtered as the ORUK profile describes; `full` nests each one whole."""
        published, listing = await _listing(state)
        wanted = filters(
            published,
            listing.publishing,
            search or text,
            taxonomy_term_id,
            taxonomy_id,
            organization_id,
            modified_after,
            minimum_age,
            maximum_age,
            start_time,
            end_time,
            day_of(day),
        )
        chosen = await listing.select(wanted)
        shown = listing.services(chosen[(page - 1) * per_page : page * per_page])
        audience = _audience(identity)
        items = [published.full(s, listing, audience) if full else published.listed(s, listing) for s in shown]
        return _json(page_json(items, len(chosen), page, per_page))

    @get(
        "/services/{id:str}",
        operation_id="getOpenReferralService",
        responses={**_ok(hsds.Service, "The service, fully nested."), **problem_responses(404)},
    )
    async def service(self, state: State, identity: Ident, id: Id) -> Response[bytes]:
        """One service, fully nested."""
        published, listing = await _listing(state)
        found = listing.service(id.lower())
        if found is None:
            raise NotFound("service", id)
        return _json(published.full(found, listing, _audience(identity)))

    @get(
        "/service_at_locations",
        operation_id="listOpenReferralServiceAtLocations",
        responses={**_ok(ServiceAtLocationPage, "A page of services at their locations."), **problem_responses(422)},
    )
    async def service_at_locations(
        self,
        state: State,
        identity: Ident,
        search: Text = None,
        text: Text = None,
        taxonomy_term_id: TermId = None,
        taxonomy_id: TaxonomyId = None,
        organization_id: OrganizationId = None,
        modified_after: ModifiedAfter = None,
        minimum_age: MinAge = None,
        maximum_age: MaxAge = None,
        start_time: Clock = None,
        end_time: Clock = None,
        day: Day = None,
        postcode: Postcode = None,
        proximity: Proximity = None,
        full: Full = False,
        page: Page = 1,
        per_page: PerPage = 50,
    ) -> Response[bytes]:
        """Each service at its location, filtered as /services is, and by postcode: its catchment covers the
        postcode's centroid, or with `proximity`, it is within that many metres of it."""
        published, listing = await _listing(state)
        wanted = filters(
            published,
            listing.publishing,
            search or text,
            taxonomy_term_id,
            taxonomy_id,
            organization_id,
            modified_after,
            minimum_age,
            maximum_age,
            start_time,
            end_time,
            day_of(day),
        )
        near = [] if postcode is None else [_near(listing, postcode, proximity)]
        located = await listing.select(wanted, [listing.located, *near])
        shown = listing.services(located[(page - 1) * per_page : page * per_page])
        audience = _audience(identity)
        items = [msgspec.json.encode(_at_location(published, s, listing, audience, full)) for s in shown]
        return _json(page_json(items, len(located), page, per_page))

    @get(
        "/service_at_locations/{id:str}",
        operation_id="getOpenReferralServiceAtLocation",
        responses={**_ok(hsds.ServiceAtLocationFull, "The service at its location."), **problem_responses(404)},
    )
    async def service_at_location(self, state: State, identity: Ident, id: Id) -> hsds.ServiceAtLocationFull:
        """One service at its location, fully nested."""
        published, listing = await _listing(state)
        found = listing.at_location(id.lower())
        if found is None:
            raise NotFound("service_at_location", id)
        return _at_location(published, found, listing, _audience(identity), True)

    @get(
        "/taxonomies",
        operation_id="listOpenReferralTaxonomies",
        responses={**_ok(TaxonomyPage, "A page of taxonomies."), **problem_responses()},
    )
    async def taxonomies(self, state: State, page: Page = 1, per_page: PerPage = 50) -> Response[bytes]:
        """Our needs, circumstances and code lists as HSDS taxonomies (without their terms: see /taxonomy_terms)."""
        published = published_of(state)
        bare = [msgspec.structs.replace(t, taxonomy_terms=None) for t in published.taxonomies]
        items = [msgspec.json.encode(t) for t in bare[(page - 1) * per_page : page * per_page]]
        return _json(page_json(items, len(bare), page, per_page))

    @get(
        "/taxonomies/{id:str}",
        operation_id="getOpenReferralTaxonomy",
        responses={**_ok(hsds.Taxonomy, "The taxonomy with its terms."), **problem_responses(404)},
    )
    async def taxonomy(self, state: State, id: Id) -> hsds.Taxonomy:
        """One taxonomy, with its terms."""
        for t in published_of(state).taxonomies:
            if t.id == id.lower():
                return t
        raise NotFound("taxonomy", id)

    @get(
        "/taxonomy_terms",
        operation_id="listOpenReferralTaxonomyTerms",
        responses={**_ok(TermPage, "A page of taxonomy terms."), **problem_responses()},
    )
    async def taxonomy_terms(
        self, state: State, taxonomy_id: TaxonomyId = None, page: Page = 1, per_page: PerPage = 50
    ) -> Response[bytes]:
        """Every term of our taxonomies (or of one, with taxonomy_id)."""
        terms = [
            term
            for t in published_of(state).taxonomies
            if taxonomy_id is None or t.id == taxonomy_id.lower() or t.name == taxonomy_id
            for term in t.taxonomy_terms or ()
        ]
        items = [msgspec.json.encode(t) for t in terms[(page - 1) * per_page : page * per_page]]
        return _json(page_json(items, len(terms), page, per_page))

    @get(
        "/taxonomy_terms/{id:str}",
        operation_id="getOpenReferralTaxonomyTerm",
        responses={**_ok(hsds.TaxonomyTerm, "The taxonomy term."), **problem_responses(404)},
    )
    async def taxonomy_term(self, state: State, id: Id) -> hsds.TaxonomyTerm:
        """One taxonomy term."""
        for t in published_of(state).taxonomies:
            for term in t.taxonomy_terms or ():
                if term.id == id.lower():
                    return term
        raise NotFound("taxonomy_term", id)


async def _listing(state: State) -> tuple[Published, Listing]:
    published = published_of(state)
    return published, await published.listing(runtime_of(state).index)


def _at_location(
    published: Published, s: Service, listing: Listing, audience: Audience, full: bool
) -> hsds.ServiceAtLocationFull:
    location = oruk_export.service_location(s, with_address=full)
    assert location is not None
    if full:  # the service whole, less its locations (the record is one of them)
        service = msgspec.structs.replace(published.record(s, listing, audience), service_at_locations=None)
    else:  # its one-to-one fields: the same JSON as a /services page item
        service = hsds.Service(**msgspec.structs.asdict(oruk_export.listed(s, listing.publishing)))
    return hsds.ServiceAtLocationFull(
        id=oruk_export.service_at_location_id(s),
        service_id=str(s.id),
        location_id=location.id,
        location=location,
        service=service,
    )


def _near(listing: Listing, postcode: str, metres: float | None) -> Mask:
    """Rows of services whose catchment covers the postcode's centroid, or with `metres`, whose point is within that
    many metres of it."""
    index = listing.index
    found = index.places.locate_postcode(postcode)
    if found is None:
        raise InvalidInput((FieldProblem(field="postcode", reason=f"no centroid known for {postcode!r}"),))
    _, (lon, lat) = found
    if metres is not None:
        return listing.within(lon, lat, metres / 1000)
    return listing.covering(index.candidates.everywhere(index.resolve_point(lon, lat)))


class OpenReferralImportController(Controller):
    """Reading a feed in: beside the directory's own import (service/api/documents.py), under the same path."""

    path = "/v1"
    tags = ["directory"]
    guards = READ

    @post(
        "/directory/import-openreferral",
        guards=ADMIN,
        operation_id="importOpenReferral",
        status_code=200,
        responses=problem_responses(403, 400, 413, 422),
    )
    async def import_openreferral(
        self,
        conn: Conn,
        actor: Actor,
        vocab: Vocab,
        body: RawBody,
        dry_run: Annotated[bool, QueryParameter(description="Check and report, but write nothing.")] = False,
    ) -> OpenReferralReport:
        """Import an Open Referral (HSDS 3.0 / ORUK) feed: a paging envelope or an array of full services, all or
        nothing, reporting what could not be mapped, what was left behind and what was assumed (admins)."""
        return await import_openreferral(conn, [("body", body)], actor=actor, vocab=vocab, dry_run=dry_run)
