"""Sending one webhook: the host resolved and every address it has judged (service/partners/addresses.py), then one
POST to the address checked, never to whatever the name resolves to a moment later. TLS is still checked against
the host's name (it is the server name the connection asks for). Short timeouts; redirects are never followed; no
proxy from the environment is used (a proxy would resolve the name itself, after the check); nothing of the answer
is read but its status code."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import ipaddress
import socket
import ssl
import time

import httpx

from service.domain.errors import InvalidInput
from service.partners import signing
from service.partners.addresses import IPAddress, Target, judged, parse_url
from service.partners.deliveries import Attempt

CONNECT_SECONDS = 5.0
ANSWER_SECONDS = 10.0
RESOLVE_SECONDS = 5.0
WHOLE_SECONDS = 20.0
"""The longest one attempt takes, whatever the receiver does (a lease on a delivery is longer than this)."""
USER_AGENT = "ld-pathways-webhooks/1"


_RESOLVER = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhooks-dns")
"""Name look-ups run on threads of their own: one that never answers outlives its timeout on its thread, and would
otherwise hold one of the threads the rest of the server runs its blocking work on."""
_TLS: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    """The TLS context every attempt verifies with, made once (loading the CA bundle takes tens of milliseconds, on
    the event loop)."""
    global _TLS
    if _TLS is None:
        _TLS = httpx.create_ssl_context()
    return _TLS


async def resolve(target: Target) -> list[IPAddress]:
    """The host's addresses (the literal one, when the URL names an address); none when it does not resolve."""
    literal = target.literal
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    look_up = functools.partial(socket.getaddrinfo, target.host, target.port, type=socket.SOCK_STREAM)
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await loop.run_in_executor(_RESOLVER, look_up)
    except (OSError, TimeoutError, UnicodeError):
        return []
    addresses: list[IPAddress] = []
    for *_, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


async def checked(url: str, allow_private: bool) -> tuple[Target, IPAddress]:
    """The URL taken apart and the address to send to; InvalidInput naming `url` when it may not be used."""
    target = parse_url(url, allow_private)
    return target, judged(target, await resolve(target), allow_private)


async def send(url: str, secret: str, message_id: str, body: bytes, allow_private: bool) -> Attempt:
    """One attempt: the receiver's status code, or a few words for why there was none."""
    try:
        target, address = await checked(url, allow_private)
    except InvalidInput as e:
        return Attempt(error=f"not sent: {e.problems[0].reason}"[:200])
    timestamp = int(time.time())
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "host": target.host_header,
        **signing.headers(secret, message_id, timestamp, body),
    }
    extensions = {"sni_hostname": target.host} if target.scheme == "https" and target.literal is None else {}
    timeout = httpx.Timeout(ANSWER_SECONDS, connect=CONNECT_SECONDS)
    try:
        async with (
            asyncio.timeout(WHOLE_SECONDS),
            httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False, verify=_tls()) as client,
        ):
            request = client.build_request(
                "POST", target.url_at(address), headers=headers, content=body, extensions=extensions
            )
            response = await client.send(request, stream=True)
            await response.aclose()  # the answer's body is never read
            return Attempt(status=response.status_code)
    except (httpx.TimeoutException, TimeoutError):
        return Attempt(error="no answer in time")
    except httpx.ConnectError:
        return Attempt(error="could not connect (refused, unreachable, or TLS failed)")
    except httpx.HTTPError as e:
        return Attempt(error=f"failed: {type(e).__name__}")
    except Exception as e:  # whatever else a strange URL or answer raises is this attempt's failure, not the job's
        return Attempt(error=f"failed: {type(e).__name__}")
