"""Keeps the search index current: built at start-up, rebuilt from the store when the change feed says so.

Every write appends to `changes`, whose trigger NOTIFYs `directory_changes`; each replica LISTENs on its own
connection and rebuilds within a debounce of 50 ms, so a committed write is searchable everywhere within a second
at directory scale. A missed notification (a dropped connection) is caught by comparing directory versions every
few seconds, and the opening-times timeline is rolled forward daily.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from typing import Any

from service.domain.model import Taxonomies
from service.index.engine import DirectoryIndex, IndexConfig
from service.store import areas as area_store
from service.store import services as service_store
from service.store import sites as site_store
from service.store.changes import directory_version
from service.store.db import Connection, Database
from service.store.postcodes import all_centroids

log = logging.getLogger("service.index")
DEBOUNCE_SECONDS = 0.05
CHECK_EVERY_SECONDS = 5.0


async def load_index(
    conn: Connection, vocab: Taxonomies, config: IndexConfig, damaged: set[str] | None = None
) -> DirectoryIndex:
    """A new index from one consistent snapshot. Services whose stored documents cannot be read are left out and
    added to `damaged`, logged once each."""
    async with conn.transaction(isolation="repeatable_read", readonly=True):
        version = await directory_version(conn)
        services, unreadable = await service_store.readable_services(conn)
        areas = await area_store.all_areas(conn)
        sites = await site_store.all_sites(conn)
        postcodes = await all_centroids(conn)
    new = sorted(set(unreadable) - (damaged or set()))
    if new:
        log.error("stored service(s) that cannot be read are left out of search: %s", ", ".join(new))
    if damaged is not None:
        damaged.update(new)
    return await asyncio.to_thread(
        DirectoryIndex,
        services=services,
        areas=areas,
        sites=sites,
        postcodes=postcodes,
        vocab=vocab,
        version=version,
        config=config,
        now=dt.datetime.now(dt.UTC),
    )


class IndexKeeper:
    def __init__(self, db: Database, vocab: Taxonomies, config: IndexConfig) -> None:
        self.db, self.vocab, self.config = db, vocab, config
        self.index: DirectoryIndex | None = None
        self._failing: str | None = None
        """The failure being suffered, logged once with its traceback; cleared (and said) on the next success."""
        self._changed = asyncio.Event()
        self._listener: Any = None
        self._task: asyncio.Task[None] | None = None
        self._damaged: set[str] = set()

    async def start(self) -> None:
        await self._listen()
        await self.rebuild()
        self._task = asyncio.create_task(self._run(), name="index-keeper")

    async def stop(self) -> None:
        if self._task is not None:
            while not self._task.done():  # a cancellation can be lost in a race; ask until the task has ended
                self._task.cancel()
                await asyncio.wait({self._task}, timeout=1.0)
        if self._listener is not None:
            await self._listener.close()

    async def rebuild(self) -> None:
        async with self.db.connection() as conn:
            self.index = await load_index(conn, self.vocab, self.config, self._damaged)

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        self._listener = await self.db.connect()
        await self._listener.add_listener("directory_changes", self._notified)

    def _notified(self, *_: object) -> None:
        self._changed.set()

    async def _stale(self) -> bool:
        assert self.index is not None
        if not self.index.timeline_covers(dt.datetime.now(dt.UTC).timestamp() + 86400):
            return True
        async with self.db.connection() as conn:
            return await directory_version(conn) != self.index.version

    async def _run(self) -> None:
        while True:
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 a cancellation that lands as wait_for times out
                # comes out as TimeoutError, and suppressing it would keep this loop alive after stop().
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(CHECK_EVERY_SECONDS):
                        await self._changed.wait()
                if self._changed.is_set():
                    await asyncio.sleep(DEBOUNCE_SECONDS)
                    self._changed.clear()
                    await self.rebuild()
                else:
                    await self._listen()
                    if await self._stale():
                        await self.rebuild()
                if self._failing is not None:
                    log.warning("index refresh works again; serving version %s", self._serving())
                    self._failing = None
            except asyncio.CancelledError:
                raise
            except Exception as e:  # keep serving the last good index; try again on the next tick
                self._failed(e)
                await asyncio.sleep(1.0)

    def _serving(self) -> int | None:
        return self.index.version if self.index else None

    def _failed(self, exc: Exception) -> None:
        """One traceback per distinct failure (a database outage is one failure, however long it lasts)."""
        kind = type(exc).__name__
        if kind != self._failing:
            self._failing = kind
            log.error("index refresh failed; serving version %s until it works", self._serving(), exc_info=exc)
