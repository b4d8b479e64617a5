"""The whole directory read in one consistent snapshot, for building a search index off the event loop.

`read_directory` blocks: it runs its own event loop on a connection of its own, in the calling thread, so that
fetching and decoding 50,000 services never holds up the server's event loop (call it with asyncio.to_thread).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from service.domain.model import Area, Service, Site
from service.store import areas as area_store
from service.store import services as service_store
from service.store import sites as site_store
from service.store.changes import directory_version
from service.store.db import Timeouts, connect
from service.store.postcodes import all_centroids


@dataclass(frozen=True)
class DirectorySnapshot:
    version: int
    services: list[Service]
    damaged: list[str]
    """Ids of stored services whose documents cannot be read (left out of search)."""
    areas: list[Area]
    sites: list[Site]
    postcodes: dict[str, tuple[float, float]]


def read_directory(dsn: str, timeouts: Timeouts) -> DirectorySnapshot:
    """Blocking; never call it on an event loop's thread."""
    return asyncio.run(_read(dsn, timeouts))


async def _read(dsn: str, timeouts: Timeouts) -> DirectorySnapshot:
    conn = await connect(dsn, timeouts)
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            version = await directory_version(conn)
            rows = await service_store.services_as_text(conn)
            areas = await area_store.all_areas(conn)
            sites = await site_store.all_sites(conn)
            postcodes = await all_centroids(conn)
    finally:
        await conn.close()
    services, damaged = service_store.decode_services(rows)
    return DirectorySnapshot(version, services, damaged, areas, sites, postcodes)
