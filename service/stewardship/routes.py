"""The pages for the people who keep the directory right (no JavaScript needed): sign in with an API key (it is
checked once and exchanged for a session), see who is signed in and as what, set a service's capacity in one
screen, sign out. Every form that writes carries the session's own token (the sign-in form a token of its own), and
every write goes through the same store function and the same access rule as the API's."""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.domain.access import Forbidden, Identity, TooManyAttempts, Unauthorised, hash_key, may_update_capacity
from service.domain.errors import FieldProblem, InvalidInput, MalformedInput, NotFound, PreconditionFailed
from service.domain.model import Service, ServiceBody
from service.domain.validation import capacity_problems
from service.server.access import Reach, client_address
from service.server.runtime import Runtime, runtime_of
from service.stewardship import store
from service.stewardship.claims import ClaimRules, identity_from_claims, role_map
from service.stewardship.oidc import OidcClient, Refused
from service.stewardship.sessions import (
    ATTEMPT_MINUTES,
    COOKIE,
    NOTE_MAX,
    OIDC_COOKIE,
    QUICK_PICKS,
    SIGN_IN_COOKIE,
    Attempt,
    Session,
    ago,
    attempt_fresh,
    capacity_from_form,
    capacity_said,
    new_token,
    resets_at,
    session_ended,
    token_id,
    tokens_match,
)
from service.store import services as service_store

MOST_LISTED = 50
FORM_FIELD_MAX = 4096
"""The longest value any field of these forms takes (a key is 47 characters, a note 200)."""


class StewardshipController(Controller):
    path = "/"
    include_in_schema = False
    cache_control = CacheControlHeader(no_store=True)
    """Never kept by a browser or a proxy: these pages carry a session's form token and who is signed in."""

    @get("/sign-in")
    async def sign_in_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The sign-in page: one field, the API key."""
        return _sign_in_page(request, [], status=200)

    @post("/sign-in")
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Check the key once and exchange it for a session."""
        form = await _form(request)
        if not tokens_match(form.get("csrf_token"), request.cookies.get(SIGN_IN_COOKIE)):
            return _sign_in_page(request, [_expired_form()], status=403)
        key = form.get("key", "").strip()
        if not key:
            return _sign_in_page(request, [FieldProblem(field="key", reason="enter your API key")], status=400)
        runtime = runtime_of(request.app.state)
        try:
            identity = await runtime.identities.resolve({"x-api-key": key}, client_address(request))
        except TooManyAttempts as e:
            locked = _sign_in_page(request, [_problem("key", "too many attempts: wait a minute, then try again")], 429)
            locked.headers["Retry-After"] = str(e.retry_after)
            return locked
        except (Unauthorised, MalformedInput):
            return _sign_in_page(request, [_problem("key", "this key is not known, or it has been revoked")], 401)
        if identity.kind != "key":
            return _sign_in_page(request, [_problem("key", "sign in with an API key")], 401)
        response = await _start_session(request, key_hash=hash_key(key))
        response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
        return response

    @get("/sign-in/oidc")
    async def sign_in_oidc(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Go to the deployment's identity provider (authorization code with PKCE)."""
        runtime = runtime_of(request.app.state)
        client = _oidc(request)
        if client is None:
            return _not_found("sign-in")
        state, now = new_token(), dt.datetime.now(dt.UTC)
        attempt = Attempt(id=token_id(state), nonce=new_token(), verifier=new_token() + new_token(), created_at=now)
        try:
            url = await client.authorization_url(_callback(request), state, attempt.nonce, attempt.verifier)
        except Refused as e:
            return _sign_in_page(request, [_problem("oidc", str(e))], status=502)
        async with runtime.db.transaction() as conn:
            await store.begin_attempt(conn, attempt)
        response: Response[Any] = Redirect(url, status_code=303)
        response.set_cookie(
            Cookie(
                key=OIDC_COOKIE,
                value=state,
                path="/sign-in",
                httponly=True,
                secure=runtime.settings.session_cookie_secure,
                samesite="lax",  # the provider sends the person back with a top-level GET from its own site
                max_age=ATTEMPT_MINUTES * 60,
            )
        )
        return response

    @get("/sign-in/oidc/callback")
    async def oidc_callback(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Back from the identity provider: check the state, exchange the code, check the ID token, map its claims."""
        runtime = runtime_of(request.app.state)
        client = _oidc(request)
        if client is None:
            return _not_found("sign-in")
        params = request.query_params
        state = params.get("state") or ""
        if len(state) > 100 or not tokens_match(state, request.cookies.get(OIDC_COOKIE)):
            return _refused(request, "this sign-in did not start here, or has already been used: start again", 403)
        async with runtime.db.transaction() as conn:
            attempt = await store.take_attempt(conn, token_id(state))
        now = dt.datetime.now(dt.UTC)
        if attempt is None or not attempt_fresh(attempt, now):
            return _refused(request, "this sign-in has expired or has already been used: start again", 403)
        if params.get("error"):
            return _refused(request, f"{runtime.settings.oidc_provider_name} did not sign you in", 401)
        code = params.get("code") or ""
        if not code or len(code) > 2048:
            return _refused(request, "the identity provider sent no code: start again", 400)
        try:
            claims = await client.claims(code, _callback(request), attempt.verifier, attempt.nonce)
        except Refused as e:
            return _refused(request, str(e), 401)
        identity = identity_from_claims(claims, _claim_rules(runtime))
        if identity is None:
            return _refused(request, "your account has no role in this service: ask its administrator", 403)
        response = await _start_session(request, identity=identity)
        response.delete_cookie(OIDC_COOKIE, path="/sign-in")
        return response

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """End the session on every replica."""
        runtime = runtime_of(request.app.state)
        found = await _signed_in(request)
        form = await _form(request)
        if found is not None:
            if not tokens_match(form.get("csrf_token"), found[0].csrf):
                return _expired(request)
            async with runtime.db.transaction() as conn:
                await store.end_session(conn, found[0].id)
        response: Response[Any] = Redirect("/sign-in?signed_out=1", status_code=303)
        response.set_cookie(_session_cookie(runtime, "", 0))
        return response

    @get("/account")
    async def account(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Who is signed in and as what, and the services whose capacity they may set."""
        found = await _signed_in(request)
        if found is None:
            return Redirect("/sign-in", status_code=303)
        session, identity = found
        runtime = runtime_of(request.app.state)
        query = (request.query_params.get("q") or "").strip()[:100]
        services = await _services_for(runtime, identity, query)
        now = dt.datetime.now(dt.UTC)
        return Template(
            template_name="account.html",
            context={
                "identity": identity,
                "csrf": session.csrf,
                "services": [(s, capacity_said(s.capacity, now)) for s in services],
                "query": query,
                "may_search": identity.role in ("editor", "admin"),
            },
        )

    @get("/account/services/{key:str}/capacity")
    async def capacity_form(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Capacity now, and one screen to set it."""
        found = await _signed_in(request)
        if found is None:
            return Redirect("/sign-in", status_code=303)
        session, identity = found
        service = await _service(request, key)
        if service is None:
            return _not_found(key)
        return await _capacity_page(
            request, session, identity, service, [], {}, saved=bool(request.query_params.get("saved"))
        )

    @post("/account/services/{key:str}/capacity")
    async def set_capacity(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Set a service's capacity: the same rule and the same write as PUT /v1/services/{key}/capacity."""
        found = await _signed_in(request)
        if found is None:
            return Redirect("/sign-in", status_code=303)
        session, identity = found
        form = await _form(request)
        if not tokens_match(form.get("csrf_token"), session.csrf):
            return _expired(request)
        service = await _service(request, key)
        if service is None:
            return _not_found(key)
        now = dt.datetime.now(dt.UTC)
        capacity, problems = capacity_from_form(form, now)
        if capacity is not None:
            problems = capacity_problems(capacity, now, field="full_until", future=True)
        if capacity is None or problems:
            return await _capacity_page(request, session, identity, service, problems, form, status=400)
        runtime = runtime_of(request.app.state)
        try:
            async with runtime.db.transaction() as conn:
                reach = Reach(request.app.state, conn, identity)

                async def authorise(body: ServiceBody) -> None:
                    may_update_capacity(identity, str(service.id), await reach(body))

                await service_store.set_capacity(
                    conn, str(service.id), capacity, actor=identity.actor, if_match=None, authorise=authorise
                )
        except Forbidden as e:
            return await _capacity_page(request, session, identity, service, [_problem("status", str(e))], form, 403)
        except (InvalidInput, PreconditionFailed) as e:
            problems = list(getattr(e, "problems", ())) or [_problem("status", str(e))]
            return await _capacity_page(request, session, identity, service, problems, form, status=400)
        runtime.outage.recovered()
        return Redirect(f"/account/services/{service.slug}/capacity?saved=1", status_code=303)


async def _signed_in(request: Request[Any, Any, Any]) -> tuple[Session, Identity] | None:
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


async def _services_for(runtime: Runtime, identity: Identity, query: str) -> list[Service]:
    """A provider's own services, read from the database (a service linked a moment ago is there); for an editor or
    an admin, the services whose name or slug holds the words looked for (the write itself is judged by the API's
    rule, by what the service's catchment covers)."""
    if identity.role == "provider":
        found = []
        async with runtime.db.transaction() as conn:
            for service_id in sorted(identity.services)[:MOST_LISTED]:
                with contextlib.suppress(NotFound, InvalidInput):
                    found.append(await service_store.get_service(conn, service_id))
        return sorted(found, key=lambda s: s.name.lower())
    if identity.role not in ("editor", "admin") or not query:
        return []
    words = query.lower().split()
    matches = [s for s in runtime.index.by_slug.values() if all(w in f"{s.name} {s.slug}".lower() for w in words)]
    return sorted(matches, key=lambda s: s.name.lower())[:MOST_LISTED]


async def _service(request: Request[Any, Any, Any], key: str) -> Service | None:
    runtime = runtime_of(request.app.state)
    if len(key) > 100:
        return None
    try:
        async with runtime.db.transaction() as conn:
            return await service_store.get_service(conn, key)
    except (NotFound, InvalidInput):
        return None


async def _capacity_page(
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


def _sign_in_page(request: Request[Any, Any, Any], problems: list[FieldProblem], status: int) -> Response[Any]:
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


async def _start_session(
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
    response.set_cookie(_session_cookie(runtime, token, runtime.settings.session_hours * 3600))
    return response


def _oidc(request: Request[Any, Any, Any]) -> OidcClient | None:
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


def _claim_rules(runtime: Runtime) -> ClaimRules:
    s = runtime.settings
    return ClaimRules(
        role_claim=s.oidc_role_claim,
        areas_claim=s.oidc_areas_claim,
        services_claim=s.oidc_services_claim,
        name_claim=s.oidc_name_claim,
        role_map=role_map(s.oidc_role_map),
        default_role=s.oidc_default_role,
    )


def _callback(request: Request[Any, Any, Any]) -> str:
    """Where the provider sends the person back: under the configured public URL (required with an issuer; never
    made from the request's Host header, which the client chooses)."""
    return runtime_of(request.app.state).settings.public_url.rstrip("/") + "/sign-in/oidc/callback"


def _refused(request: Request[Any, Any, Any], reason: str, status: int) -> Response[Any]:
    return _sign_in_page(request, [_problem("oidc", reason)], status=status)


def _session_cookie(runtime: Runtime, token: str, max_age: int) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=token,
        path="/",
        httponly=True,
        secure=runtime.settings.session_cookie_secure,
        samesite="lax",
        max_age=max_age,
    )


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The form's text fields (a file is dropped, and so refused as missing); a body that is not a form reads as
    empty."""
    try:
        data = await request.form()
    except Exception:  # a malformed body is an empty form: the page says what is missing
        return {}
    fields: dict[str, str] = {}
    for name, value in data.items():
        if isinstance(value, str):
            # Longer than any field takes: kept just long enough for the field's own check to refuse it.
            fields[name] = value[: FORM_FIELD_MAX + 1]
    return fields


def _problem(field: str, reason: str) -> FieldProblem:
    return FieldProblem(field=field, reason=reason)


def _expired_form() -> FieldProblem:
    return _problem("csrf_token", "this form has expired or did not come from this site: try again")


def _expired(request: Request[Any, Any, Any]) -> Response[Any]:
    """A form without its session's token (a cross-site post, or a page from before signing in again)."""
    return Template(template_name="form_expired.html", status_code=403, context={})


def _not_found(key: str) -> Response[Any]:
    return Template(template_name="not_found.html", status_code=404, context={"slug": key[:100]})
