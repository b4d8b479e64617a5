"""Proposed changes in PostgreSQL, and their approval through the API's own write path. SQL in sql/*.sql."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from pathlib import Path
from typing import Any

import msgspec
from litestar.datastructures import State

from service.domain.access import Forbidden, Identity
from service.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound
from service.domain.model import ServiceBody, Taxonomies
from service.domain.versioning import etag
from service.server.access import service_writer
from service.settings import Settings
from service.stewardship.answers import carried_over
from service.stewardship.editing import Doc, document_of
from service.stewardship.problem_store import audit
from service.stewardship.proposals import Proposal, RejectReason, proposal_of
from service.store import services as service_store
from service.store.db import Connection
from service.store.services import Authorise
from service.store.sql import queries

sql = queries(Path(__file__).parent / "sql")
MOST_LISTED = 200
MOST_WAITING = 5
"""Open proposals one person may have for one service: enough for any real need, not enough to flood a queue."""


def plain(doc: Doc) -> Doc:
    """A document as JSON holds it (lists, not tuples), so that documents read from the database and made here
    compare equal when they say the same."""
    found: Doc = msgspec.json.decode(msgspec.json.encode(doc))
    return found


def _current(record: dict[str, Any]) -> Doc:
    return plain(document_of(msgspec.convert(record["current"], ServiceBody)))


def _proposal(row: Any) -> Proposal:
    record = dict(row.items())
    return proposal_of(record, _current(record), record["current_version"])


async def propose(
    conn: Connection,
    key: str,
    document: Doc,
    *,
    base_version: int | None,
    base: Doc | None,
    actor: str,
    vocab: Taxonomies,
    authorise: Authorise,
    now: dt.datetime,
) -> Proposal:
    """Keep a proposed document for a service, against the version it was made from (the current one when not
    given), after the same checks a write gets: its types and rules, and who may propose (`authorise`, judged on the
    stored and the proposed body). Nothing about the service changes."""
    current = await service_store.get_service(conn, key)
    body = msgspec.convert(document, ServiceBody)
    await service_store.check_service(conn, body, vocab)
    await authorise(service_store.body_of(current))
    await authorise(body)
    if base_version is None or base is None:
        base_version, base = current.version, document_of(service_store.body_of(current))
    base = plain(base)
    if base_version > current.version:
        raise InvalidInput((FieldProblem(field="base_version", reason="is newer than the service"),))
    waiting = await conn.fetchval(sql("proposals_waiting"), current.id, actor)
    if waiting >= MOST_WAITING:
        raise Conflict(
            "body", f"you have {waiting} proposals waiting for this service: wait for a decision, or ask an editor"
        )
    proposal_id = uuid.uuid4()
    proposed = plain(document_of(body))
    if proposed == base:
        raise Conflict("body", "this proposal changes nothing")
    await conn.execute(sql("proposals_insert"), proposal_id, current.id, base_version, base, proposed, actor, now)
    await audit(conn, actor, "proposal.made", current.id, str(proposal_id), {"base_version": base_version}, now)
    return await get_proposal(conn, proposal_id)


async def get_proposal(conn: Connection, proposal_id: uuid.UUID) -> Proposal:
    row = await conn.fetchrow(sql("proposals_get"), proposal_id)
    if row is None:
        raise NotFound("proposal", str(proposal_id))
    return _proposal(row)


async def proposed_services(conn: Connection, *, open_only: bool = True) -> list[uuid.UUID]:
    return [r["service_id"] for r in await conn.fetch(sql("proposals_services"), "open" if open_only else "decided")]


async def list_proposals(
    conn: Connection,
    services: Collection[uuid.UUID] | None = None,
    *,
    open_only: bool = True,
    limit: int = MOST_LISTED,
) -> list[Proposal]:
    """Proposals about these services (None: all), open or decided, newest first."""
    ids = None if services is None else list(services)
    rows = await conn.fetch(sql("proposals_list"), "open" if open_only else "decided", limit, ids)
    return [_proposal(r) for r in rows]


async def open_counts(conn: Connection) -> dict[uuid.UUID, int]:
    return {r["service_id"]: r["open"] for r in await conn.fetch(sql("proposals_counts"))}


async def approve(
    conn: Connection,
    proposal_id: uuid.UUID,
    *,
    overwrite: bool,
    actor: str,
    vocab: Taxonomies,
    authorise: Authorise,
    now: dt.datetime,
) -> Proposal:
    """Write the proposal as a new version through the API's write path (its rules, its scope check, If-Match on
    the version read): as proposed when the service has not changed since; otherwise its changes made again on the
    current version, refused while a field both changed is not confirmed with `overwrite`."""
    row = await conn.fetchrow(sql("proposals_get") + " for update of p", proposal_id)
    if row is None:
        raise NotFound("proposal", str(proposal_id))
    found = _proposal(row)
    if found.status != "open":
        raise Conflict("status", f"this proposal was {found.status} already, by {found.decided_by}")
    if found.proposed_by == actor:
        raise Forbidden("a proposal is decided by someone other than the person who made it")
    record = dict(row.items())
    current = _current(record)
    document = record["document"]
    if found.stale:
        document, both = carried_over(record["base"], document, current)
        if both and not overwrite:
            fields = ", ".join(both)
            raise Conflict(
                "overwrite", f"this proposal and a later change both altered {fields}: confirm to keep the proposal's"
            )
    body = msgspec.convert(document, ServiceBody)
    written = await service_store.replace_service(
        conn,
        str(found.service_id),
        body,
        actor=actor,
        vocab=vocab,
        if_match=etag(found.current_version),
        authorise=authorise,
    )
    await conn.fetchval(sql("proposals_decide"), proposal_id, "approved", now, actor, None, written.version)
    detail = {"proposed_by": found.proposed_by, "version": written.version, "stale": found.stale}
    await audit(conn, actor, "proposal.approved", found.service_id, str(proposal_id), detail, now)
    return await get_proposal(conn, proposal_id)


async def reject(
    conn: Connection, proposal_id: uuid.UUID, reason: RejectReason, *, actor: str, now: dt.datetime
) -> Proposal:
    found = await get_proposal(conn, proposal_id)
    if await conn.fetchval(sql("proposals_decide"), proposal_id, "rejected", now, actor, reason, None) is None:
        raise Conflict("status", f"this proposal was {found.status} already, by {found.decided_by}")
    detail = {"reason": reason, "proposed_by": found.proposed_by}
    await audit(conn, actor, "proposal.rejected", found.service_id, str(proposal_id), detail, now)
    return await get_proposal(conn, proposal_id)


def must_propose(settings: Settings, identity: Identity) -> bool:
    """Whether this person's changes to a service's details are proposals: a provider's always; an editor's where
    PATHWAYS_EDITS_NEED_REVIEW is set. Admins publish."""
    return identity.role == "provider" or (identity.role == "editor" and settings.edits_need_review)


def proposer(state: State, conn: Connection, identity: Identity, service_id: uuid.UUID) -> Authorise:
    """Who may propose a change to a service: its providers; editors by the API's own write rule; admins."""
    if identity.role == "provider":

        async def own(body: ServiceBody) -> None:
            if str(service_id) not in identity.services:
                raise Forbidden("a provider key may propose changes to its own services only")

        return own
    if identity.role not in ("editor", "admin"):

        async def nobody(body: ServiceBody) -> None:
            raise Forbidden(f"a {identity.role} key may not propose changes")

        return nobody
    return service_writer(state, conn, identity)
