"""Credentials to identities, and the guards that use them.

An API key comes as `Authorization: Bearer ldp_…` or `X-API-Key: ldp_…`; an identity provider's JWT as
`Authorization: Bearer <jwt>` when PATHWAYS_JWT_SECRET is set (litestar's JWT support decodes it). Key look-ups are
cached for at most half a second, so a revocation reaches every replica within a second.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.security.jwt import Token

from service.domain.access import (
    ANONYMOUS,
    KEY_PREFIX,
    Identity,
    Role,
    TokenClaims,
    Unauthorised,
    hash_key,
    may_read,
    require_role,
)
from service.domain.decoding import convert
from service.domain.errors import MalformedInput
from service.domain.model import ServiceBody
from service.domain.scope import Verdict
from service.settings import Settings
from service.store.db import Connection, Pool
from service.store.keys import identity_for_key

KEY_CACHE_SECONDS = 0.5


class Identities:
    def __init__(self, pool: Pool, settings: Settings) -> None:
        self.pool = pool
        self.settings = settings
        self._cache: dict[str, tuple[float, Identity | None]] = {}

    async def resolve(self, headers: Any) -> Identity:
        token = credential(headers)
        if not token:
            return ANONYMOUS
        if token.startswith(KEY_PREFIX):
            return await self._key(token)
        if self.settings.jwt_secret and token.count(".") == 2:
            return self._jwt(token)
        raise Unauthorised("the credentials are not an API key or a valid token")

    async def _key(self, token: str) -> Identity:
        digest = hash_key(token)
        now = time.monotonic()
        cached = self._cache.get(digest)
        if cached is None or now - cached[0] > KEY_CACHE_SECONDS:
            async with self.pool.acquire() as conn:
                found = await identity_for_key(conn, token)
            if len(self._cache) > 10_000:
                self._cache.clear()
            cached = self._cache[digest] = (now, found)
        if cached[1] is None:
            raise Unauthorised("unknown or revoked API key")
        return cached[1]

    def _jwt(self, token: str) -> Identity:
        s = self.settings
        try:
            decoded = Token.decode(
                token, s.jwt_secret, s.jwt_algorithm, audience=s.jwt_audience or None, issuer=s.jwt_issuer or None
            )
        except NotAuthorizedException as e:
            raise Unauthorised(f"invalid token: {e.detail}") from e
        extras = decoded.extras or {}
        claims: dict[str, object] = {"sub": decoded.sub, **{k: extras[k] for k in ("role", "areas") if k in extras}}
        try:
            checked = convert(claims, TokenClaims)
        except MalformedInput as e:
            problem = e.problems[0]
            raise Unauthorised(f"invalid token: the {problem.field} claim {problem.reason}") from None
        return Identity(kind="jwt", id=checked.sub, name=checked.sub, role=checked.role, areas=frozenset(checked.areas))


async def reach(state: State, conn: Connection, identity: Identity, body: ServiceBody) -> Verdict | None:
    """What an editor's write would reach, judged on the current areas off the event loop; None for every other
    role, whose rules do not depend on it."""
    if identity.role != "editor":
        return None
    territory = await state.territories.current(conn)
    verdict: Verdict = await asyncio.to_thread(territory.judge, identity.areas, body.catchment, body.location)
    return verdict


def credential(headers: Any) -> str:
    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return str(header[7:].strip())
    return str(headers.get("x-api-key", "")).strip()


async def identity_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Identity:
    """The request's identity, resolved once per request."""
    state = connection.scope.setdefault("state", {})
    found = state.get("identity")
    if found is None:
        identities: Identities = connection.app.state.identities
        found = state["identity"] = await identities.resolve(connection.headers)
    return found


async def can_read(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """Guard: reading, open to all or key-required (PATHWAYS_READ_ACCESS)."""
    settings: Settings = connection.app.state.settings
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
