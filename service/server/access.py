"""The guards: a request's identity (resolved once, by `authenticate`, from service/server/identities.py), the
roles a route needs, what an editor's writes would reach, and the rate limit's key."""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.types import ASGIApp, Receive, Scope, Send

from service.domain.access import (
    ANONYMOUS,
    Forbidden,
    Identity,
    Role,
    may_read,
    may_update_capacity,
    may_write_service,
    report_scope,
    require_role,
)
from service.domain.errors import DomainError
from service.domain.model import ServiceBody
from service.domain.scope import Territory, Verdict
from service.server.runtime import Runtime, runtime_of
from service.store.db import Connection
from service.store.services import Authorise


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's address (an IPv6 client by its /64, which one host usually has whole), as the rate limits count.
    Behind a proxy it is the proxy's, unless PATHWAYS_TRUSTED_PROXIES names that proxy."""
    host = connection.client.host if connection.client else "unknown"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class Reach:
    """What an editor's writes would reach, judged on the current areas off the event loop; None for every other
    role, whose rules do not depend on it. The areas are read once a request, however many bodies it judges (the
    stored and new versions of a service, every record of an import)."""

    def __init__(self, state: State, conn: Connection, identity: Identity) -> None:
        self.state, self.conn, self.identity = state, conn, identity
        self._territory: Territory | None = None

    async def __call__(self, body: ServiceBody) -> Verdict | None:
        if self.identity.role != "editor":
            return None
        if self._territory is None:
            self._territory = await runtime_of(self.state).territories.current(self.conn)
        verdict: Verdict = await asyncio.to_thread(
            self._territory.judge, self.identity.areas, body.catchment, body.location
        )
        return verdict


def service_writer(state: State, conn: Connection, identity: Identity) -> Authorise:
    """The rule for writing a service (editors by what its catchment covers, admins anywhere), judged for the stored
    body and the new one alike: what every write of a service, by the API or a page, passes to the store."""
    reach = Reach(state, conn, identity)

    async def authorise(body: ServiceBody) -> None:
        may_write_service(identity, await reach(body))

    return authorise


REVIEWED = (
    "this deployment holds editors' changes for review: propose the change instead "
    "(POST /v1/services/{key}/proposals, or the editors' pages)"
)


def held_for_review(state: State, identity: Identity) -> None:
    """Where PATHWAYS_EDITS_NEED_REVIEW holds editors' changes for review, an editor publishes nothing directly
    (an import included): 403."""
    if identity.role == "editor" and runtime_of(state).settings.edits_need_review:
        raise Forbidden(REVIEWED)


def publisher(state: State, conn: Connection, identity: Identity) -> Authorise:
    """The rule for publishing a change to a service's details: the write rule (`service_writer`), and, where
    PATHWAYS_EDITS_NEED_REVIEW holds editors' changes for review, admins only (an editor proposes instead)."""
    if identity.role == "editor" and runtime_of(state).settings.edits_need_review:

        async def held(body: ServiceBody) -> None:
            raise Forbidden(REVIEWED)

        return held
    return service_writer(state, conn, identity)


def capacity_writer(state: State, conn: Connection, identity: Identity, service_id: str) -> Authorise:
    """The rule for setting a service's capacity: a provider its own services, editors in scope, admins."""
    reach = Reach(state, conn, identity)

    async def authorise(body: ServiceBody) -> None:
        may_update_capacity(identity, service_id, await reach(body))

    return authorise


async def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    """The request's identity, resolved once per request (by `authenticate`, before the rate limit)."""
    state = connection.scope.setdefault("state", {})
    failed = state.get("identity_error")
    if failed is not None:
        raise failed
    found = state.get("identity")
    if found is None:
        identities = runtime_of(connection.app.state).identities
        found = state["identity"] = await identities.resolve(connection.headers, client_address(connection))
    return found


_CREDENTIAL_HEADERS = frozenset({b"authorization", b"x-api-key"})


def authenticate(app: ASGIApp) -> ASGIApp:
    """Resolve the credentials before the rate limit, so that it counts per key or token only once they are known
    to be good, and per address otherwise. A failure is kept and raised by the first guard that asks, so routes
    that need no identity (health, static files) are not refused for a bad header."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP:
            if not any(name in _CREDENTIAL_HEADERS for name, _ in scope["headers"]):
                scope.setdefault("state", {})["identity"] = ANONYMOUS  # most searches: nothing to check
            else:
                try:
                    await identity_of(ASGIConnection(scope))
                except DomainError as e:
                    scope.setdefault("state", {})["identity_error"] = e
        await app(scope, receive, send)

    return middleware


def limited_as(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Whose rate limit a request counts against: a checked key's or token's, else the client address's."""
    identity: Identity | None = connection.scope.get("state", {}).get("identity")
    match identity:
        case Identity(kind="key", id=key_id):
            return f"key:{key_id}"
        case Identity(kind="jwt", id=sub):
            return f"jwt:{sub}"
        case _:
            return f"ip:{client_address(connection)}"


async def can_read(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: reading, open to all or key-required (PATHWAYS_READ_ACCESS)."""
    settings = runtime_of(connection.app.state).settings
    may_read(await identity_of(connection), settings.read_access == "open")


def needs(*roles: Role) -> Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], Awaitable[None]]:
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        require_role(await identity_of(connection), *roles)

    guard.__name__ = f"needs_{'_or_'.join(roles)}"
    return guard


READ = [can_read]
EDIT = [needs("editor", "admin")]
CAPACITY = [needs("provider", "editor", "admin")]
ADMIN = [needs("admin")]


def readable_areas(runtime: Runtime, identity: Identity, area: str | None) -> frozenset[str] | None:
    """The areas a report covers: the one asked for, if the reader may read it (one of its areas, or a district of
    one of its forces), else the reader's own (None: all)."""
    allowed = report_scope(identity, runtime.settings.reports_access == "open")
    if area is None:
        return allowed
    if allowed is not None and area not in allowed and runtime.index.places.force_of(area) not in allowed:
        raise Forbidden(f"this key may not read reports for {area}")
    return frozenset({area})
