"""/v1/sites: custody suites, courts and other places people are referred from."""

from __future__ import annotations

from litestar import Controller, Response, get, post, put
from litestar.params import FromQuery, JSONBody, RawBody

from service.domain.model import Site, SiteBody
from service.domain.types import SiteKind
from service.domain.versioning import etag
from service.server.access import ADMIN, READ
from service.server.deps import Actor, Conn, Vocab
from service.server.problems import problem_responses
from service.server.schemas import ETAG, AreaFilter, IfMatch, Limit, Offset, SiteKey, SitePage
from service.store import sites as store
from service.store.directory import ImportReport, import_sites

Key = SiteKey


class SiteController(Controller):
    path = "/v1/sites"
    tags = ["sites"]
    guards = READ

    @get("/", operation_id="listSites", responses=problem_responses(400))
    async def list_sites(
        self,
        conn: Conn,
        kind: FromQuery[SiteKind | None] = None,
        area: AreaFilter = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> SitePage:
        """List sites, ordered by name."""
        items, total = await store.list_sites(conn, kind, area, limit, offset)
        return SitePage(items=tuple(items), total=total, limit=limit, offset=offset)

    @get("/{key:str}", operation_id="getSite", response_headers=ETAG, responses=problem_responses(404))
    async def get_site(self, conn: Conn, key: Key) -> Response[Site]:
        """Get one site by id or slug."""
        site = await store.get_site(conn, key)
        return Response(site, headers={"ETag": etag(site.version)})

    @post(
        "/",
        guards=ADMIN,
        operation_id="createSite",
        response_headers=ETAG,
        responses=problem_responses(403, 400, 409, 413, 422),
    )
    async def create_site(self, conn: Conn, data: JSONBody[SiteBody], actor: Actor) -> Response[Site]:
        """Create a site; its area codes are worked out from stored boundaries when left empty."""
        site = await store.create_site(conn, data, actor=actor)
        return Response(site, status_code=201, headers={"ETag": etag(site.version)})

    @put(
        "/{key:str}",
        guards=ADMIN,
        operation_id="replaceSite",
        response_headers=ETAG,
        responses=problem_responses(403, 400, 404, 409, 412, 413, 422),
    )
    async def replace_site(
        self, conn: Conn, key: Key, data: JSONBody[SiteBody], actor: Actor, if_match: IfMatch = None
    ) -> Response[Site]:
        """Replace a site whole."""
        site = await store.replace_site(conn, key, data, actor=actor, if_match=if_match)
        return Response(site, headers={"ETag": etag(site.version)})

    @post(
        "/import",
        guards=ADMIN,
        operation_id="importSites",
        status_code=200,
        responses=problem_responses(403, 400, 413, 422),
    )
    async def import_sites(
        self,
        conn: Conn,
        actor: Actor,
        vocab: Vocab,
        body: RawBody,
    ) -> ImportReport:
        """Bulk import sites, all or nothing; a record with a known id or slug replaces that site."""
        return await import_sites(conn, body, actor=actor, vocab=vocab)
