"""/v1/sites: custody suites, courts and other places people are referred from."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, Response, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter, RawBody

from service.domain.model import Site, SiteBody
from service.domain.types import SiteKind
from service.domain.versioning import etag
from service.server.access import ADMIN, READ
from service.server.deps import Actor, Conn, Vocab
from service.server.problems import problem_responses
from service.server.schemas import CSV, ETAG, AreaFilter, IfMatch, Limit, Offset, SiteKey, SitePage
from service.store import sites as store
from service.store.directory import ImportReport, import_sites
from service.store.site_import import SiteFileReport, SitesDocument, export_sites, import_site_file, sites_document

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

    @post(
        "/import.csv",
        guards=ADMIN,
        operation_id="importSitesCsv",
        status_code=200,
        responses=problem_responses(403, 400, 409, 413, 422),
    )
    async def import_sites_csv(
        self,
        conn: Conn,
        actor: Actor,
        vocab: Vocab,
        body: RawBody,
        kind: Annotated[
            SiteKind | None,
            QueryParameter(description="The kind of every row without a kind column (the MoJ list: custody_suite)."),
        ] = None,
        skip_unplaced: Annotated[
            bool,
            QueryParameter(description="Leave out (and list) rows whose postcode is in no stored sector or district."),
        ] = False,
    ) -> SiteFileReport:
        """Bulk import sites from a CSV, all or nothing: the MoJ custody-suite list as it is (nomis_agency_id,
        postcode), or any table with a postcode or latitude and longitude and optionally id, slug, name and kind.
        Rows without a name are named from their force and postcode; a postcode is placed at its sector's centroid,
        else its district's (load them first)."""
        return await import_site_file(conn, body, actor=actor, vocab=vocab, kind=kind, skip_unplaced=skip_unplaced)

    @get("/export", operation_id="exportSites", responses=problem_responses(403))
    async def export_sites_json(self, conn: Conn) -> Response[SitesDocument]:
        """Every site, in the import's JSON format ({"sites": [...]})."""
        return Response(await sites_document(conn), headers=_attachment("json"))

    @get("/export.csv", operation_id="exportSitesCsv", media_type=CSV, responses=problem_responses(403))
    async def export_sites_csv(self, conn: Conn) -> Response[str]:
        """Every site as CSV: id, slug, name, kind, latitude, longitude, area_codes (space-separated)."""
        return Response(await export_sites(conn, "csv"), media_type=CSV, headers=_attachment("csv"))


def _attachment(extension: Literal["json", "csv"]) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="sites.{extension}"'}
