"""The whole directory read in one consistent snapshot, for building a search index off the event loop.

`read_directory` blocks: it runs its own event loop on a connection of its own, in the calling thread, so that
fetching and decoding 50,000 services never holds up the server's event loop (call it with asyncio.to_thread).

The services come in chunks, each decoded in a second thread while PostgreSQL (on another core) produces the next:
at start-up, fetching and decoding overlap instead of following one another.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
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


CHUNK = 5000


async def _read(dsn: str, timeouts: Timeouts) -> DirectorySnapshot:
    conn = await connect(dsn, timeouts)
    loop = asyncio.get_running_loop()
    with ThreadPoolExecutor(1, thread_name_prefix="decode") as decoder:
        decoding: list[asyncio.Future[tuple[list[Service], list[str]]]] = []
        try:
            async with conn.transaction(isolation="repeatable_read", readonly=True):
                version = await directory_version(conn)
                async for rows in service_store.services_in_chunks(conn, CHUNK):
                    decoding.append(loop.run_in_executor(decoder, service_store.decode_services, rows))
                areas = await area_store.all_areas(conn)
                sites = await site_store.all_sites(conn)
                postcodes = await all_centroids(conn)
        finally:
            await conn.close()
            decoded = await asyncio.gather(*decoding)
    services = [s for part, _ in decoded for s in part]
    damaged = [d for _, part in decoded for d in part]
    return DirectorySnapshot(version, services, damaged, areas, sites, postcodes)
