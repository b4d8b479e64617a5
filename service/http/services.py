"""/v1/services: the directory's services."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Response, delete, get, patch, post, put
from litestar.datastructures import ResponseHeader
from litestar.params import Parameter

from service.domain.model import Change, Service, ServiceBody, ServicePatch, Taxonomies
from service.domain.types import Code, Context, ServiceKind, ServiceStatus
from service.domain.versioning import etag
from service.http.problems import problem_responses
from service.http.schemas import IfMatch, Limit, Offset, ServicePage
from service.store import services as store
from service.store.db import Connection

ETAG = [ResponseHeader(name="ETag", documentation_only=True, description="The service's version; send it back in If-Match.")]
Key = Annotated[str, Parameter(description="Service id (UUID) or slug.", max_length=80)]


def _with_etag(service: Service, status: int = 200) -> Response[Service]:
    return Response(service, status_code=status, headers={"ETag": etag(service.version)})


class ServiceController(Controller):
    path = "/v1/services"
    tags = ["services"]

    @get("/", operation_id="listServices", responses=problem_responses(400))
    async def list_services(
        self,
        conn: Connection,
        kind: ServiceKind | None = None,
        area: Annotated[str | None, Parameter(description="Area code in the catchment.", max_length=32)] = None,
        need: Annotated[Code | None, Parameter(description="Needs-taxonomy code.")] = None,
        context: Context | None = None,
        status: Annotated[ServiceStatus | None, Parameter(description="Default: all but closed.")] = None,
        q: Annotated[str | None, Parameter(description="Text in slug, name, organisation or description.", max_length=200)] = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> ServicePage:
        """List services, filtered and paged, ordered by name."""
        items, total = await store.list_services(
            conn,
            store.ServiceFilter(
                kind=kind, area=area, need=need, context=context, status=status, text=q, limit=limit, offset=offset
            ),
        )
        return ServicePage(items=tuple(items), total=total, limit=limit, offset=offset)

    @post("/", operation_id="createService", response_headers=ETAG, responses=problem_responses(400, 409, 413, 422))
    async def create_service(
        self, conn: Connection, data: ServiceBody, actor: str, vocab: Taxonomies
    ) -> Response[Service]:
        """Create a service."""
        return _with_etag(await store.create_service(conn, data, actor=actor, vocab=vocab), 201)

    @get("/{key:str}", operation_id="getService", response_headers=ETAG, responses=problem_responses(404))
    async def get_service(self, conn: Connection, key: Key) -> Response[Service]:
        """Get one service by id or slug."""
        return _with_etag(await store.get_service(conn, key))

    @put(
        "/{key:str}",
        operation_id="replaceService",
        response_headers=ETAG,
        responses=problem_responses(400, 404, 409, 412, 413, 422),
    )
    async def replace_service(
        self, conn: Connection, key: Key, data: ServiceBody, actor: str, vocab: Taxonomies, if_match: IfMatch = None
    ) -> Response[Service]:
        """Replace a service whole."""
        return _with_etag(
            await store.replace_service(conn, key, data, actor=actor, vocab=vocab, if_match=if_match)
        )

    @patch(
        "/{key:str}",
        operation_id="updateService",
        response_headers=ETAG,
        responses=problem_responses(400, 404, 409, 412, 413, 422),
    )
    async def update_service(
        self, conn: Connection, key: Key, data: ServicePatch, actor: str, vocab: Taxonomies, if_match: IfMatch = None
    ) -> Response[Service]:
        """Change some fields of a service."""
        return _with_etag(await store.update_service(conn, key, data, actor=actor, vocab=vocab, if_match=if_match))

    @delete(
        "/{key:str}",
        operation_id="deleteService",
        status_code=200,
        response_headers=ETAG,
        responses=problem_responses(404, 412),
    )
    async def delete_service(self, conn: Connection, key: Key, actor: str, if_match: IfMatch = None) -> Response[Service]:
        """Close a service (a soft delete: it stays, with its history)."""
        return _with_etag(await store.delete_service(conn, key, actor=actor, if_match=if_match))

    @get("/{key:str}/history", operation_id="getServiceHistory", responses=problem_responses(404))
    async def history(self, conn: Connection, key: Key) -> list[Change]:
        """Every change to a service: when, by whom, and each field old -> new."""
        return await store.service_history(conn, key)
