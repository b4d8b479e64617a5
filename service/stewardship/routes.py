"""The pages for the people who keep the directory right (no JavaScript needed): sign in with an API key (it is
checked once and exchanged for a session), see who is signed in and as what, set a service's capacity in one
screen, sign out. Every form that writes carries the session's own token (the sign-in form a token of its own), and
every write goes through the same store function and the same access rule as the API's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import CacheControlHeader, Cookie
from litestar.params import FromPath
from litestar.response import Redirect, Template

from service.domain.access import (
    Forbidden,
    TooManyAttempts,
    Unauthorised,
    hash_key,
)
from service.domain.errors import FieldProblem, InvalidInput, MalformedInput, PreconditionFailed
from service.domain.review import day_words, london_today, most_due_first, review_of
from service.domain.validation import capacity_problems
from service.server.access import capacity_writer, client_address, service_writer
from service.server.runtime import runtime_of
from service.stewardship import problem_store, proposal_store, store
from service.stewardship.claims import identity_from_claims
from service.stewardship.editing import KINDS, words
from service.stewardship.listing import filtered, services_for, warm
from service.stewardship.oidc import Refused
from service.stewardship.sessions import (
    ATTEMPT_MINUTES,
    OIDC_COOKIE,
    SIGN_IN_COOKIE,
    Attempt,
    attempt_fresh,
    capacity_from_form,
    capacity_said,
    new_token,
    review_by_from_form,
    token_id,
    tokens_match,
)
from service.stewardship.views import (
    PAGE_SIZE,
    callback_url,
    capacity_page,
    claim_rules,
    expired,
    expired_form,
    keepers_page,
    keeping,
    not_found,
    oidc_client,
    problem,
    read_form,
    refused,
    session_cookie,
    sign_in_page,
    signed_in,
    start_session,
)
from service.store import services as service_store


class StewardshipController(Controller):
    path = "/"
    include_in_schema = False
    cache_control = CacheControlHeader(no_store=True)
    """Never kept by a browser or a proxy: these pages carry a session's form token and who is signed in."""

    @get("/sign-in")
    async def sign_in_form(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """The sign-in page: one field, the API key."""
        return sign_in_page(request, [], status=200)

    @post("/sign-in")
    async def sign_in(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Check the key once and exchange it for a session."""
        form = await read_form(request)
        if not tokens_match(form.get("csrf_token"), request.cookies.get(SIGN_IN_COOKIE)):
            return sign_in_page(request, [expired_form()], status=403)
        key = form.get("key", "").strip()
        if not key:
            return sign_in_page(request, [FieldProblem(field="key", reason="enter your API key")], status=400)
        runtime = runtime_of(request.app.state)
        try:
            identity = await runtime.identities.resolve({"x-api-key": key}, client_address(request))
        except TooManyAttempts as e:
            locked = sign_in_page(request, [problem("key", "too many attempts: wait a minute, then try again")], 429)
            locked.headers["Retry-After"] = str(e.retry_after)
            return locked
        except (Unauthorised, MalformedInput):
            return sign_in_page(request, [problem("key", "this key is not known, or it has been revoked")], 401)
        if identity.kind != "key":
            return sign_in_page(request, [problem("key", "sign in with an API key")], 401)
        response = await start_session(request, key_hash=hash_key(key))
        response.delete_cookie(SIGN_IN_COOKIE, path="/sign-in")
        warm(runtime, identity)
        return response

    @get("/sign-in/oidc")
    async def sign_in_oidc(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Go to the deployment's identity provider (authorization code with PKCE)."""
        runtime = runtime_of(request.app.state)
        client = oidc_client(request)
        if client is None:
            return not_found("sign-in")
        state, now = new_token(), dt.datetime.now(dt.UTC)
        attempt = Attempt(id=token_id(state), nonce=new_token(), verifier=new_token() + new_token(), created_at=now)
        try:
            url = await client.authorization_url(callback_url(request), state, attempt.nonce, attempt.verifier)
        except Refused as e:
            return sign_in_page(request, [problem("oidc", str(e))], status=502)
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
        client = oidc_client(request)
        if client is None:
            return not_found("sign-in")
        params = request.query_params
        state = params.get("state") or ""
        if len(state) > 100 or not tokens_match(state, request.cookies.get(OIDC_COOKIE)):
            return refused(request, "this sign-in did not start here, or has already been used: start again", 403)
        async with runtime.db.transaction() as conn:
            attempt = await store.take_attempt(conn, token_id(state))
        now = dt.datetime.now(dt.UTC)
        if attempt is None or not attempt_fresh(attempt, now):
            return refused(request, "this sign-in has expired or has already been used: start again", 403)
        if params.get("error"):
            return refused(request, f"{runtime.settings.oidc_provider_name} did not sign you in", 401)
        code = params.get("code") or ""
        if not code or len(code) > 2048:
            return refused(request, "the identity provider sent no code: start again", 400)
        try:
            claims = await client.claims(code, callback_url(request), attempt.verifier, attempt.nonce)
        except Refused as e:
            return refused(request, str(e), 401)
        identity = identity_from_claims(claims, claim_rules(runtime))
        if identity is None:
            return refused(request, "your account has no role in this service: ask its administrator", 403)
        response = await start_session(request, identity=identity)
        response.delete_cookie(OIDC_COOKIE, path="/sign-in")
        warm(runtime, identity)
        return response

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """End the session on every replica."""
        runtime = runtime_of(request.app.state)
        found = await signed_in(request)
        form = await read_form(request)
        if found is not None:
            if not tokens_match(form.get("csrf_token"), found[0].csrf):
                return expired(request)
            async with runtime.db.transaction() as conn:
                await store.end_session(conn, found[0].id)
        response: Response[Any] = Redirect("/sign-in?signed_out=1", status_code=303)
        response.set_cookie(session_cookie(runtime, "", 0))
        return response

    @get("/account")
    async def account(self, request: Request[Any, Any, Any]) -> Response[Any]:
        """Who is signed in and as what, and the services they keep: a provider's own; for an editor every
        service in its scope (an admin's, all), filterable by words and kind, with when each was last checked."""
        found = await signed_in(request)
        if found is None:
            return Redirect("/sign-in", status_code=303)
        session, identity = found
        runtime = runtime_of(request.app.state)
        params = request.query_params
        query = (params.get("q") or "").strip()[:100]
        kind = params.get("kind") or ""
        kind = kind if kind in KINDS else ""
        try:
            page = max(1, min(10_000, int(params.get("page") or "1")))
        except ValueError:
            page = 1
        order = "name" if params.get("order") == "name" else "due"
        now = dt.datetime.now(dt.UTC)
        today, months = london_today(now), runtime.settings.review_months
        kept = await services_for(runtime, identity)
        async with runtime.db.transaction() as conn:
            counts = await problem_store.open_counts(conn)
            proposed = await proposal_store.open_counts(conn)
        reported = {s.id: counts[s.id] for s in kept if s.id in counts}
        services = filtered(kept, query, kind)
        if order == "due":
            services = most_due_first(services, today, months)
        shown = services[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return Template(
            template_name="account.html",
            context={
                "identity": identity,
                "csrf": session.csrf,
                "services": [
                    (s, capacity_said(s.capacity, now), review_of(s.verification, today, months)) for s in shown
                ],
                "order": order,
                "reported": reported,
                "open_reports": sum(reported.values()),
                "open_proposals": sum(n for service_id, n in proposed.items() if service_id in {s.id for s in kept}),
                "day_words": day_words,
                "total": len(services),
                "page": page,
                "pages": max(1, -(-len(services) // PAGE_SIZE)),
                "query": query,
                "kind": kind,
                "kinds": [(k, words(k)) for k in KINDS],
                "may_edit": identity.role in ("editor", "admin"),
                "is_admin": identity.role == "admin",
                "drafts_full": bool(params.get("drafts")),
            },
        )

    @get("/account/services/{key:str}/capacity")
    async def capacity_form(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Capacity now, and one screen to set it."""
        k = await keeping(request, key)
        if isinstance(k, Response):
            return k
        saved = bool(request.query_params.get("saved"))
        return await capacity_page(request, k.session, k.identity, k.service, [], {}, saved=saved)

    @post("/account/services/{key:str}/capacity")
    async def set_capacity(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Set a service's capacity: the same rule and the same write as PUT /v1/services/{key}/capacity."""
        form = await read_form(request)
        k = await keeping(request, key, form)
        if isinstance(k, Response):
            return k
        now = dt.datetime.now(dt.UTC)
        capacity, problems = capacity_from_form(form, now)
        if capacity is not None:
            problems = capacity_problems(capacity, now, field="full_until", future=True)
        if capacity is None or problems:
            return await capacity_page(request, k.session, k.identity, k.service, problems, form, status=400)
        runtime = runtime_of(request.app.state)
        service_id = str(k.service.id)
        try:
            async with runtime.db.transaction() as conn:
                authorise = capacity_writer(request.app.state, conn, k.identity, service_id)
                await service_store.set_capacity(
                    conn, service_id, capacity, actor=k.identity.actor, if_match=None, authorise=authorise
                )
        except Forbidden as e:
            refusal = [problem("status", str(e))]
            return await capacity_page(request, k.session, k.identity, k.service, refusal, form, 403)
        except (InvalidInput, PreconditionFailed) as e:
            problems = list(getattr(e, "problems", ())) or [problem("status", str(e))]
            return await capacity_page(request, k.session, k.identity, k.service, problems, form, status=400)
        runtime.outage.recovered()
        return Redirect(f"/account/services/{k.service.slug}/capacity?saved=1", status_code=303)

    @get("/account/services/{key:str}")
    async def service_page(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """A service as its keepers see it: when it was last checked and by whom, and every change, field by
        field, who and when."""
        k = await keeping(request, key)
        if isinstance(k, Response):
            return k
        verified = bool(request.query_params.get("verified"))
        saved = bool(request.query_params.get("saved"))
        return await keepers_page(request, k.session, k.identity, k.service, [], verified=verified, saved=saved)

    @post("/account/services/{key:str}/verify")
    async def verify(self, request: Request[Any, Any, Any], key: FromPath[str]) -> Response[Any]:
        """Mark as checked today: the same rule and the same write as POST /v1/services/{key}/verify."""
        form = await read_form(request)
        k = await keeping(request, key, form)
        if isinstance(k, Response):
            return k
        runtime = runtime_of(request.app.state)
        review_by, problems = review_by_from_form(form.get("review_by", ""))
        if problems:
            return await keepers_page(request, k.session, k.identity, k.service, problems, status=400, form=form)
        try:
            async with runtime.db.transaction() as conn:
                authorise = service_writer(request.app.state, conn, k.identity)
                await service_store.mark_verified(
                    conn,
                    str(k.service.id),
                    by=k.identity.name,
                    actor=k.identity.actor,
                    if_match=None,
                    authorise=authorise,
                    review_by=review_by,
                )
        except InvalidInput as e:
            said = [
                problem(p.field, "the date to check again must come after today, and before 2101") for p in e.problems
            ]
            return await keepers_page(request, k.session, k.identity, k.service, said, status=400, form=form)
        except Forbidden as e:
            refusal = [problem("verify", str(e))]
            return await keepers_page(request, k.session, k.identity, k.service, refusal, status=403)
        runtime.outage.recovered()
        return Redirect(f"/account/services/{k.service.slug}?verified=1", status_code=303)
