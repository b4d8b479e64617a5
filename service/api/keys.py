"""/v1/keys: API keys, for admins."""

from __future__ import annotations

import uuid
from typing import Annotated

import msgspec
from litestar import Controller, Response, delete, get, post
from litestar.params import JSONBody, PathParameter

from service.domain.access import Role
from service.domain.types import AreaCode, KeyName
from service.server.access import ADMIN
from service.server.deps import Actor, Conn
from service.server.problems import problem_responses
from service.store import keys as store


class KeyRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    name: KeyName
    role: Role
    area_codes: Annotated[tuple[AreaCode, ...], msgspec.Meta(max_length=100)] = ()
    """An editor's scope."""
    service_ids: Annotated[tuple[uuid.UUID, ...], msgspec.Meta(max_length=500)] = ()
    """A provider's services."""


class KeyController(Controller):
    path = "/v1/keys"
    tags = ["keys"]
    guards = ADMIN

    @post("/", operation_id="createKey", responses=problem_responses(400, 403, 413, 422))
    async def create_key(self, conn: Conn, data: JSONBody[KeyRequest], actor: Actor) -> Response[store.CreatedKey]:
        """Create a key. The key itself is in this response only; it is stored as a hash."""
        created = await store.create_key(
            conn,
            name=data.name,
            role=data.role,
            area_codes=data.area_codes,
            service_ids=data.service_ids,
            created_by=actor,
        )
        return Response(created, status_code=201)

    @get("/", operation_id="listKeys", responses=problem_responses(403))
    async def list_keys(self, conn: Conn) -> list[store.ApiKey]:
        """Every key, without its secret."""
        return await store.list_keys(conn)

    @delete("/{key_id:uuid}", operation_id="revokeKey", status_code=200, responses=problem_responses(403, 404))
    async def revoke_key(self, conn: Conn, key_id: Annotated[uuid.UUID, PathParameter()]) -> store.ApiKey:
        """Revoke a key: every replica refuses it within a second."""
        return await store.revoke_key(conn, key_id)
