"""/v1/areas: police force areas, local authorities and custom areas."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, get, post, put
from litestar.params import FromQuery, JSONBody, QueryParameter, RawBody

from service.domain.model import Area, AreaBody, StoredArea
from service.domain.types import SINGLE_LINE, AreaKind
from service.domain.versioning import etag
from service.server.access import ADMIN, READ
from service.server.deps import Actor, Conn
from service.server.problems import problem_responses
from service.server.schemas import ETAG, AreaKey, AreaPage, IfMatch, Limit, Offset
from service.store import areas as store
from service.store.area_import import import_areas
from service.store.directory import SectionReport

Prop = Annotated[str, QueryParameter(min_length=1, max_length=64, pattern=SINGLE_LINE)]


class AreaController(Controller):
    path = "/v1/areas"
    tags = ["areas"]
    guards = READ

    @get("/", operation_id="listAreas", responses=problem_responses(400))
    async def list_areas(
        self, conn: Conn, kind: FromQuery[AreaKind | None] = None, limit: Limit = 50, offset: Offset = 0
    ) -> AreaPage:
        """List areas (without boundaries), ordered by code."""
        items, total = await store.list_areas(conn, kind, limit, offset)
        return AreaPage(items=tuple(items), total=total, limit=limit, offset=offset)

    @get("/{code:str}", operation_id="getArea", response_headers=ETAG, responses=problem_responses(404))
    async def get_area(self, conn: Conn, code: AreaKey) -> Response[StoredArea]:
        """Get one area with its boundary."""
        area = await store.get_area(conn, code)
        return Response(area, headers={"ETag": etag(area.version)})

    @put(
        "/{code:str}",
        guards=ADMIN,
        operation_id="putArea",
        response_headers=ETAG,
        responses=problem_responses(403, 400, 412, 413, 422),
    )
    async def put_area(
        self,
        conn: Conn,
        code: AreaKey,
        data: JSONBody[AreaBody],
        actor: Actor,
        if_match: IfMatch = None,
    ) -> Response[StoredArea]:
        """Create or replace an area."""
        area = Area(code=code, kind=data.kind, name=data.name, boundary=data.boundary)
        stored, result = await store.put_area(conn, area, actor=actor, if_match=if_match)
        return Response(stored, status_code=201 if result == "created" else 200, headers={"ETag": etag(stored.version)})

    @post(
        "/import",
        guards=ADMIN,
        operation_id="importAreas",
        status_code=200,
        responses=problem_responses(403, 400, 413, 422),
    )
    async def import_areas(
        self,
        conn: Conn,
        actor: Actor,
        body: RawBody,
        code_property: Prop = "code",
        name_property: Prop = "name",
        kind: FromQuery[AreaKind] = "custom",
    ) -> SectionReport:
        """Bulk import areas, all or nothing."""
        return await import_areas(
            conn, body, actor=actor, code_property=code_property, name_property=name_property, kind=kind
        )
