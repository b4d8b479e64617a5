"""Open CORS on the standard read APIs (/openreferral, /fhir) whenever reads are open, whatever
PATHWAYS_CORS_ORIGINS says: the Open Referral UK profile expects any site to read a directory from the browser.

It wraps the whole app (outside litestar's CORS middleware, which would otherwise answer a preflight from an
origin not on the list with a 400): a preflight is answered here, and a read's Origin header is taken off before
the app sees it, so that the answer says `Access-Control-Allow-Origin: *` and nothing else.
"""

from __future__ import annotations

from typing import Any, cast

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

PREFIXES = ("/openreferral", "/fhir")
METHODS = b"GET, HEAD, OPTIONS"


def open_reads(app: ASGIApp, enabled: bool) -> ASGIApp:
    if not enabled:
        return app

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or not scope["path"].startswith(PREFIXES):
            await app(scope, receive, send)
            return
        if not any(name == b"origin" for name, _ in scope["headers"]):
            await app(scope, receive, send)
            return
        headers = [(n, v) for n, v in scope["headers"] if n != b"origin"]
        asked = dict(scope["headers"])
        if scope["method"] == "OPTIONS" and b"access-control-request-method" in asked:
            allow = [(b"access-control-allow-origin", b"*"), (b"access-control-allow-methods", METHODS)]
            allow += [(b"access-control-max-age", b"86400"), (b"content-length", b"0")]
            if b"access-control-request-headers" in asked:
                allow.append((b"access-control-allow-headers", asked[b"access-control-request-headers"]))
            await send({"type": "http.response.start", "status": 204, "headers": allow})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return

        async def send_open(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", []) if n.lower() != b"access-control-allow-origin"]
                message = {**message, "headers": [*kept, (b"access-control-allow-origin", b"*")]}
            await send(message)

        without_origin: Any = {**scope, "headers": headers}
        await app(cast(Scope, without_origin), receive, send_open)

    return middleware
