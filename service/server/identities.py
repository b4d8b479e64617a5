"""Credentials to identities, and the guards that use them.

An API key comes as `Authorization: Bearer ldp_…` or `X-API-Key: ldp_…`; an identity provider's JWT as
`Authorization: Bearer <jwt>` when PATHWAYS_JWT_SECRET is set (litestar's JWT support decodes it).

Keys this replica has seen are remembered, and the whole set is re-checked against the database in one query every
half second, so a revocation reaches every replica within a second. When the database cannot be reached, the
last-known answer stands: a key that worked keeps working for reads (writes fail anyway, with 503), and a key
seen revoked stays revoked. A key never seen before cannot be checked then, and gets 503.

Failed attempts (unknown or revoked keys, bad tokens) are counted per client address; past the limit, the address
gets 429 without a database look-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import Any

from litestar.exceptions import NotAuthorizedException
from litestar.security.jwt import Token
from litestar.stores.base import Store

from service.domain.access import (
    ANONYMOUS,
    KEY_PREFIX,
    Identity,
    TokenClaims,
    TooManyAttempts,
    Unauthorised,
    hash_key,
)
from service.domain.decoding import convert
from service.domain.errors import MalformedInput, Unavailable
from service.settings import Settings
from service.store.db import Database, unavailable
from service.store.keys import identities_for_hashes

log = logging.getLogger("service.access")
KEY_CACHE_SECONDS = 0.5
"""How often every remembered key is checked again (revocations reach every replica within a second)."""
KEY_IDLE_SECONDS = 900.0
"""A key not used for this long is forgotten (and looked up afresh when it comes back)."""
KEY_CACHE_SIZE = 10_000
LOOKUP_TIMEOUT_SECONDS = 2.0
FAILURE_WINDOW_SECONDS = 60


@dataclass
class _Known:
    identity: Identity | None
    """None: unknown or revoked."""
    checked: float
    used: float


class Identities:
    def __init__(self, db: Database, settings: Settings, store: Store | None = None) -> None:
        self.db = db
        self.settings = settings
        self.store = store
        """Where failed attempts are counted (the rate limiter's store: memory, or Redis shared by replicas)."""
        self._known: dict[str, _Known] = {}
        self._offline_since: float | None = None
        self._task: asyncio.Task[None] | None = None

    # --- resolving a request's credentials ---------------------------------------------------------------

    async def resolve(self, headers: Any, address: str = "unknown") -> Identity:
        token = credential(headers)
        if not token:
            return ANONYMOUS
        try:
            if token.startswith(KEY_PREFIX):
                return await self._key(token, address)
            if self.settings.jwt_secret and token.count(".") == 2:
                return self._jwt(token)
            raise Unauthorised("the credentials are not an API key or a valid token")
        except Unauthorised:
            await self._failed(address)
            raise

    async def _key(self, token: str, address: str) -> Identity:
        digest = hash_key(token)
        now = time.monotonic()
        known = self._known.get(digest)
        if known is None:
            # Only a key never seen costs a look-up, so only those are refused after too many failures: a
            # custody suite's own keys keep working while someone behind the same address guesses.
            await self._not_locked_out(address)
        if known is None or (now - known.checked > 2 * KEY_CACHE_SECONDS and self._offline_since is None):
            try:
                found = (await self._lookup([digest]))[digest]
            except Unavailable:
                if known is None:
                    raise Unavailable("this key cannot be checked while the database is unavailable") from None
            else:
                # Made-up keys are not remembered (they would push real ones out); a known key that is now
                # unknown is remembered as revoked, and stays so through an outage.
                if found is None and known is None:
                    raise Unauthorised("unknown or revoked API key")
                known = self._remember(digest, found, now)
        known.used = now
        if known.identity is None:
            raise Unauthorised("unknown or revoked API key")
        return known.identity

    def _remember(self, digest: str, identity: Identity | None, now: float) -> _Known:
        if digest not in self._known and len(self._known) >= KEY_CACHE_SIZE:
            oldest = min(self._known, key=lambda d: self._known[d].used)
            del self._known[oldest]
        known = self._known[digest] = _Known(identity=identity, checked=now, used=now)
        return known

    async def _lookup(self, digests: list[str]) -> dict[str, Identity | None]:
        """One query for many keys; any failure to reach the database is Unavailable."""
        try:
            async with asyncio.timeout(LOOKUP_TIMEOUT_SECONDS), self.db.pool.acquire() as conn:
                found = await identities_for_hashes(conn, digests)
        except Exception as e:
            problem = unavailable(e)
            if not isinstance(problem, Unavailable):
                raise
            self._went_offline(e)
            raise problem from None
        self._came_back()
        return found

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

    # --- failed attempts, per client address ---------------------------------------------------------------

    async def _not_locked_out(self, address: str) -> None:
        limit = self.settings.auth_failures_per_minute
        if self.store is None or limit == 0:
            return
        count = await self.store.get(f"auth-failures::{address}")
        if count is not None and int(count) >= limit:
            raise TooManyAttempts(FAILURE_WINDOW_SECONDS)

    async def _failed(self, address: str) -> None:
        if self.store is None or self.settings.auth_failures_per_minute == 0:
            return
        key = f"auth-failures::{address}"
        count = int(await self.store.get(key) or 0) + 1
        await self.store.set(key, str(count), expires_in=FAILURE_WINDOW_SECONDS)

    # --- keeping remembered keys current -------------------------------------------------------------------

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._refresh_forever(), name="key-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            while not self._task.done():  # as the index keeper: never trust one cancellation
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=1.0)

    async def refresh(self) -> None:
        """Check every remembered key again in one query; forget keys idle for a quarter of an hour."""
        now = time.monotonic()
        for digest in [d for d, k in self._known.items() if now - k.used > KEY_IDLE_SECONDS]:
            del self._known[digest]
        if not self._known:
            return
        found = await self._lookup(list(self._known))
        for digest, identity in found.items():
            known = self._known.get(digest)
            if known is not None:
                known.identity, known.checked = identity, now

    async def _refresh_forever(self) -> None:
        while True:
            await asyncio.sleep(KEY_CACHE_SECONDS)
            with contextlib.suppress(Unavailable):
                await self.refresh()

    def _went_offline(self, exc: BaseException) -> None:
        if self._offline_since is None:
            self._offline_since = time.monotonic()
            log.warning("cannot check API keys (%s): answering from the last-known keys", type(exc).__name__)

    def _came_back(self) -> None:
        if self._offline_since is not None:
            log.warning("API keys are checked again, after %.1f s", time.monotonic() - self._offline_since)
            self._offline_since = None


def credential(headers: Any) -> str:
    header = headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        return str(header[7:].strip())
    return str(headers.get("x-api-key", "")).strip()
