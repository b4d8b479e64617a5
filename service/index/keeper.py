"""Keeps the search index current: built at start-up, then changed a few services at a time as writes commit.

Every write appends to `changes`, whose trigger NOTIFYs the change feed; each replica listens on a connection of its
own. A notice about services queues their ids; within a debounce of 10 ms the keeper fetches just those services,
decodes them and works out their rows off the event loop, then writes the rows in place (a few milliseconds at
most, on the loop, between searches). A change to an area or a site, a batch too large to be worth doing row by
row, a listener that had to reconnect (notices may have been missed), a directory version the notices do not
explain, and the daily roll of the opening-times timeline all rebuild the whole index instead: in a thread, from
one snapshot, swapped in at once; notices that arrive meanwhile are applied to the new index afterwards.

With a local snapshot (service/store/local_snapshot.py), a whole rebuild (the one at start-up included) reads the
replica's own copy of the directory, checked against the database row by row and brought up to it, rather than
every document in the database; when the copy was behind, or could not be used, the rebuild writes it again
afterwards, in a thread, once the new index is serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Protocol

from service.domain.model import Taxonomies
from service.index.engine import DirectoryIndex, IndexConfig, Prepared
from service.index.trim import give_back_memory
from service.store import services as service_store
from service.store.changes import Listener, Notice, directory_version, listen
from service.store.db import Database
from service.store.local_snapshot import LocalSnapshot
from service.store.snapshot import DirectorySnapshot, read_directory

log = logging.getLogger("service.index")
DEBOUNCE_SECONDS = 0.01
CHECK_EVERY_SECONDS = 5.0
SWITCH_SECONDS = 0.0002
LARGEST_INCREMENT = 2000
"""More services than this in one go (a big import) are read by a whole rebuild, off the event loop."""


@contextlib.contextmanager
def _gentle() -> Iterator[None]:
    """While a worker thread builds an index: the cyclic garbage collector waits (a full collection holds the
    interpreter for as long as it takes to scan every object), and the interpreter hands over between threads every
    0.2 ms rather than every 5 ms, because a search on the loop that lets go of the interpreter (numpy does,
    on large arrays) would otherwise wait up to 5 ms to get it back, each time.

    Afterwards what was built is frozen out of the collector's reach (gc.freeze). Otherwise the first collection
    after the build would scan every object it made, holding the interpreter (and so the searches) for hundreds of
    milliseconds. An index holds no reference cycle (a test holds it to that), so reference counting alone frees
    the one it replaces. What the freeze costs: cyclic garbage made elsewhere during the build is never collected
    (a rebuild is rare: start-up, a gap in the change feed, the daily timeline). Then the pages the snapshot
    freed go back to the system (service/index/trim.py)."""
    was = gc.isenabled()
    interval = sys.getswitchinterval()
    gc.disable()
    sys.setswitchinterval(SWITCH_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(interval)
        gc.freeze()
        give_back_memory()
        if was:
            gc.enable()


class KeeperEvents(Protocol):
    """What the keeper reports as it works (service/server/telemetry.py turns these into metrics)."""

    def rebuilt(self, seconds: float) -> None: ...

    def caught_up(self, lag_seconds: float) -> None: ...


class _Unwatched:
    def rebuilt(self, seconds: float) -> None:
        pass

    def caught_up(self, lag_seconds: float) -> None:
        pass


class IndexKeeper:
    def __init__(
        self,
        db: Database,
        vocab: Taxonomies,
        config: IndexConfig,
        events: KeeperEvents | None = None,
        local: LocalSnapshot | None = None,
    ) -> None:
        self.db, self.vocab, self.config, self.local = db, vocab, config, local
        self.events: KeeperEvents = events or _Unwatched()
        self.built_at = 0.0
        """Wall-clock time of the last whole rebuild."""
        self.current_at = 0.0
        """Wall-clock time the index was last known to match the database (a rebuild, a change applied, a check)."""
        self._oldest_notice = 0.0
        """When the oldest change not yet served was logged in the database (0: none waiting)."""
        self.index: DirectoryIndex | None = None
        self._failing: str | None = None
        """The failure being suffered, logged once with its traceback; cleared (and said) on the next success."""
        self._changed = asyncio.Event()
        self._listener: Listener | None = None
        self._task: asyncio.Task[None] | None = None
        self._damaged: set[str] = set()
        self._pending: set[uuid.UUID] = set()
        self._pending_version = 0
        self._whole = False
        """Something only a whole rebuild can take in (an area or site changed, or notices may have been lost)."""
        self.rebuilds = 0
        self.increments = 0
        self.timings: dict[str, float] = {}
        """Where the last whole rebuild's time went, in seconds (its source, read, build), for the log and benches."""
        self.source = ""
        """Where the last whole rebuild read the directory: "database", or "local" (the local snapshot)."""
        self._saving: asyncio.Task[None] | None = None

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
        if self._saving is not None:  # a file half written is never seen (it is renamed into place), but finish it
            with contextlib.suppress(Exception):
                await asyncio.wait_for(asyncio.shield(self._saving), timeout=10)

    async def rebuild(self) -> None:
        """The whole index from one snapshot, read, decoded and built in a thread, then swapped in."""
        self._whole = False
        started, waiting = time.perf_counter(), self._oldest_notice
        index, to_save = await asyncio.to_thread(self._build)
        self.index = index
        self.rebuilds += 1
        self.events.rebuilt(time.perf_counter() - started)
        self.built_at = self.current_at = time.time()
        if waiting and waiting == self._oldest_notice:  # nothing arrived meanwhile: everything waiting is served
            self._served(waiting)
        if to_save is not None:
            self._saving = asyncio.create_task(self._save(self._saving, to_save), name="index-snapshot")

    async def _save(self, previous: asyncio.Task[None] | None, snapshot: DirectorySnapshot) -> None:
        """The local snapshot written in a thread (after any still being written), once the index is serving."""
        if previous is not None:
            await asyncio.wait({previous})
        assert self.local is not None
        try:
            await asyncio.to_thread(self.local.save, snapshot)
        except Exception as e:  # a replica whose disk is full or read-only still serves; it starts more slowly
            log.warning("could not write the local snapshot %s: %s", self.local.path, e, exc_info=e)

    def _build(self) -> tuple[DirectoryIndex, DirectorySnapshot | None]:
        """Runs in a worker thread: the snapshot is read on an event loop of the thread's own. With it, the
        snapshot to write to the local file afterwards (None: nothing to write)."""
        with _gentle():
            return self._build_now()

    def _build_now(self) -> tuple[DirectoryIndex, DirectorySnapshot | None]:
        started = time.perf_counter()
        loaded = self.local.load(self.db.dsn, self.db.timeouts) if self.local is not None else None
        if loaded is not None:
            snapshot, to_save, self.source = loaded.snapshot, loaded.snapshot if loaded.changed else None, "local"
            timings = {f"local {k}": v for k, v in loaded.seconds.items()}
            timings["services read again"] = loaded.reread
        else:
            snapshot = read_directory(self.db.dsn, self.db.timeouts, marked=self.local is not None)
            to_save, self.source, timings = snapshot if self.local is not None else None, "database", {}
        timings["read"] = time.perf_counter() - started
        self._note_damaged(snapshot.damaged)
        built = time.perf_counter()
        index = DirectoryIndex.build(
            services=snapshot.services,
            areas=snapshot.areas,
            sites=snapshot.sites,
            postcodes=snapshot.postcodes,
            vocab=self.vocab,
            version=snapshot.version,
            config=self.config,
            now=dt.datetime.now(dt.UTC),
        )
        timings["build"] = time.perf_counter() - built
        self.timings = timings
        source = "database"
        if loaded is not None:
            source = f"local snapshot ({loaded.reread} service(s) read again from the database)"
        log.info(
            "index of %d services (version %d) from the %s in %.2f s (read %.2f s, build %.2f s)",
            len(index),
            index.version,
            source,
            timings["read"] + timings["build"],
            timings["read"],
            timings["build"],
        )
        return index, to_save

    def _note_damaged(self, damaged: list[str]) -> None:
        new = sorted(set(damaged) - self._damaged)
        if new:
            log.error("stored service(s) that cannot be read are left out of search: %s", ", ".join(new))
        self._damaged.update(new)

    async def catch_up(self) -> None:
        """Apply the services named since the last call: fetched on the loop (a few rows), decoded and prepared in a
        thread, written in place on the loop."""
        index = self.index
        assert index is not None
        ids, version = self._pending, self._pending_version
        self._pending, self._pending_version = set(), 0
        if len(ids) > LARGEST_INCREMENT:
            await self.rebuild()  # which reports the lag of what was waiting
            return
        waiting, self._oldest_notice = self._oldest_notice, 0.0
        async with self.db.connection() as conn:
            rows = await service_store.services_as_text(conn, sorted(ids))
        prepared = await asyncio.to_thread(self._prepare, index, rows, ids, version)
        if self.index is index:  # a rebuild swapped in meanwhile: it has read these services itself
            index.apply(prepared)
            self.increments += 1
        self.current_at = time.time()
        if waiting:
            self.events.caught_up(self.current_at - waiting)

    def _served(self, waiting: float) -> None:
        self._oldest_notice = 0.0
        self.events.caught_up(time.time() - waiting)

    def _prepare(
        self, index: DirectoryIndex, rows: list[service_store.StoredText], ids: set[uuid.UUID], version: int
    ) -> Prepared:
        services, damaged = service_store.decode_services(rows)
        self._note_damaged(damaged)
        found = {s.id for s in services}
        return index.prepare(services, gone=sorted(ids - found), version=version)

    async def _listen(self) -> None:
        if self._listener is not None and not self._listener.is_closed():
            return
        reconnected = self._listener is not None
        self._listener = await listen(self.db, self._notified)
        if reconnected:
            self._whole = True  # notices sent while the listener was away are lost

    def _notified(self, notice: Notice) -> None:
        if notice.at and (not self._oldest_notice or notice.at < self._oldest_notice):
            self._oldest_notice = notice.at
        if notice.entity == "service":
            try:
                self._pending.add(uuid.UUID(notice.key))
            except ValueError:
                self._whole = True
            self._pending_version = max(self._pending_version, notice.id)
        else:
            self._whole = True
        self._changed.set()

    async def _stale(self) -> bool:
        assert self.index is not None
        if self.index.timeline.rolls(dt.datetime.now(dt.UTC).timestamp()):
            return True
        async with self.db.connection() as conn:
            return await directory_version(conn) > self.index.version

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
                else:
                    await self._listen()
                    if await self._stale():
                        self._whole = True
                    else:
                        self.current_at = time.time()
                if self._whole:
                    await self.rebuild()
                if self._pending:
                    await self.catch_up()
                if self._failing is not None:
                    log.warning("index refresh works again; serving version %s", self._serving())
                    self._failing = None
            except asyncio.CancelledError:
                raise
            except Exception as e:  # keep serving the last good index; try again on the next tick
                self._failed(e)
                self._whole = True
                await asyncio.sleep(1.0)

    def _serving(self) -> int | None:
        return self.index.version if self.index else None

    def _failed(self, exc: Exception) -> None:
        """One traceback per distinct failure (a database outage is one failure, however long it lasts)."""
        kind = type(exc).__name__
        if kind != self._failing:
            self._failing = kind
            log.error("index refresh failed; serving version %s until it works", self._serving(), exc_info=exc)
