"""/v1/changes: the whole directory's change log, for admins to see who wrote what."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import QueryParameter

from service.domain.model import ChangeEntry
from service.domain.types import SINGLE_LINE
from service.server.access import ADMIN
from service.server.deps import Conn
from service.server.problems import problem_responses
from service.store.changes import ChangeFilter, changes


class ChangeController(Controller):
    path = "/v1/changes"
    tags = ["directory"]
    guards = ADMIN

    @get("/", operation_id="listChanges", responses=problem_responses(403))
    async def list_changes(
        self,
        conn: Conn,
        # Named `actor` in the query; the Python name cannot be, since `actor` is the request's own (a dependency).
        written_by: Annotated[
            str | None,
            QueryParameter(
                name="actor",
                description="Exactly as the history names it, e.g. `key:Humberside L&D (1f0c2a9b)`.",
                max_length=300,
                pattern=SINGLE_LINE,
            ),
        ] = None,
        key_id: Annotated[uuid.UUID | None, QueryParameter(description="Every write made with this API key.")] = None,
        entity: Annotated[Literal["service", "area", "site"] | None, QueryParameter()] = None,
        after: Annotated[
            int, QueryParameter(ge=0, le=2**53, description="Changes after this id (the last one you read).")
        ] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 100,
    ) -> list[ChangeEntry]:
        """Who wrote what: the change log in order, filtered by actor, key or kind of record."""
        found = ChangeFilter(
            after=after, actor=written_by, key_id=str(key_id) if key_id else None, entity=entity, limit=limit
        )
        return await changes(conn, found)
