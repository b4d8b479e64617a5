"""Report a problem with a listing, and the editors' queue of reports: over the API and as pages.

Anyone may report (the service page, the results, the embed, or `POST /v1/services/{key}/problem-reports`), at most
PATHWAYS_PROBLEM_REPORTS_PER_HOUR a client address (counted in the rate limit's store, never written down). Editors
see the open reports about the services they may change (the API's own write rule), admins all, a provider those
about its own services; editors and admins resolve or dismiss them with a coded reason, and may remove a note. Every
step is in the audit with who took it. Closed reports are deleted PATHWAYS_PROBLEM_REPORT_RETENTION_DAYS later."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.response import Redirect, Template

from service.domain.access import Forbidden, Identity, TooManyAttempts, require_role
from service.domain.audience import public_record
from service.domain.errors import Conflict, DomainError, FieldProblem, InvalidInput, NotFound
from service.domain.model import Service
from service.domain.schedule import LONDON
from service.server.access import READ, client_address, service_writer
from service.server.deps import Conn, Ident
from service.server.problems import problem_responses
from service.server.runtime import Runtime, runtime_of
from service.server.schemas import ServiceKey
from service.stewardship import problem_store
from service.stewardship.notify import keeps
from service.stewardship.problems import (
    CLOSE_WORDS,
    NOTE_MAX,
    OUTCOME_OF,
    REASON_WORDS,
    CloseProblemReport,
    NewProblemReport,
    ProblemReport,
    note_problems,
)
from service.stewardship.views import messages_at_fields, not_found, posted, read_form, signed_in
from service.store import services as service_store
from service.store.db import Connection

WINDOW_SECONDS = 3600
MOST_OPEN = 50
"""Open reports one listing may have: the editors know by then, and a flood from many addresses stops here."""
Status = Annotated[Literal["open", "closed"], QueryParameter(description="Open reports (default) or closed ones.")]


class TooManyOpen(TooManyAttempts):
    """A listing with MOST_OPEN open reports takes no more until some are closed (429)."""

    def __init__(self) -> None:
        DomainError.__init__(self, f"this listing has {MOST_OPEN} open reports already: its editors have been told")
        self.retry_after = WINDOW_SECONDS


async def _count_report(request: Request[Any, Any, Any]) -> None:
    """At most PATHWAYS_PROBLEM_REPORTS_PER_HOUR reports an hour from one client address (429 after)."""
    runtime = runtime_of(request.app.state)
    limit = runtime.settings.problem_reports_per_hour
    if limit == 0:
        return
    store = request.app.stores.get("rate_limit")
    key = f"problem-reports::{client_address(request)}"
    count = int(await store.get(key) or 0)
    if count >= limit:
        raise TooManyAttempts(WINDOW_SECONDS, "problem reports")
    await store.set(key, str(count + 1), expires_in=WINDOW_SECONDS)


async def report_problem(
    request: Request[Any, Any, Any], runtime: Runtime, key: str, report: NewProblemReport
) -> tuple[Service, ProblemReport]:
    """Check, count and keep a report about the service `key` as it is now."""
    if problems := note_problems(report.note):
        raise InvalidInput(tuple(problems))
    now = dt.datetime.now(dt.UTC)
    async with runtime.db.transaction() as conn:
        service = await service_store.get_service(conn, key)
        if await problem_store.open_for(conn, service.id) >= MOST_OPEN:
            # the editors know already; a flood of reports from many addresses stops here
            raise TooManyOpen()
        await _count_report(request)
        made = await problem_store.make_report(conn, service.id, service.version, report, now)
    runtime.outage.recovered()
    return service, made


async def reports_in_scope(
    state: State, conn: Connection, identity: Identity, *, open_only: bool = True
) -> list[ProblemReport]:
    """The reports this person reads: an admin all; an editor those about services it may change (the API's write
    rule, judged on each service as stored now); a provider those about its own services, without their notes (a
    note is for the editors: it may, despite the form, say something about a person)."""
    require_role(identity, "editor", "admin", "provider")
    if identity.role == "admin":
        return await problem_store.list_reports(conn, None, open_only=open_only)
    services = [
        service_id
        for service_id in await problem_store.reported_services(conn, open_only=open_only)
        if await keeps(state, conn, identity, service_id)
    ]
    reports = await problem_store.list_reports(conn, services, open_only=open_only)
    if identity.role == "provider":
        return [msgspec.structs.replace(r, note="") for r in reports]
    return reports


async def close_in_scope(
    state: State, identity: Identity, report_id: uuid.UUID, answer: CloseProblemReport
) -> ProblemReport:
    """Resolve or dismiss a report, by an editor who may change its service (the API's write rule) or an admin."""
    require_role(identity, "editor", "admin")
    runtime = runtime_of(state)
    async with runtime.db.transaction() as conn:
        found = await problem_store.get_report(conn, report_id)
        service = await service_store.get_service(conn, str(found.service_id))
        await service_writer(state, conn, identity)(service_store.body_of(service))
        return await problem_store.close_report(
            conn,
            report_id,
            answer.reason,
            remove_note=answer.remove_note,
            actor=identity.actor,
            now=dt.datetime.now(dt.UTC),
        )


class ProblemReportController(Controller):
    tags = ["Problem reports"]

    @post(
        "/v1/services/{key:str}/problem-reports",
        operation_id="reportProblem",
        status_code=201,
        guards=READ,
        responses=problem_responses(404, 422, 429),
    )
    async def report(
        self, request: Request[Any, Any, Any], key: ServiceKey, data: JSONBody[NewProblemReport]
    ) -> dict[str, str]:
        """Report a problem with a listing (anyone; a coded reason and an optional note about the listing, never
        about a person)."""
        _, made = await report_problem(request, runtime_of(request.app.state), key, data)
        return {"id": str(made.id), "status": made.status}

    @get("/v1/problem-reports", operation_id="listProblemReports", responses=problem_responses(401, 403))
    async def queue(self, state: State, conn: Conn, identity: Ident, status: Status = "open") -> list[ProblemReport]:
        """The reports about the services this key keeps (editors: those they may change), newest first."""
        return await reports_in_scope(state, conn, identity, open_only=status == "open")

    @post(
        "/v1/problem-reports/{report_id:uuid}/close",
        operation_id="closeProblemReport",
        status_code=200,
        responses=problem_responses(401, 403, 404, 409, 422),
    )
    async def close(
        self, state: State, identity: Ident, report_id: FromPath[uuid.UUID], data: JSONBody[CloseProblemReport]
    ) -> ProblemReport:
        """Resolve (the listing was wrong) or dismiss a report, by a coded reason; optionally remove its note."""
        return await close_in_scope(state, identity, report_id, data)

    @post(
        "/v1/problem-reports/{report_id:uuid}/remove-note",
        operation_id="removeProblemReportNote",
        status_code=200,
        responses=problem_responses(401, 403, 404),
    )
    async def remove_note(self, state: State, identity: Ident, report_id: FromPath[uuid.UUID]) -> ProblemReport:
        """Delete a report's note, open or closed (it said something about a person, say); the report stays."""
        require_role(identity, "editor", "admin")
        runtime = runtime_of(state)
        async with runtime.db.transaction() as conn:
            found = await problem_store.get_report(conn, report_id)
            service = await service_store.get_service(conn, str(found.service_id))
            await service_writer(state, conn, identity)(service_store.body_of(service))
            return await problem_store.remove_note(conn, report_id, actor=identity.actor, now=dt.datetime.now(dt.UTC))


class ProblemPagesController(Controller):
    """The public form (beside each service page, the results and the embed) and the editors' queue."""

    include_in_schema = False

    async def _form(self, request: Request[Any, Any, Any], slug: str, embed: bool) -> Response[Any]:
        runtime = runtime_of(request.app.state)
        try:
            async with runtime.db.transaction() as conn:
                service = public_record(await service_store.get_service(conn, slug))
        except NotFound:
            return not_found(slug)
        if request.method == "GET":
            return _form_page(service, embed, {}, [])
        form = await read_form(request)
        reason, note = form.get("reason", ""), form.get("note", "").replace("\r\n", "\n")
        problems = [] if reason in REASON_WORDS else [FieldProblem(field="reason", reason="choose what is wrong")]
        problems += note_problems(note)
        if problems:
            return _form_page(service, embed, form, problems, 400)
        try:
            await report_problem(
                request,
                runtime,
                str(service.id),
                NewProblemReport(reason=reason, note=note),  # type: ignore[arg-type]
            )
        except TooManyAttempts as e:
            words = (
                str(e)
                if isinstance(e, TooManyOpen)
                else f"too many reports from here: try again in {e.retry_after // 60} minutes"
            )
            said = [FieldProblem(field="reason", reason=words)]
            return _form_page(service, embed, form, said, 429, {"Retry-After": str(e.retry_after)})
        return Template(
            template_name="problem_reported.html",
            context={
                "service": service,
                "embed": embed,
                "back": f"{'/embed' if embed else ''}/services/{service.slug}",
            },
        )

    @get("/services/{slug:str}/report-a-problem", guards=READ)
    async def form(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
        """The form to report a problem with a listing."""
        return await self._form(request, slug, embed=False)

    @post("/services/{slug:str}/report-a-problem", guards=READ, status_code=200)
    async def send(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
        return await self._form(request, slug, embed=False)

    @get("/embed/services/{slug:str}/report-a-problem", guards=READ)
    async def embed_form(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
        return await self._form(request, slug, embed=True)

    @post("/embed/services/{slug:str}/report-a-problem", guards=READ, status_code=200)
    async def embed_send(self, request: Request[Any, Any, Any], slug: FromPath[str]) -> Response[Any]:
        return await self._form(request, slug, embed=True)

    @get("/account/problem-reports")
    async def queue_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The open reports about the services this person keeps, each with a form to resolve or dismiss it."""
        found = await signed_in(request)
        if found is None:
            return Redirect("/sign-in", status_code=303)
        session, identity = found
        closed = request.query_params.get("closed")
        return await _queue_page(request, identity, session.csrf, [], closed=closed)

    @post("/account/problem-reports/{report_id:uuid}/close", status_code=200)
    async def close_page(self, request: Request[Any, Any, Any], report_id: FromPath[uuid.UUID]) -> Response[Any]:
        sent = await posted(request)
        if isinstance(sent, Response):
            return sent
        session, identity, form = sent
        reason = form.get("reason", "")
        field = f"reason-{report_id}"
        if reason not in CLOSE_WORDS:
            problems = [FieldProblem(field=field, reason="choose why you are closing this report")]
            return await _queue_page(request, identity, session.csrf, problems, status=400)
        answer = CloseProblemReport(reason=reason, remove_note=form.get("remove_note") == "yes")  # type: ignore[arg-type]
        try:
            await close_in_scope(request.app.state, identity, report_id, answer)
        except (Forbidden, Conflict, NotFound) as e:
            problems = [FieldProblem(field=field, reason=str(e))]
            return await _queue_page(request, identity, session.csrf, problems, status=_status(e))
        return Redirect(f"/account/problem-reports?closed={OUTCOME_OF[reason]}", status_code=303)


def _status(e: Exception) -> int:
    return 403 if isinstance(e, Forbidden) else 409 if isinstance(e, Conflict) else 404


def _form_page(
    service: Service,
    embed: bool,
    form: dict[str, str],
    problems: list[FieldProblem],
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    return Template(
        template_name="problem_form.html",
        status_code=status,
        headers=headers,
        context={
            "service": service,
            "embed": embed,
            "action": f"{'/embed' if embed else ''}/services/{service.slug}/report-a-problem",
            "reasons": list(REASON_WORDS.items()),
            "chosen": form.get("reason", ""),
            "note": form.get("note", ""),
            "note_max": NOTE_MAX,
            "problems": problems,
            "error_for": messages_at_fields(problems),
        },
    )


async def _queue_page(
    request: Request[Any, Any, Any],
    identity: Identity,
    csrf: str,
    problems: list[FieldProblem],
    status: int = 200,
    closed: str | None = None,
) -> Response[Any]:
    runtime = runtime_of(request.app.state)
    if identity.role not in ("editor", "admin", "provider"):
        reason = "only editors, admins and providers see problem reports"
        return Template(template_name="refused.html", status_code=403, context={"reason": reason})
    async with runtime.db.transaction() as conn:
        reports = await reports_in_scope(request.app.state, conn, identity)
    return Template(
        template_name="problem_queue.html",
        status_code=status,
        context={
            "identity": identity,
            "csrf": csrf,
            "reports": reports,
            "close_words": list(CLOSE_WORDS.items()),
            "outcome_of": OUTCOME_OF,
            "may_close": identity.role in ("editor", "admin"),
            "problems": problems,
            "error_for": messages_at_fields(problems),
            "closed": closed if closed in ("resolved", "dismissed") else None,
            "retention_days": runtime.settings.problem_report_retention_days,
            "day": lambda moment: moment.astimezone(LONDON).strftime("%-d %B %Y %H:%M"),
        },
    )
