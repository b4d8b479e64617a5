"""Security headers, the rate limit's identity and stores, trusted proxies, and a deadline for request bodies."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.middleware import DefineMiddleware
from litestar.routes import HTTPRoute
from litestar.stores.base import Store
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from redis.exceptions import RedisError

from service.server.access import limited_as

log = logging.getLogger("service.http")

# The pages load only their own scripts, styles, fonts and images. Swagger UI needs an inline script.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)


def _embeddable(path: str) -> bool:
    return path == "/embed" or path.startswith(("/static/", "/govuk/", "/assets/"))


def _headers(csp: str, *, embeddable: bool) -> tuple[tuple[bytes, bytes], ...]:
    frame = "frame-ancestors *" if embeddable else "frame-ancestors 'none'"
    found = [
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", f"{csp}; {frame}".encode()),
    ]
    return tuple(found if embeddable else [*found, (b"x-frame-options", b"DENY")])


_PAGE_HEADERS = _headers(CSP, embeddable=False)
_EMBED_HEADERS = _headers(CSP, embeddable=True)
_DOCS_HEADERS = _headers(DOCS_CSP, embeddable=False)


async def security_headers(message: Message, scope: Scope) -> None:
    """A before-send hook, so that every response has them: litestar's own 404s, 405s and CORS preflights too.
    nosniff everywhere; frame-ancestors so that /embed can be framed by any site and nothing else can. (No handler
    sets these, so they are appended, precomputed: this runs on every response, searches included.)"""
    if message["type"] != "http.response.start":
        return
    path: str = scope.get("path", "")
    extra = _EMBED_HEADERS if _embeddable(path) else _DOCS_HEADERS if path.startswith("/schema") else _PAGE_HEADERS
    message["headers"] = [*message.get("headers", ()), *extra]


def rate_limit_identity(request: Request[Any, Any, Any]) -> str:
    """Per key or token once checked, otherwise per client address: an unchecked credential is never a bucket of
    its own, or every made-up key would get a fresh allowance."""
    return limited_as(request)


class BoundedMemoryStore(Store):
    """litestar's Store in this replica's memory, holding at most `max_entries` (client addresses and keys being
    counted). Entries are kept in the order they were last written: each write first drops the expired entries at
    the front (counters live a minute, so the front is where they expire), and past the cap the least recently
    written goes; `sweep` (run every SWEEP_SECONDS from the app's lifespan) drops any other expired entry, so none
    outlives its expiry by long whether or not its key is read or written again. Every operation is O(1), amortised.

    It has no __len__ on purpose: litestar's StoreRegistry replaces a registered store that is falsy with a plain,
    unbounded MemoryStore, and an empty container is falsy. (That is how an earlier version lost its cap.)"""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.max_entries = max_entries
        self.clock = clock
        """Seconds, monotonic; tests may move it on."""
        self._entries: OrderedDict[str, tuple[float | None, bytes]] = OrderedDict()
        """key -> (when it expires by `clock`, or None for never; value)."""

    @property
    def entries(self) -> int:
        """How many entries are held, expired ones not yet dropped included."""
        return len(self._entries)

    def _expiry(self, expires_in: int | timedelta | None) -> float | None:
        if expires_in is None:
            return None
        seconds = expires_in.total_seconds() if isinstance(expires_in, timedelta) else expires_in
        return self.clock() + seconds

    def _live(self, key: str) -> tuple[float | None, bytes] | None:
        found = self._entries.get(key)
        if found is not None and found[0] is not None and found[0] <= self.clock():
            del self._entries[key]
            return None
        return found

    def _drop_expired_front(self) -> None:
        now, entries = self.clock(), self._entries
        while entries:
            expires_at, _ = entries[next(iter(entries))]
            if expires_at is None or expires_at > now:
                return
            entries.popitem(last=False)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        self._drop_expired_front()
        self._entries[key] = (self._expiry(expires_in), value.encode() if isinstance(value, str) else value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        found = self._live(key)
        if found is None:
            return None
        expires_at, data = found
        if renew_for and expires_at is not None:
            self._entries[key] = (self._expiry(renew_for), data)
            self._entries.move_to_end(key)
        return data

    async def delete(self, key: str) -> None:
        self._entries.pop(key, None)

    async def delete_all(self) -> None:
        self._entries.clear()

    async def exists(self, key: str) -> bool:
        return self._live(key) is not None

    async def expires_in(self, key: str) -> int | None:
        found = self._live(key)
        if found is None or found[0] is None:
            return None
        return int(found[0] - self.clock())

    async def sweep(self, chunk: int = 5_000) -> None:
        """Drop every expired entry, a chunk at a time so that the event loop is never held for long."""
        keys = list(self._entries)
        for start in range(0, len(keys), chunk):
            now = self.clock()
            for key in keys[start : start + chunk]:
                found = self._entries.get(key)
                if found is not None and found[0] is not None and found[0] <= now:
                    del self._entries[key]
            await asyncio.sleep(0)


SWEEP_SECONDS = 10.0
SWEEP_TASK = "rate-limit-sweep"


async def keep_swept(store: Store, every: float = SWEEP_SECONDS) -> None:
    """Sweep the store's memory (its fallback's, for Redis) every `every` seconds, for as long as the app runs."""
    memory = store.fallback if isinstance(store, FallbackStore) else store
    if not isinstance(memory, BoundedMemoryStore):
        return
    while True:
        await asyncio.sleep(every)
        await memory.sweep()


class FallbackStore(Store):
    """Redis, shared by replicas; while Redis cannot be reached, this replica's memory, so that a Redis outage
    never turns into failed requests. It tries Redis again every few seconds."""

    RETRY_SECONDS = 5.0

    def __init__(self, primary: Store, fallback: BoundedMemoryStore) -> None:
        self.primary, self.fallback = primary, fallback
        self._down_until = 0.0

    async def _use(self, method: str, *args: Any, **kwargs: Any) -> Any:
        if time.monotonic() >= self._down_until:
            try:
                result = await getattr(self.primary, method)(*args, **kwargs)
            except (RedisError, OSError, TimeoutError) as e:
                if self._down_until == 0.0:
                    log.warning("Redis unavailable (%s): rate limits are counted per replica", type(e).__name__)
                self._down_until = time.monotonic() + self.RETRY_SECONDS
            else:
                if self._down_until != 0.0:
                    log.warning("Redis reachable again: rate limits are shared")
                    self._down_until = 0.0
                return result
        return await getattr(self.fallback, method)(*args, **kwargs)

    async def close(self) -> None:
        """Close the Redis connection (litestar does not close stores itself)."""
        await self.primary.__aexit__(None, None, None)

    async def set(self, key: str, value: str | bytes, expires_in: int | timedelta | None = None) -> None:
        await self._use("set", key, value, expires_in=expires_in)

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        found: bytes | None = await self._use("get", key, renew_for=renew_for)
        return found

    async def delete(self, key: str) -> None:
        await self._use("delete", key)

    async def delete_all(self) -> None:
        await self._use("delete_all")

    async def exists(self, key: str) -> bool:
        found: bool = await self._use("exists", key)
        return found

    async def expires_in(self, key: str) -> int | None:
        found: int | None = await self._use("expires_in", key)
        return found


_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS"})


def body_deadline(seconds: float) -> Any:
    """A request body must arrive within `seconds` of the request starting (408 otherwise), so a client that
    trickles one byte at a time cannot hold a worker and a connection for ever."""

    def factory(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP or scope["method"] in _NO_BODY:
                await app(scope, receive, send)
                return
            deadline = asyncio.get_running_loop().time() + seconds
            waiting = True

            async def timed_receive() -> Any:
                nonlocal waiting
                if not waiting:
                    return await receive()
                try:
                    async with asyncio.timeout_at(deadline):
                        message = await receive()
                except TimeoutError:
                    raise HTTPException(status_code=408, detail="the request body took too long to arrive") from None
                if message["type"] != "http.request" or not message.get("more_body", False):
                    waiting = False
                return message

            await app(scope, timed_receive, send)

        return middleware

    return factory


def trusted_proxies(trusted: str) -> list[DefineMiddleware]:
    """X-Forwarded-For is believed only from the proxies named (uvicorn's middleware does the work); with none
    named, the client address is the one the connection came from. It runs first, so the rate limits see it."""
    hosts = [t.strip() for t in trusted.split(",") if t.strip()]
    if not hosts:
        return []
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    return [DefineMiddleware(ProxyHeadersMiddleware, trusted_hosts=hosts)]  # type: ignore[arg-type]


def answer_options(app: ASGIApp) -> ASGIApp:
    """OPTIONS, answered for every path with the methods it really allows, and without asking for a key. (litestar's
    own OPTIONS handler lists only the methods of the first handler registered for a path, and inherits that
    handler's guards.) CORS preflights are answered earlier, by litestar's CORS middleware, when CORS is on."""
    allowed: dict[str, str] = {}

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "OPTIONS":
            await app(scope, receive, send)
            return
        if not allowed:
            methods: dict[str, set[str]] = {}
            for route in scope["litestar_app"].routes:
                if isinstance(route, HTTPRoute):
                    methods.setdefault(route.path_format, set()).update(route.methods)
            allowed.update({path: ", ".join(sorted(m | {"OPTIONS"})) for path, m in methods.items()})
        allow = allowed.get(scope.get("path_template", ""), "OPTIONS")
        start: Message = {"type": "http.response.start", "status": 204, "headers": [(b"allow", allow.encode())]}
        await send(start)
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return middleware
