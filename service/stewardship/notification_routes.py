"""The pages where a signed-in person asks for e-mail (an address; problem reports; the daily review digest), and
watches a service or stops. The mail itself is the job queue's (service/stewardship/notify.py)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.domain.access import Identity
from service.domain.errors import FieldProblem
from service.domain.types import EMAIL
from service.server.runtime import runtime_of
from service.stewardship import contacts
from service.stewardship.contacts import Contact
from service.stewardship.notify import keeps
from service.stewardship.problem_store import audit
from service.stewardship.views import keeping, messages_at_fields, posted, read_form, signed_in

_EMAIL = re.compile(EMAIL)
ONE_ADDRESS = frozenset(',;:<>()[]\\" ')
"""Characters that would make a To: header name more than one mailbox, or a display name: one plain address only."""


class NotificationController(Controller):
    include_in_schema = False

    @get("/account/notifications")
    async def settings_page(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The address for mail, and what to send to it."""
        found = await signed_in(request)
        if found is None:
            return Redirect("/sign-in", status_code=303)
        session, identity = found
        runtime = runtime_of(request.app.state)
        async with runtime.db.transaction() as conn:
            contact = await contacts.contact_of(conn, identity)
        saved = request.query_params.get("saved")
        return _page(identity, session.csrf, contact, {}, [], saved=saved, mail_on=bool(runtime.settings.smtp_host))

    @post("/account/notifications", status_code=200)
    async def save(self, request: Request[Any, Any, Any]) -> Response[Any]:
        sent = await posted(request)
        if isinstance(sent, Response):
            return sent
        session, identity, form = sent
        runtime = runtime_of(request.app.state)
        email = form.get("email", "").strip()
        if form.get("stop") == "yes":
            async with runtime.db.transaction() as conn:
                await contacts.forget_contact(conn, identity)
                await audit(conn, identity.actor, "notifications.stopped", None)
            return Redirect("/account/notifications?saved=stopped", status_code=303)
        if len(email) > 254 or not _EMAIL.fullmatch(email) or any(c in email for c in ONE_ADDRESS):
            problems = [FieldProblem(field="email", reason="enter an email address, like name@example.org")]
            return _page(identity, session.csrf, None, form, problems, status=400)
        async with runtime.db.transaction() as conn:
            await contacts.save_contact(
                conn,
                session,
                identity,
                email,
                problem_reports=form.get("problem_reports") == "yes",
                review_digest=form.get("review_digest") == "yes",
                now=dt.datetime.now(dt.UTC),
            )
            await audit(conn, identity.actor, "notifications.saved", None)
        return Redirect("/account/notifications?saved=saved", status_code=303)

    @post("/account/services/{key:str}/watch", status_code=200)
    async def watch(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Watch a service (mail when it changes), or stop."""
        form = await read_form(request)
        k = await keeping(request, key, form)
        if isinstance(k, Response):
            return k
        runtime = runtime_of(request.app.state)
        async with runtime.db.transaction() as conn:
            if not await keeps(request.app.state, conn, k.identity, k.service.id):
                reason = "only the people who keep a service (its editors, admins, its providers) watch it"
                return Template(template_name="refused.html", status_code=403, context={"reason": reason})
            if await contacts.contact_of(conn, k.identity) is None:
                return Redirect("/account/notifications?needed=watch", status_code=303)
            on = form.get("watch") == "yes"
            await contacts.watch(conn, k.identity, k.service.id, on)
            await audit(conn, k.identity.actor, "service.watched" if on else "service.unwatched", k.service.id)
        return Redirect(f"/account/services/{k.service.slug}", status_code=303)


def _page(
    identity: Identity,
    csrf: str,
    contact: Contact | None,
    form: dict[str, str],
    problems: list[FieldProblem],
    status: int = 200,
    saved: str | None = None,
    mail_on: bool = True,
) -> Response[Any]:
    return Template(
        template_name="notifications.html",
        status_code=status,
        context={
            "identity": identity,
            "csrf": csrf,
            "email": form.get("email", contact.email if contact else ""),
            "problem_reports": contact.problem_reports if contact else True,
            "review_digest": contact.review_digest if contact else True,
            "has_contact": contact is not None,
            "problems": problems,
            "error_for": messages_at_fields(problems),
            "saved": saved if saved in ("saved", "stopped") else None,
            "mail_on": mail_on,
        },
    )
