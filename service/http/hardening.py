"""Security headers, and the rate limit's identity for a request."""

from __future__ import annotations

import hashlib
from typing import Any

from litestar import Request
from litestar.datastructures import MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from service.http.access import credential

# The pages load only their own scripts, styles, fonts and images. Swagger UI needs an inline script.
CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'"
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
)


def security_headers(app: ASGIApp) -> ASGIApp:
    """nosniff everywhere; frame-ancestors so that /embed can be framed by any site and nothing else can."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        path: str = scope["path"]
        embeddable = path == "/embed" or path.startswith("/static/") or path.startswith(("/govuk/", "/assets/"))
        csp = DOCS_CSP if path.startswith("/schema") else CSP
        frame = "frame-ancestors *" if embeddable else "frame-ancestors 'none'"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["X-Content-Type-Options"] = "nosniff"
                headers["Referrer-Policy"] = "no-referrer"
                headers["Content-Security-Policy"] = f"{csp}; {frame}"
                if not embeddable:
                    headers["X-Frame-Options"] = "DENY"
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware


def rate_limit_identity(request: Request[Any, Any, Any]) -> str:
    """Per key (hashed; no database look-up) or, for requests without one, per client address."""
    secret = credential(request.headers)
    if secret:
        return "key:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "ip:" + (request.client.host if request.client else "unknown")
