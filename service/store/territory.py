"""The editors' territory: every stored area and site, ready to judge catchments (service.domain.scope)."""

from __future__ import annotations

import asyncio

import msgspec

from service.domain.access import Identity
from service.domain.scope import Drawn, Finding, Territory, Writer, recheck
from service.store.areas import all_areas
from service.store.db import Connection
from service.store.keys import list_keys
from service.store.sites import all_sites
from service.store.sql import sql


class Territories:
    """The current Territory (every stored area and site, ready to judge editors' catchments), rebuilt off the event
    loop whenever an area's version changes, and given the new sites when a site's does; between changes a check
    costs two small queries."""

    def __init__(self) -> None:
        self._versions: tuple[tuple[str, int], ...] | None = None
        self._site_versions: tuple[tuple[str, int], ...] | None = None
        self._territory: Territory | None = None
        self._lock = asyncio.Lock()

    async def current(self, conn: Connection) -> Territory:
        versions = await _versions(conn, "areas_versions")
        site_versions = await _versions(conn, "sites_versions")
        territory = self._territory
        if territory is None or versions != self._versions or site_versions != self._site_versions:
            async with self._lock:
                territory = self._territory
                if territory is None or versions != self._versions:
                    territory = await asyncio.to_thread(Territory, await all_areas(conn))
                    self._versions, self._site_versions = versions, None
                if site_versions != self._site_versions:
                    sites = await all_sites(conn)
                    territory = await asyncio.to_thread(territory.with_sites, sites)
                    self._site_versions = tuple((s.slug, s.version) for s in sites)
                self._territory = territory
        return territory


async def _versions(conn: Connection, query: str) -> tuple[tuple[str, int], ...]:
    return tuple((r[0], r[1]) for r in await conn.fetch(sql(query)))


async def drawn_services(conn: Connection) -> list[Drawn]:
    """Every stored service's catchment, with who last drew it (services with no such change are left out)."""
    rows = await conn.fetch(sql("services_drawn_by"))
    return [
        msgspec.convert(
            {"slug": r["slug"], "catchment": r["catchment"], "location": r["location"], "actor": r["actor"]}, Drawn
        )
        for r in rows
        if r["actor"] is not None
    ]


async def key_writers(conn: Connection) -> dict[str, Writer]:
    """Every API key, revoked or not, by the name the change history gives its writes."""
    found = {}
    for k in await list_keys(conn):
        actor = Identity(kind="key", id=str(k.id), name=k.name, role=k.role).actor
        found[actor] = Writer(actor=actor, role=k.role, areas=frozenset(k.area_codes))
    return found


async def recheck_services(conn: Connection) -> tuple[int, list[Finding]]:
    """How many services were checked, and those that their writer's key could not write today."""
    drawn = await drawn_services(conn)
    territory = await Territories().current(conn)
    return len(drawn), await asyncio.to_thread(recheck, territory, drawn, await key_writers(conn))
