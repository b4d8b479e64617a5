"""The whole directory read in one consistent snapshot, for building a search index off the event loop.

`read_directory` blocks: it runs its own event loop on a connection of its own, in the calling thread, so that
fetching and decoding 50,000 services never holds up the server's event loop (call it with asyncio.to_thread).

The services come in chunks, each decoded while PostgreSQL (on another core) produces the next: at start-up,
fetching and decoding overlap instead of following one another. The decoding stays in this thread: handed to a
second one, it competed for the interpreter with the thread reading the rows, and the whole took longer (0.89 s
against 0.82 s at 50,000 services).

Read `marked`, a snapshot also carries what a local copy of it is later checked against (each service row's
version, and a digest of each table's rows: service/store/local_snapshot.py).
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass

import msgspec

from service.domain.model import Area, Service, Site
from service.store import areas as area_store
from service.store import services as service_store
from service.store import sites as site_store
from service.store.changes import directory_version
from service.store.db import Connection, Timeouts, connect
from service.store.postcodes import all_centroids
from service.store.sql import sql


class Digests(msgspec.Struct, frozen=True, kw_only=True):
    """Which database, its directory version and, for each table the index is built from, a digest of its rows' keys
    and row versions, as PostgreSQL computes them (sql/directory_digests.sql)."""

    database: str
    version: int
    services: str
    areas: str
    sites: str
    postcodes: str


async def digests(conn: Connection) -> Digests:
    row = await conn.fetchrow(sql("directory_digests"))
    assert row is not None
    return Digests(**dict(row.items()))


@dataclass(frozen=True)
class DirectorySnapshot:
    version: int
    services: list[Service]
    damaged: list[str]
    """Ids of stored services whose documents cannot be read (left out of search)."""
    areas: list[Area]
    sites: list[Site]
    postcodes: dict[str, tuple[float, float]]
    marks: dict[uuid.UUID, int] | None = None
    """Read marked: every stored service's row version (readable or not), by id."""
    digests: Digests | None = None
    """Read marked: the tables' digests, in the same transaction."""


def read_directory(dsn: str, timeouts: Timeouts, marked: bool = False) -> DirectorySnapshot:
    """Blocking; never call it on an event loop's thread. The snapshot comes back through a list, not as the
    coroutine's result: on the main thread, Python 3.11's asyncio.run formats its task (result and all) when it puts
    back the SIGINT handler, which for 50,000 services takes a second."""
    read: list[DirectorySnapshot] = []

    async def into_list() -> None:
        read.append(await _read(dsn, timeouts, marked))

    asyncio.run(into_list())
    return read[0]


CHUNK = 2500


async def _read(dsn: str, timeouts: Timeouts, marked: bool) -> DirectorySnapshot:
    conn = await connect(dsn, timeouts)
    services: list[Service] = []
    damaged: list[str] = []
    marks: dict[uuid.UUID, int] | None = {} if marked else None
    try:
        async with conn.transaction(isolation="repeatable_read", readonly=True):
            checked = await digests(conn) if marked else None
            version = checked.version if checked is not None else await directory_version(conn)
            async for rows in service_store.services_in_chunks(conn, CHUNK, marked):
                decoded, unreadable = service_store.decode_services(rows)
                services += decoded
                damaged += unreadable
                if marks is not None:
                    marks.update((row.id, row.xmin) for row in rows)
            areas = await area_store.all_areas(conn)
            sites = await site_store.all_sites(conn)
            postcodes = await all_centroids(conn)
    finally:
        await conn.close()
    return DirectorySnapshot(version, services, damaged, areas, sites, postcodes, marks, checked)
