"""/v1/directory: the whole directory as one document, and the taxonomies it is checked against."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Response, get, post
from litestar.datastructures import State
from litestar.params import RawBody

from service.domain.access import Forbidden, Identity, may_write_service
from service.domain.audience import public_record
from service.domain.model import ServiceBody, Taxonomy
from service.server.access import EDIT, READ, Reach, held_for_review
from service.server.deps import Actor, Conn, Ident, SnapshotConn, Vocab
from service.server.problems import problem_responses
from service.store.directory import (
    DirectoryDocument,
    ImportReport,
    Scope,
    directory_json_schema,
    export_snapshot,
    import_directory,
)


def _scope(state: State, conn: Conn, identity: Identity) -> Scope | None:
    """An editor's import is checked record by record, by what each catchment covers; an admin's is not."""
    if identity.role == "admin":
        return None
    reach = Reach(state, conn, identity)

    async def check(body: ServiceBody) -> str | None:
        try:
            may_write_service(identity, await reach(body))
        except Forbidden as e:
            return str(e)
        return None

    return check


class DirectoryController(Controller):
    path = "/v1"
    tags = ["directory"]
    guards = READ

    @post(
        "/directory/import",
        guards=EDIT,
        operation_id="importDirectory",
        status_code=200,
        responses=problem_responses(403, 400, 413, 422),
    )
    async def import_(
        self, state: State, conn: Conn, actor: Actor, vocab: Vocab, identity: Ident, body: RawBody
    ) -> ImportReport:
        """Import a directory document, all or nothing, with a report of every bad record (an editor: services
        within its areas only; where editors' changes are reviewed, admins only)."""
        held_for_review(state, identity)
        return await import_directory(conn, body, actor=actor, vocab=vocab, scope=_scope(state, conn, identity))

    @get("/directory/export", operation_id="exportDirectory", responses=problem_responses())
    async def export(self, snapshot_conn: SnapshotConn, identity: Ident) -> Response[DirectoryDocument]:
        """Export the whole directory as one document; X-Directory-Version says which version it is."""
        document, version = await export_snapshot(snapshot_conn)
        if identity.kind == "anonymous":  # the public's copy: no professionals-only numbers
            document = msgspec.structs.replace(document, services=tuple(public_record(s) for s in document.services))
        return Response(document, headers={"X-Directory-Version": str(version)})

    @get(
        "/directory/schema",
        operation_id="getDirectorySchema",
        media_type="application/schema+json",
        responses=problem_responses(),
    )
    async def schema(self) -> dict[str, Any]:
        """The JSON Schema of the directory document (the same as schema/directory.schema.json)."""
        return directory_json_schema()

    @get("/taxonomies/needs", operation_id="getNeedsTaxonomy", responses=problem_responses())
    async def needs(self, vocab: Vocab) -> Taxonomy:
        """The current needs taxonomy: codes, labels, one-line definitions and themes."""
        return vocab.needs

    @get("/taxonomies/circumstances", operation_id="getCircumstances", responses=problem_responses())
    async def circumstances(self, vocab: Vocab) -> Taxonomy:
        """The current circumstances list."""
        return vocab.circumstances
