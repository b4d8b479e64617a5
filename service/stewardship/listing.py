"""The services a signed-in person keeps, for /account: a provider's own; for an editor every service it may change,
by the API's own write rule (what each catchment covers), judged once per service version off the event loop and
begun at sign-in; for an admin, all."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass

from service.domain.access import Identity
from service.domain.errors import InvalidInput, NotFound
from service.domain.model import Service
from service.domain.scope import Scope, Territory
from service.server.runtime import Runtime
from service.store import services as service_store

MOST_LISTED = 50


async def services_for(runtime: Runtime, identity: Identity) -> list[Service]:
    """A provider's own services, read from the database (a service linked a moment ago is there); for an editor,
    every service it may change by the API's rule (what the service's catchment covers); for an admin, all."""
    if identity.role == "provider":
        found = []
        async with runtime.db.transaction() as conn:
            for service_id in sorted(identity.services)[:MOST_LISTED]:
                with contextlib.suppress(NotFound, InvalidInput):
                    found.append(await service_store.get_service(conn, service_id))
        return sorted(found, key=lambda s: s.name.lower())
    if identity.role not in ("editor", "admin"):
        return []
    return await services_in_scope(runtime, identity)


@dataclass
class Listing:
    """One set of areas' verdicts on one territory, each service's by its version: after a write only that service
    is judged again, so the list stays quick at 50,000 services however often capacity changes."""

    territory: Territory
    known: dict[uuid.UUID, tuple[int, bool]]
    running: asyncio.Future[None] | None = None
    """The judging under way, which every request for this list waits on (judged once, not once a request)."""


MOST_LISTINGS = 16
_listings: dict[frozenset[str], Listing] = {}
_warming: set[asyncio.Future[list[Service]]] = set()


async def services_in_scope(runtime: Runtime, identity: Identity) -> list[Service]:
    """Every service this editor may change, by the API's own rule (what its catchment covers); an admin's are all.
    Ordered by name. The first list for a set of areas judges every service (seconds at 50,000, off the event
    loop, begun at sign-in); after that only the services changed since."""
    services = list(runtime.index.by_slug.values())
    if identity.role == "admin":
        return sorted(services, key=lambda s: (s.name.lower(), s.slug))
    codes = frozenset(identity.areas)
    async with runtime.db.transaction() as conn:
        territory = await runtime.territories.current(conn)
    listing = _listings.get(codes)
    if listing is None or listing.territory is not territory:
        if codes not in _listings and len(_listings) >= MOST_LISTINGS:
            _listings.pop(next(iter(_listings)))
        listing = _listings[codes] = Listing(territory=territory, known={})
    while stale := [s for s in services if listing.known.get(s.id, (-1, False))[0] != s.version]:
        if listing.running is None or listing.running.done():
            listing.running = asyncio.ensure_future(_judge(territory.scope(codes), stale, listing.known))
        await asyncio.shield(listing.running)
    found = [s for s in services if listing.known[s.id] == (s.version, True)]
    return sorted(found, key=lambda s: (s.name.lower(), s.slug))


async def _judge(scope: Scope, services: list[Service], known: dict[uuid.UUID, tuple[int, bool]]) -> None:
    def judged() -> list[tuple[uuid.UUID, int, bool]]:
        return [(s.id, s.version, scope.covers(s.catchment, s.location)) for s in services]

    for service_id, version, within in await asyncio.to_thread(judged):
        known[service_id] = (version, within)


def warm(runtime: Runtime, identity: Identity) -> None:
    """Begin judging an editor's list as they sign in, so that it is ready when they reach it."""
    if identity.role == "editor":
        task = asyncio.ensure_future(services_in_scope(runtime, identity))
        _warming.add(task)
        task.add_done_callback(_warming.discard)


def filtered(services: list[Service], query: str, kind: str) -> list[Service]:
    words_ = query.lower().split()
    return [
        s
        for s in services
        if (not kind or s.kind == kind) and all(w in f"{s.name} {s.slug} {s.organisation}".lower() for w in words_)
    ]
