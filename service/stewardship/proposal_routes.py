"""Proposed changes over the API and as pages: proposing, the editors' queue with each change field by field, and
approving (through the API's own write path, with its rules and scope check) or rejecting with a coded reason.

Who proposes: a provider for its own services, an editor (in scope), an admin. Who decides: an editor who may change
the service, or an admin, never the person who proposed. Who reads a proposal: those who may decide it, and the
provider it came from (for its own services)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect, Template

from service.domain.access import Forbidden, Identity, require_role
from service.domain.decoding import decode
from service.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, PreconditionFailed
from service.domain.patch import ServicePatch
from service.domain.versioning import apply_patch
from service.server.access import service_writer
from service.server.deps import Conn, Ident, Vocab
from service.server.problems import problem_responses
from service.server.runtime import runtime_of
from service.server.schemas import ServiceKey
from service.stewardship import proposal_store
from service.stewardship.answers import change_words
from service.stewardship.editing import document_of
from service.stewardship.notify import keeps
from service.stewardship.proposals import REJECT_WORDS, Approve, Proposal, Reject
from service.stewardship.views import messages_at_fields, names_of, posted, signed_in
from service.store import services as service_store
from service.store.db import Connection

Status = Annotated[Literal["open", "decided"], QueryParameter(description="Open proposals (default) or decided ones.")]


async def readable(state: State, conn: Connection, identity: Identity, proposal: Proposal) -> bool:
    """Whether this person may read a proposal: an admin; an editor who may change the service; the service's
    provider."""
    return await keeps(state, conn, identity, proposal.service_id)


async def in_scope(state: State, conn: Connection, identity: Identity, *, open_only: bool = True) -> list[Proposal]:
    require_role(identity, "editor", "admin", "provider")
    if identity.role == "admin":
        return await proposal_store.list_proposals(conn, None, open_only=open_only)
    services = [
        service_id
        for service_id in await proposal_store.proposed_services(conn, open_only=open_only)
        if await keeps(state, conn, identity, service_id)
    ]
    return await proposal_store.list_proposals(conn, services, open_only=open_only)


async def decide(
    state: State, conn: Connection, identity: Identity, proposal_id: uuid.UUID, answer: Approve | Reject
) -> Proposal:
    """Approve or reject, as an editor in scope or an admin."""
    require_role(identity, "editor", "admin")
    found = await proposal_store.get_proposal(conn, proposal_id)
    service = await service_store.get_service(conn, str(found.service_id))
    authorise = service_writer(state, conn, identity)
    await authorise(service_store.body_of(service))  # a proposal outside the key's scope is not its to decide
    if found.proposed_by == identity.actor:
        raise Forbidden("a proposal is decided by someone other than the person who made it")
    now = dt.datetime.now(dt.UTC)
    match answer:
        case Approve(overwrite=overwrite):
            return await proposal_store.approve(
                conn,
                proposal_id,
                overwrite=overwrite,
                actor=identity.actor,
                vocab=runtime_of(state).vocab,
                authorise=authorise,
                now=now,
            )
        case Reject(reason=reason):
            return await proposal_store.reject(conn, proposal_id, reason, actor=identity.actor, now=now)


class ProposalController(Controller):
    tags = ["Proposals"]

    @post(
        "/v1/services/{key:str}/proposals",
        operation_id="proposeServiceChange",
        status_code=201,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def propose(
        self, state: State, conn: Conn, key: ServiceKey, data: JSONBody[ServicePatch], identity: Ident, vocab: Vocab
    ) -> Proposal:
        """Propose a change to a service (a PATCH body): kept for an editor in scope to approve or reject; nothing
        about the service changes until then."""
        require_role(identity, "provider", "editor", "admin")
        current = await service_store.get_service(conn, key)
        document = document_of(apply_patch(service_store.body_of(current), data))
        return await proposal_store.propose(
            conn,
            key,
            document,
            base_version=None,
            base=None,
            actor=identity.actor,
            vocab=vocab,
            authorise=proposal_store.proposer(state, conn, identity, current.id),
            now=dt.datetime.now(dt.UTC),
        )

    @get("/v1/proposals", operation_id="listProposals", responses=problem_responses(401, 403))
    async def queue(self, state: State, conn: Conn, identity: Ident, status: Status = "open") -> list[Proposal]:
        """Proposals about the services this key may decide (or, for a provider, its own), newest first, each with
        its changes field by field and, when the service has changed since, what changed."""
        return await in_scope(state, conn, identity, open_only=status == "open")

    @get("/v1/proposals/{proposal_id:uuid}", operation_id="getProposal", responses=problem_responses(401, 403, 404))
    async def one(self, state: State, conn: Conn, identity: Ident, proposal_id: FromPath[uuid.UUID]) -> Proposal:
        """One proposal, read against the service as it is now."""
        require_role(identity, "editor", "admin", "provider")
        found = await proposal_store.get_proposal(conn, proposal_id)
        if not await readable(state, conn, identity, found):
            raise Forbidden("this key may not read this proposal")
        return found

    @post(
        "/v1/proposals/{proposal_id:uuid}/approve",
        operation_id="approveProposal",
        status_code=200,
        responses=problem_responses(401, 403, 404, 409, 412, 422),
    )
    async def approve(
        self,
        request: Request[Any, Any, Any],
        state: State,
        conn: Conn,
        identity: Ident,
        proposal_id: FromPath[uuid.UUID],
    ) -> Proposal:
        """Approve: the proposal becomes a new version through the same write path, rules and scope check as PUT.
        An optional body `{"overwrite": true}` keeps the proposal's answers where a later change altered the same
        field."""
        body = await request.body()
        answer = decode(body, Approve) if body.strip() else Approve()
        return await decide(state, conn, identity, proposal_id, answer)

    @post(
        "/v1/proposals/{proposal_id:uuid}/reject",
        operation_id="rejectProposal",
        status_code=200,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def reject(
        self, state: State, conn: Conn, identity: Ident, proposal_id: FromPath[uuid.UUID], data: JSONBody[Reject]
    ) -> Proposal:
        """Reject a proposal with a coded reason."""
        return await decide(state, conn, identity, proposal_id, data)


class ProposalPagesController(Controller):
    include_in_schema = False

    @get("/account/proposals")
    async def queue_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The open proposals this person may decide (or has made, for a provider), each change in words."""
        found = await signed_in(request)
        if found is None:
            return Redirect("/sign-in", status_code=303)
        session, identity = found
        return await _queue_page(request, identity, session.csrf, [], done=request.query_params.get("done"))

    @post("/account/proposals/{proposal_id:uuid}", status_code=200)
    async def decide_page(self, request: Request[Any, Any, Any], proposal_id: FromPath[uuid.UUID]) -> Response[Any]:
        sent = await posted(request)
        if isinstance(sent, Response):
            return sent
        session, identity, form = sent
        field = f"decision-{proposal_id}"
        answer: Approve | Reject
        if form.get("decision") == "approve":
            answer = Approve(overwrite=form.get("overwrite") == "yes")
        elif form.get("decision") == "reject" and form.get("reason") in REJECT_WORDS:
            answer = Reject(reason=form["reason"])  # type: ignore[arg-type]
        else:
            problems = [FieldProblem(field=field, reason="choose approve, or reject with a reason")]
            return await _queue_page(request, identity, session.csrf, problems, status=400)
        runtime = runtime_of(request.app.state)
        try:
            async with runtime.db.transaction() as conn:
                decided = await decide(request.app.state, conn, identity, proposal_id, answer)
        except (Forbidden, Conflict, NotFound, InvalidInput, PreconditionFailed) as e:
            status = {Forbidden: 403, Conflict: 409, NotFound: 404, PreconditionFailed: 409}.get(type(e), 400)
            reasons = [p.reason for p in e.problems] if isinstance(e, InvalidInput) else [str(e)]
            problems = [FieldProblem(field=field, reason=reason) for reason in reasons]
            return await _queue_page(request, identity, session.csrf, problems, status=status)
        runtime.outage.recovered()
        return Redirect(f"/account/proposals?done={decided.status}", status_code=303)


async def _queue_page(
    request: Request[Any, Any, Any],
    identity: Identity,
    csrf: str,
    problems: list[FieldProblem],
    status: int = 200,
    done: str | None = None,
) -> Response[Any]:
    runtime = runtime_of(request.app.state)
    if identity.role not in ("editor", "admin", "provider"):
        reason = "only editors, admins and providers see proposed changes"
        return Template(template_name="refused.html", status_code=403, context={"reason": reason})
    async with runtime.db.transaction() as conn:
        proposals = await in_scope(request.app.state, conn, identity)
    names = names_of(runtime)

    def said(changes: Any) -> list[tuple[str, str, str]]:
        return [row for c in changes for row in change_words(c.field, c.old, c.new, names)]

    return Template(
        template_name="proposals.html",
        status_code=status,
        context={
            "identity": identity,
            "csrf": csrf,
            "proposals": [(p, said(p.changes), said(p.since)) for p in proposals],
            "reject_words": list(REJECT_WORDS.items()),
            "may_decide": identity.role in ("editor", "admin"),
            "problems": problems,
            "error_for": messages_at_fields(problems),
            "done": done if done in ("approved", "rejected") else None,
        },
    )
