"""The editors' pages (no JavaScript needed): add or change a service through a task list of sections, each its own
form, then "Check your answers", which writes the service through the API's own write path (the same store
function, the same rules and words, the same scope rule by what the catchment covers, and If-Match on the version
the edit began from). A change someone else made meanwhile is shown, field by field, and this edit can be carried
over onto it. Every form carries the session's token."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader
from litestar.params import FromPath
from litestar.response import Redirect

from service.domain.access import Forbidden
from service.domain.errors import Conflict, FieldProblem, InvalidInput, NotFound, PreconditionFailed
from service.domain.model import ServiceBody
from service.domain.versioning import etag
from service.server.access import publisher
from service.server.runtime import runtime_of
from service.stewardship import proposal_store, store
from service.stewardship.answers import carried_over
from service.stewardship.drafting import (
    Drafting,
    check_page,
    conflict_page,
    drafting,
    editor,
    problems_of,
    read_fields,
    refused_role,
    section_page,
    tasks_page,
)
from service.stewardship.editing import (
    BY_NAME,
    SECTIONS,
    Draft,
    check,
    document_of,
    new_document,
)
from service.stewardship.proposal_store import must_propose, proposer
from service.stewardship.reading import read_section
from service.stewardship.sessions import new_token
from service.stewardship.views import keepers_page, keeping, not_found, problem, read_form
from service.store import services as service_store


class EditorController(Controller):
    path = "/account"
    include_in_schema = False
    cache_control = CacheControlHeader(no_store=True)

    @post("/services/new")
    async def start_new(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Start adding a service: a draft with nothing answered yet."""
        form, _ = await read_fields(request)
        found = await editor(request, form)
        if isinstance(found, Response):
            return found
        if found.identity.role == "provider":
            return refused_role(found.identity)  # a provider keeps its own services; editors add new ones
        draft = Draft(id=new_token()[:32], document=new_document())
        return await self._keep(request, found.session.id, draft)

    @post("/services/{key:str}/edit")
    async def start_edit(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Start changing a service: a draft of it as it is now, refused at once if it is not this editor's."""
        k = await keeping(request, key, await read_form(request))
        if isinstance(k, Response):
            return k
        found = await editor(request)
        if isinstance(found, Response):
            return found
        runtime = runtime_of(request.app.state)
        try:
            async with runtime.db.transaction() as conn:
                await proposer(request.app.state, conn, k.identity, k.service.id)(k.service)
        except Forbidden as e:
            return await keepers_page(request, k.session, k.identity, k.service, [problem("edit", str(e))], 403)
        doc = document_of(k.service)
        draft = Draft(
            id=new_token()[:32],
            service_id=k.service.id,
            base_version=k.service.version,
            base=doc,
            document=doc,
            done=tuple(s.name for s in SECTIONS),
        )
        return await self._keep(request, k.session.id, draft)

    async def _keep(self, request: Request[Any, Any, Any], session_id: str, draft: Draft) -> Response[Any]:
        runtime = runtime_of(request.app.state)
        async with runtime.db.transaction() as conn:
            kept = await store.create_draft(conn, session_id, draft)
        if not kept:
            return Redirect("/account?drafts=full", status_code=303)
        runtime.outage.recovered()
        return Redirect(f"/account/drafts/{draft.id}", status_code=303)

    @get("/drafts/{draft_id:str}")
    async def tasks(self, request: Request[Any, Any, Any], draft_id: FromPath[str]) -> Response[Any]:
        """The task list: each section, answered or not, and on to "Check your answers"."""
        d = await drafting(request, draft_id)
        if isinstance(d, Response):
            return d
        return tasks_page(request, d)

    @get("/drafts/{draft_id:str}/{part:str}")
    async def part(
        self, request: Request[Any, Any, Any], draft_id: FromPath[str], part: FromPath[str]
    ) -> Response[Any]:
        """A section's form, or "Check your answers"."""
        d = await drafting(request, draft_id)
        if isinstance(d, Response):
            return d
        if part == "check":
            vocab = runtime_of(request.app.state).vocab
            _, problems = check(d.draft.document, None, vocab.needs.codes(), vocab.circumstances.codes(), _now())
            return check_page(request, d, problems)
        section = BY_NAME.get(part)
        if section is None:
            return not_found(part)
        return section_page(request, d, section, d.draft.document, [])

    @post("/drafts/{draft_id:str}/{part:str}")
    async def answer(
        self, request: Request[Any, Any, Any], draft_id: FromPath[str], part: FromPath[str]
    ) -> Response[Any]:
        """Save a section's answers (checked by the API's types and rules, for this section), or write the whole
        service from "Check your answers", or discard the draft, or carry it over onto a newer version."""
        form, form_problems = await read_fields(request)
        if not form and form_problems and part in BY_NAME:
            # Too big or too broken to read, token and all: nothing is written, and the section says why.
            unread = await drafting(request, draft_id)
            if isinstance(unread, Response):
                return unread
            return section_page(request, unread, BY_NAME[part], unread.draft.document, form_problems, status=400)
        d = await drafting(request, draft_id, form)
        if isinstance(d, Response):
            return d
        runtime = runtime_of(request.app.state)
        match part:
            case "check":
                return await self._write(request, d)
            case "discard":
                async with runtime.db.transaction() as conn:
                    await store.drop_draft(conn, d.session.id, d.draft.id)
                return Redirect("/account", status_code=303)
            case "carry-over":
                return await self._carry_over(request, d)
        section = BY_NAME.get(part)
        if section is None:
            return not_found(part)
        fragment, problems = read_section(section, form, d.draft.document)
        doc = {**d.draft.document, **fragment}
        problems = form_problems + problems
        if not problems:
            vocab = runtime.vocab
            _, problems = check(doc, section, vocab.needs.codes(), vocab.circumstances.codes(), _now())
        if problems:
            return section_page(request, d, section, doc, problems, status=400)
        done = d.draft.done if section.name in d.draft.done else (*d.draft.done, section.name)
        draft = Draft(
            id=d.draft.id,
            service_id=d.draft.service_id,
            base_version=d.draft.base_version,
            base=d.draft.base,
            document=doc,
            done=done,
        )
        async with runtime.db.transaction() as conn:
            await store.save_draft(conn, d.session.id, draft)
        runtime.outage.recovered()
        if form.get("more"):
            return Redirect(f"/account/drafts/{d.draft.id}/{section.name}", status_code=303)
        return Redirect(f"/account/drafts/{d.draft.id}", status_code=303)

    async def _write(self, request: Request[Any, Any, Any], d: Drafting) -> Response[Any]:
        """The whole service, through the API's write path; the draft ends when it is written."""
        runtime = runtime_of(request.app.state)
        vocab = runtime.vocab
        missing = [s for s in SECTIONS if s.required and s.name not in d.draft.done]
        if missing:
            problems = [FieldProblem(field=s.fields[0], reason=f"answer “{s.title}” first") for s in missing]
            return check_page(request, d, problems, status=400)
        body, problems = check(d.draft.document, None, vocab.needs.codes(), vocab.circumstances.codes(), _now())
        if body is None:
            return check_page(request, d, problems, status=400)
        if d.draft.service_id is not None and must_propose(runtime.settings, d.identity):
            return await self._propose(request, d, body)
        try:
            async with runtime.db.transaction() as conn:
                authorise = publisher(request.app.state, conn, d.identity)  # a new service too is held for review
                if d.draft.service_id is None:
                    service = await service_store.create_service(
                        conn, body, actor=d.identity.actor, vocab=vocab, authorise=authorise
                    )
                else:
                    service = await service_store.replace_service(
                        conn,
                        str(d.draft.service_id),
                        body,
                        actor=d.identity.actor,
                        vocab=vocab,
                        if_match=etag(d.draft.base_version or 0),
                        authorise=authorise,
                    )
                await store.drop_draft(conn, d.session.id, d.draft.id)
        except Forbidden as e:
            return check_page(request, d, [FieldProblem(field="catchment", reason=str(e))], status=403)
        except PreconditionFailed:
            async with runtime.db.transaction() as conn:
                current = await service_store.get_service(conn, str(d.draft.service_id))
            return await conflict_page(request, d, current)
        except NotFound:
            return check_page(request, d, [FieldProblem(field="body", reason="this service no longer exists")], 404)
        except (InvalidInput, Conflict) as e:
            return check_page(request, d, problems_of(e), status=409 if isinstance(e, Conflict) else 400)
        runtime.outage.recovered()
        return Redirect(f"/account/services/{service.slug}?saved=1", status_code=303)

    async def _propose(self, request: Request[Any, Any, Any], d: Drafting, body: ServiceBody) -> Response[Any]:
        """A provider's (or, where edits are reviewed, an editor's) change, kept as a proposal against the version
        the edit began from; the draft ends when it is kept."""
        runtime = runtime_of(request.app.state)
        service_id = d.draft.service_id
        assert service_id is not None
        try:
            async with runtime.db.transaction() as conn:
                await proposal_store.propose(
                    conn,
                    str(service_id),
                    document_of(body),
                    base_version=d.draft.base_version,
                    base=d.draft.base,
                    actor=d.identity.actor,
                    vocab=runtime.vocab,
                    authorise=proposer(request.app.state, conn, d.identity, service_id),
                    now=_now(),
                )
                await store.drop_draft(conn, d.session.id, d.draft.id)
                service = await service_store.get_service(conn, str(service_id))
        except Forbidden as e:
            return check_page(request, d, [FieldProblem(field="catchment", reason=str(e))], status=403)
        except NotFound:
            return check_page(request, d, [FieldProblem(field="body", reason="this service no longer exists")], 404)
        except (InvalidInput, Conflict) as e:
            return check_page(request, d, problems_of(e), status=409 if isinstance(e, Conflict) else 400)
        runtime.outage.recovered()
        return Redirect(f"/account/services/{service.slug}?proposed=1", status_code=303)

    async def _carry_over(self, request: Request[Any, Any, Any], d: Drafting) -> Response[Any]:
        """This edit's changes made again on the service as it is now, and on to "Check your answers"."""
        runtime = runtime_of(request.app.state)
        if d.draft.service_id is None or d.draft.base is None:
            return Redirect(f"/account/drafts/{d.draft.id}/check", status_code=303)
        async with runtime.db.transaction() as conn:
            current = await service_store.get_service(conn, str(d.draft.service_id))
            theirs = document_of(current)
            merged, both = carried_over(d.draft.base, d.draft.document, theirs)
            draft = Draft(
                id=d.draft.id,
                service_id=d.draft.service_id,
                base_version=current.version,
                base=theirs,
                document=merged,
                done=d.draft.done,
            )
            await store.save_draft(conn, d.session.id, draft)
        vocab = runtime.vocab
        _, problems = check(merged, None, vocab.needs.codes(), vocab.circumstances.codes(), _now())
        carried = Drafting(session=d.session, identity=d.identity, draft=draft)
        return check_page(request, carried, problems, carried=both)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
