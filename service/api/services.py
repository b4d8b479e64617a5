"""/v1/services: the directory's services."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State
from litestar.params import FromQuery, JSONBody, QueryParameter

from service.domain.audience import public_history, public_record
from service.domain.decoding import decode
from service.domain.errors import InvalidInput
from service.domain.model import Capacity, Change, Service, ServiceBody
from service.domain.patch import ServicePatch
from service.domain.types import AwareDateTime, CapacityStatus, Context, ServiceKind, ServiceStatus, ShortText
from service.domain.validation import capacity_problems
from service.domain.versioning import etag
from service.server.access import CAPACITY, EDIT, READ, capacity_writer, publisher, service_writer
from service.server.deps import Actor, Conn, Ident, Vocab
from service.server.problems import problem_responses
from service.server.schemas import (
    ETAG,
    AreaFilter,
    IfMatch,
    Limit,
    NeedFilter,
    Offset,
    ServiceKey,
    ServicePage,
    TextFilter,
)
from service.store import services as store

Key = ServiceKey


def _with_etag(service: Service, status: int = 200) -> Response[Service]:
    return Response(service, status_code=status, headers={"ETag": etag(service.version)})


class VerifyBody(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A check of a service's details (the body is optional)."""

    review_by: dt.date | None = None
    """A date to check again sooner than the deployment's review period (PATHWAYS_REVIEW_MONTHS after today): after
    today, before 2101."""


class CapacityUpdate(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Live capacity. After `until` (at most 120 hours ahead) the status reads as unknown."""

    status: CapacityStatus
    until: AwareDateTime | None = None
    note: ShortText = ""


class ServiceController(Controller):
    path = "/v1/services"
    tags = ["services"]
    guards = READ

    @get("/", operation_id="listServices", responses=problem_responses(400))
    async def list_services(
        self,
        conn: Conn,
        identity: Ident,
        kind: FromQuery[ServiceKind | None] = None,
        area: AreaFilter = None,
        need: NeedFilter = None,
        context: FromQuery[Context | None] = None,
        status: Annotated[ServiceStatus | None, QueryParameter(description="Default: all but closed.")] = None,
        q: TextFilter = None,
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
        if identity.kind == "anonymous":
            items = [public_record(s) for s in items]
        return ServicePage(items=tuple(items), total=total, limit=limit, offset=offset)

    @post(
        "/",
        operation_id="createService",
        guards=EDIT,
        response_headers=ETAG,
        responses=problem_responses(400, 401, 403, 409, 413, 422),
    )
    async def create_service(
        self, state: State, conn: Conn, data: JSONBody[ServiceBody], actor: Actor, vocab: Vocab, identity: Ident
    ) -> Response[Service]:
        """Create a service (an editor within its areas, or an admin)."""
        service = await store.create_service(
            conn, data, actor=actor, vocab=vocab, authorise=publisher(state, conn, identity)
        )
        return _with_etag(service, 201)

    @get("/{key:str}", operation_id="getService", response_headers=ETAG, responses=problem_responses(401, 404))
    async def get_service(self, conn: Conn, key: Key, identity: Ident) -> Response[Service]:
        """Get one service by id or slug."""
        service = await store.get_service(conn, key)
        return _with_etag(public_record(service) if identity.kind == "anonymous" else service)

    @put(
        "/{key:str}",
        operation_id="replaceService",
        guards=EDIT,
        response_headers=ETAG,
        responses=problem_responses(400, 403, 404, 409, 412, 413, 422),
    )
    async def replace_service(
        self,
        state: State,
        conn: Conn,
        key: Key,
        data: JSONBody[ServiceBody],
        actor: Actor,
        vocab: Vocab,
        identity: Ident,
        if_match: IfMatch = None,
    ) -> Response[Service]:
        """Replace a service whole (an editor in scope of both the old and the new, or an admin)."""
        service = await store.replace_service(
            conn,
            key,
            data,
            actor=actor,
            vocab=vocab,
            if_match=if_match,
            authorise=publisher(state, conn, identity),
        )
        return _with_etag(service)

    @patch(
        "/{key:str}",
        operation_id="updateService",
        guards=EDIT,
        response_headers=ETAG,
        responses=problem_responses(400, 403, 404, 409, 412, 413, 422),
    )
    async def update_service(
        self,
        state: State,
        conn: Conn,
        key: Key,
        data: JSONBody[ServicePatch],
        actor: Actor,
        vocab: Vocab,
        identity: Ident,
        if_match: IfMatch = None,
    ) -> Response[Service]:
        """Change some fields of a service."""
        service = await store.update_service(
            conn,
            key,
            data,
            actor=actor,
            vocab=vocab,
            if_match=if_match,
            authorise=publisher(state, conn, identity),
        )
        return _with_etag(service)

    @delete(
        "/{key:str}",
        operation_id="deleteService",
        status_code=200,
        guards=EDIT,
        response_headers=ETAG,
        responses=problem_responses(403, 404, 412),
    )
    async def delete_service(
        self, state: State, conn: Conn, key: Key, actor: Actor, identity: Ident, if_match: IfMatch = None
    ) -> Response[Service]:
        """Close a service (a soft delete: it stays, with its history)."""
        service = await store.delete_service(
            conn, key, actor=actor, if_match=if_match, authorise=publisher(state, conn, identity)
        )
        return _with_etag(service)

    @put(
        "/{key:str}/capacity",
        operation_id="setCapacity",
        guards=CAPACITY,
        response_headers=ETAG,
        responses=problem_responses(400, 403, 404, 412, 413, 422),
    )
    async def set_capacity(
        self,
        state: State,
        conn: Conn,
        key: Key,
        data: JSONBody[CapacityUpdate],
        actor: Actor,
        identity: Ident,
        if_match: IfMatch = None,
    ) -> Response[Service]:
        """Update live capacity (a provider for its own services, an editor in scope, or an admin)."""
        capacity = Capacity(status=data.status, until=data.until, note=data.note)
        problems = capacity_problems(capacity, dt.datetime.now(dt.UTC), field="", future=True)
        if problems:
            raise InvalidInput(tuple(problems))
        current = await store.get_service(conn, key)
        service = await store.set_capacity(
            conn,
            key,
            capacity,
            actor=actor,
            if_match=if_match,
            authorise=capacity_writer(state, conn, identity, str(current.id)),
        )
        return _with_etag(service)

    @post(
        "/{key:str}/verify",
        operation_id="verifyService",
        status_code=200,
        guards=EDIT,
        response_headers=ETAG,
        responses=problem_responses(403, 404, 412, 422),
    )
    async def verify(
        self,
        state: State,
        conn: Conn,
        key: Key,
        actor: Actor,
        identity: Ident,
        request: Request[Any, Any, Any],
        if_match: IfMatch = None,
    ) -> Response[Service]:
        """Mark a service verified now, by this editor (in scope) or admin; an optional JSON body
        `{"review_by": "YYYY-MM-DD"}` sets a sooner date to check again."""
        body = await request.body()
        data = decode(body, VerifyBody) if body.strip() else None
        service = await store.mark_verified(
            conn,
            key,
            by=identity.name,
            actor=actor,
            if_match=if_match,
            authorise=service_writer(state, conn, identity),
            review_by=data.review_by if data is not None else None,
        )
        return _with_etag(service)

    @get("/{key:str}/history", operation_id="getServiceHistory", responses=problem_responses(404))
    async def history(self, conn: Conn, key: Key, identity: Ident) -> list[Change]:
        """Every change to a service: when, by whom, and each field old -> new."""
        changes = await store.service_history(conn, key)
        return public_history(changes) if identity.kind == "anonymous" else changes
