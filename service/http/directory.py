"""/v1/directory: the whole directory as one document, and the taxonomies it is checked against."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.params import RawBody

from service.domain.model import Taxonomy
from service.http.access import ADMIN, READ
from service.http.deps import Actor, Conn, Vocab
from service.http.problems import problem_responses
from service.store.changes import directory_version
from service.store.directory import (
    DirectoryDocument,
    ImportReport,
    directory_json_schema,
    export_directory,
    import_directory,
)


class DirectoryController(Controller):
    path = "/v1"
    tags = ["directory"]
    guards = READ

    @post(
        "/directory/import",
        guards=ADMIN,
        operation_id="importDirectory",
        status_code=200,
        responses=problem_responses(403, 400, 413, 422),
    )
    async def import_(
        self,
        conn: Conn,
        actor: Actor,
        vocab: Vocab,
        body: RawBody,
    ) -> ImportReport:
        """Import a whole directory document, all or nothing, with a report of every bad record."""
        return await import_directory(conn, body, actor=actor, vocab=vocab)

    @get("/directory/export", operation_id="exportDirectory", responses=problem_responses())
    async def export(self, conn: Conn) -> Response[DirectoryDocument]:
        """Export the whole directory as one document; X-Directory-Version says which version it is."""
        document = await export_directory(conn)
        return Response(document, headers={"X-Directory-Version": str(await directory_version(conn))})

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
