"""What the pages read and show, for service/stewardship/routes.py: the signed-in person (the session the cookie
names, checked at every request), the services they keep, the forms' fields, starting a session (from a key or
from the identity provider), and each page as rendered."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from litestar import Request, Response
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from service.domain.access import (
    Identity,
)
from service.domain.errors import FieldProblem, InvalidInput, NotFound
from service.domain.model import Service
from service.domain.review import day_words, london_today, review_of
from service.domain.schedule import LONDON
from service.server.runtime import Runtime, runtime_of
from service.stewardship import contacts, problem_store, store
from service.stewardship.answers import change_words
from service.stewardship.claims import ClaimRules, role_map
from service.stewardship.oidc import OidcClient
from service.stewardship.problems import audit_words
from service.stewardship.sessions import (
    COOKIE,
    NOTE_MAX,
    QUICK_PICKS,
    SIGN_IN_COOKIE,
    Session,
    ago,
    capacity_said,
    new_token,
    plain_text,
    resets_at,
    session_ended,
    token_id,
    tokens_match,
    urlencoded_utf8,
)
from service.store import services as service_store

PAGE_SIZE = 50
FORM_FIELD_MAX = 4096
"""The longest value any field of these forms takes (a key is 47 characters, a note 200)."""


@dataclass(frozen=True)
class Keeping:
    """A signed-in person at one of their services' pages."""

    session: Session
    identity: Identity
    service: Service


async def keeping(
    request: Request[Any, Any, Any], key: str, form: dict[str, str] | None = None
) -> Keeping | Response[Any]:
    """The person and the service a page is about; or the page to send instead: sign-in when nobody is signed in,
    the expired form when a posted `form` lacks the session's token, not found when there is no such service."""
    found = await signed_in(request)
    if found is None:
        return Redirect("/sign-in", status_code=303)
    session, identity = found
    if form is not None and not tokens_match(form.get("csrf_token"), session.csrf):
        return expired(request)
    service = await service_by_key(request, key)
    if service is None:
        return not_found(key)
    return Keeping(session=session, identity=identity, service=service)


async def signed_in(request: Request[Any, Any, Any]) -> tuple[Session, Identity] | None:
    """The session the cookie names and the identity of the key it was made from; None when there is none, it has
    ended (expired, idle, signed out) or its key has been revoked. Read from the database at every request, so that
    signing out or revoking a key ends it on every replica at once."""
    token = request.cookies.get(COOKIE)
    if not token or len(token) > 100:
        return None
    runtime = runtime_of(request.app.state)
    now = dt.datetime.now(dt.UTC)
    idle = dt.timedelta(minutes=runtime.settings.session_idle_minutes)
    async with runtime.db.transaction() as conn:
        session = await store.find_session(conn, token_id(token))
        if session is None:
            return None
        identity = None if session_ended(session, now, idle) else session.identity
        if identity is None and session.key_hash is not None and not session_ended(session, now, idle):
            identity = await store.key_identity(conn, session.key_hash)
        if identity is None:
            await store.end_session(conn, session.id)
            return None
        await store.touch_session(conn, session, now)
    runtime.outage.recovered()
    return session, identity


async def service_by_key(request: Request[Any, Any, Any], key: str) -> Service | None:
    runtime = runtime_of(request.app.state)
    if len(key) > 100:
        return None
    try:
        async with runtime.db.transaction() as conn:
            return await service_store.get_service(conn, key)
    except (NotFound, InvalidInput):
        return None


async def capacity_page(
    request: Request[Any, Any, Any],
    session: Session,
    identity: Identity,
    service: Service,
    problems: list[FieldProblem],
    form: dict[str, str],
    status: int = 200,
    saved: bool = False,
) -> Response[Any]:
    runtime = runtime_of(request.app.state)
    now = dt.datetime.now(dt.UTC)
    async with runtime.db.transaction() as conn:
        history = await service_store.service_history(conn, str(service.id))
    last = next((c for c in reversed(history) if any(f.field.startswith("capacity") for f in c.changes)), None)
    return Template(
        template_name="capacity.html",
        status_code=status,
        context={
            "identity": identity,
            "csrf": session.csrf,
            "service": service,
            "said": capacity_said(service.capacity, now),
            "resets": resets_at(service.capacity, now),
            "set_by": None if last is None else (last.actor, ago(last.at, now)),
            "problems": problems,
            "errors": {p.field: p.reason for p in problems},
            "form": form,
            "quick_picks": QUICK_PICKS,
            "note_max": NOTE_MAX,
            "saved": saved and not problems,
        },
    )


async def keepers_page(
    request: Request[Any, Any, Any],
    session: Session,
    identity: Identity,
    service: Service,
    problems: list[FieldProblem],
    status: int = 200,
    verified: bool = False,
    saved: bool = False,
    form: Mapping[str, str] | None = None,
) -> Response[Any]:
    runtime = runtime_of(request.app.state)
    now = dt.datetime.now(dt.UTC)
    async with runtime.db.transaction() as conn:
        history = await service_store.service_history(conn, str(service.id))
        audit = await problem_store.audit_for_service(conn, service.id)
        reported = (await problem_store.open_counts(conn)).get(service.id, 0)
        watched = await contacts.watching(conn, identity, service.id)
    names = names_of(runtime)
    return Template(
        template_name="service_keepers.html",
        status_code=status,
        context={
            "identity": identity,
            "csrf": session.csrf,
            "service": service,
            "checked": None
            if service.verification is None
            else (day(service.verification.verified_at), service.verification.verified_by),
            "may_verify": identity.role in ("editor", "admin"),
            "review": review_of(service.verification, london_today(now), runtime.settings.review_months),
            "review_by": (form or {}).get("review_by", ""),
            "review_months": runtime.settings.review_months,
            "audit": [
                (day(e.at) + " " + e.at.astimezone(LONDON).strftime("%H:%M"), e.actor, audit_words(e.action, e.detail))
                for e in audit
            ],
            "reported": reported,
            "watching": watched,
            "may_propose": identity.role == "provider"
            or (identity.role == "editor" and runtime.settings.edits_need_review),
            "proposed": bool(request.query_params.get("proposed")),
            "error_for": messages_at_fields(problems),
            "day_words": day_words,
            "changes": [
                (
                    day(c.at) + " " + c.at.astimezone(LONDON).strftime("%H:%M"),
                    ago(c.at, now),
                    c.actor,
                    c.operation,
                    [row for f in c.changes for row in change_words(f.field, f.old, f.new, names)],
                )
                for c in reversed(history)
            ],
            "problems": problems,
            "verified": verified and not problems,
            "saved": saved and not problems,
        },
    )


def day(moment: dt.datetime) -> str:
    return moment.astimezone(LONDON).strftime("%-d %B %Y")


def names_of(runtime: Runtime) -> dict[str, str]:
    """Every need's and circumstance's label and every stored area's name, by code, for answers in words."""
    vocab = runtime.vocab
    terms = [*vocab.needs.terms, *vocab.circumstances.terms]
    return {t.code: t.label for t in terms} | {a.code: a.name for a in runtime.index.places.areas}


def sign_in_page(request: Request[Any, Any, Any], problems: list[FieldProblem], status: int) -> Response[Any]:
    token = new_token()
    response: Response[Any] = Template(
        template_name="sign_in.html",
        status_code=status,
        context={
            "csrf": token,
            "problems": problems,
            "errors": {p.field: p.reason for p in problems},
            "signed_out": bool(request.query_params.get("signed_out")),
            "oidc": runtime_of(request.app.state).settings.oidc_provider_name
            if runtime_of(request.app.state).settings.oidc_issuer
            else None,
        },
    )
    runtime = runtime_of(request.app.state)
    response.set_cookie(
        Cookie(
            key=SIGN_IN_COOKIE,
            value=token,
            path="/sign-in",
            httponly=True,
            secure=runtime.settings.session_cookie_secure,
            samesite="strict",
            max_age=3600,
        )
    )
    return response


async def start_session(
    request: Request[Any, Any, Any], key_hash: str | None = None, identity: Identity | None = None
) -> Response[Any]:
    """A new session, its cookie, and on to the person's services; the session this browser had before, and any
    that have run out, end."""
    runtime = runtime_of(request.app.state)
    before = request.cookies.get(COOKIE)
    now = dt.datetime.now(dt.UTC)
    token = new_token()
    session = Session(
        id=token_id(token),
        key_hash=key_hash,
        identity=identity,
        csrf=new_token(),
        created_at=now,
        seen_at=now,
        expires_at=now + dt.timedelta(hours=runtime.settings.session_hours),
    )
    idle = dt.timedelta(minutes=runtime.settings.session_idle_minutes)
    async with runtime.db.transaction() as conn:
        await store.purge_sessions(conn, now, idle)
        if before and len(before) <= 100:
            await store.end_session(conn, token_id(before))
        await store.create_session(conn, session)
    runtime.outage.recovered()
    response: Response[Any] = Redirect("/account", status_code=303)
    response.set_cookie(session_cookie(runtime, token, runtime.settings.session_hours * 3600))
    return response


def oidc_client(request: Request[Any, Any, Any]) -> OidcClient | None:
    """The deployment's identity provider (made once a process, on first use), or None when none is configured."""
    settings = runtime_of(request.app.state).settings
    if not settings.oidc_issuer:
        return None
    client: OidcClient | None = getattr(request.app.state, "oidc", None)
    if client is None:
        client = OidcClient(
            settings.oidc_issuer, settings.oidc_client_id, settings.oidc_client_secret, settings.oidc_scopes
        )
        request.app.state.oidc = client
    return client


def claim_rules(runtime: Runtime) -> ClaimRules:
    s = runtime.settings
    return ClaimRules(
        role_claim=s.oidc_role_claim,
        areas_claim=s.oidc_areas_claim,
        services_claim=s.oidc_services_claim,
        name_claim=s.oidc_name_claim,
        role_map=role_map(s.oidc_role_map),
        default_role=s.oidc_default_role,
    )


def callback_url(request: Request[Any, Any, Any]) -> str:
    """Where the provider sends the person back: under the configured public URL (required with an issuer; never
    made from the request's Host header, which the client chooses)."""
    return runtime_of(request.app.state).settings.public_url.rstrip("/") + "/sign-in/oidc/callback"


def refused(request: Request[Any, Any, Any], reason: str, status: int) -> Response[Any]:
    return sign_in_page(request, [problem("oidc", reason)], status=status)


def session_cookie(runtime: Runtime, token: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=token,
        path="/",
        httponly=True,
        secure=runtime.settings.session_cookie_secure,
        samesite="lax",
        max_age=max_age,
    )


async def read_form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The form's text fields (a file is dropped, and so refused as missing); a body that is not a form reads as
    empty."""
    try:
        urlencoded = request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")
        if urlencoded and not urlencoded_utf8(await request.body()):
            return {}  # not UTF-8: read as nothing (the token with it), so nothing is written
        data = await request.form()
    except Exception:  # a malformed body is an empty form: the page says what is missing
        return {}
    fields: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, str) and plain_text(name) and plain_text(value):
            # Longer than any field takes: kept just long enough for the field's own check to refuse it.
            fields[name] = value[: FORM_FIELD_MAX + 1]
    return fields


def messages_at_fields(problems: list[FieldProblem]) -> dict[str, str]:
    """Each field's message as the GOV.UK pattern shows it at the field (the first problem found for it, its first
    letter a capital)."""
    return {p.field: p.reason[:1].upper() + p.reason[1:] for p in reversed(problems)}


async def posted(request: Request[Any, Any, Any]) -> tuple[Session, Identity, dict[str, str]] | Response[Any]:
    """The person who posted a form, and the form, its token checked; or the page to send instead (sign-in when
    nobody is signed in, the expired form when the token is not the session's)."""
    found = await signed_in(request)
    if found is None:
        return Redirect("/sign-in", status_code=303)
    session, identity = found
    form = await read_form(request)
    if not tokens_match(form.get("csrf_token"), session.csrf):
        return expired(request)
    return session, identity, form


def problem(field: str, reason: str) -> FieldProblem:
    return FieldProblem(field=field, reason=reason)


def expired_form() -> FieldProblem:
    return problem("csrf_token", "this form has expired or did not come from this site: try again")


def expired(request: Request[Any, Any, Any]) -> Response[Any]:
    """A form without its session's token (a cross-site post, or a page from before signing in again)."""
    return Template(template_name="form_expired.html", status_code=403, context={})


def not_found(key: str) -> Response[Any]:
    return Template(template_name="not_found.html", status_code=404, context={"slug": key[:100]})
