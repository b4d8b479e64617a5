"""Listings worked out once per directory version (a Listing is service/openreferral/listing.py).

The directory moves on a few services at a time (service/index/keeper.py), so the next listing is worked out from the
last by the rows that changed: they leave the order and the look-ups and come back in their new places, and each
remembered mask tests just those rows again (a few milliseconds at 50,000 services). A first listing, a new index (a
whole rebuild), or a change of more than LARGEST_STEP rows is worked out whole (about 0.4 s at 50,000 services, 0.15 s
with the last listing's service_at_location ids to hand). Either way in a worker thread, from a copy of the rows taken
on the event loop, where changes are applied: one version throughout. A read waits for the listing of the version it
found (never an older one); reads arriving meanwhile wait for the same work.
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import itertools
import math
import operator
import threading
import uuid
from collections.abc import Callable
from dataclasses import replace

import numpy as np

from service.domain.model import Service
from service.index.engine import DirectoryIndex
from service.openreferral.listing import Ids, Listing, Masks
from service.openreferral.mapping import Publishing, service_at_location_id

LARGEST_STEP = 64
"""More rows changed than this at once (an import) and the next listing is worked out whole."""


def _location_id(s: Service) -> uuid.UUID:
    return uuid.UUID(service_at_location_id(s))


def _key(s: Service) -> tuple[str, str]:
    """Publication order: by name, then by id."""
    return (s.name, str(s.id))


def _located(s: Service | None) -> bool:
    return s is not None and (s.location is not None or s.contacts.address is not None)


def _point(s: Service | None, axis: int) -> float:
    if s is None or s.location is None:
        return math.nan
    return s.location.lat if axis else s.location.lon


def whole(
    index: DirectoryIndex,
    version: int,
    rows: tuple[Service | None, ...],
    publishing: Publishing,
    seq: int,
    known: Listing | None = None,
) -> Listing:
    """The listing worked out from nothing (the service_at_location ids of a `known` listing are reused)."""
    entries = sorted((_key(s), i) for i, s in enumerate(rows) if s is not None)
    locations: dict[uuid.UUID, uuid.UUID] = {}
    if known is not None:
        locations = {s.id: k for k, r in known.by_location.pairs() if (s := known.rows[r]) is not None}
    present = [(s, i) for i, s in enumerate(rows) if s is not None]
    return Listing(
        index=index,
        version=version,
        rows=rows,
        order=np.fromiter((i for _, i in entries), np.int32, len(entries)),
        by_id=Ids.of((s.id, i) for s, i in present),
        by_location=Ids.of((locations.get(s.id) or _location_id(s), i) for s, i in present),
        located=np.fromiter(map(_located, rows), np.bool_, len(rows)),
        lon=np.fromiter((_point(s, 0) for s in rows), np.float64, len(rows)),
        lat=np.fromiter((_point(s, 1) for s in rows), np.float64, len(rows)),
        publishing=publishing,
        seq=seq,
    )


def step(
    base: Listing | None,
    index: DirectoryIndex,
    version: int,
    rows: tuple[Service | None, ...],
    publishing: Publishing,
    seq: int,
) -> tuple[Listing, list[uuid.UUID] | None]:
    """The listing of these rows, from `base` by the rows that changed; and the ids of the services that left (None
    when worked out whole)."""
    if base is None or base.index is not index or len(rows) < len(base.rows):
        return whole(index, version, rows, publishing, seq, base), None
    old = base.rows
    changed = [*itertools.compress(range(len(old)), map(operator.is_not, old, rows)), *range(len(old), len(rows))]
    if not changed:
        return replace(base, version=version, publishing=publishing, seq=seq), []
    if len(changed) > LARGEST_STEP:
        return whole(index, version, rows, publishing, seq, base), None
    leaving: list[tuple[Service, int]] = []
    drop: list[int] = []
    for i in changed:
        s = old[i] if i < len(old) else None
        if s is None:
            continue
        at = bisect.bisect_left(base.order, _key(s), key=lambda r: _key(old[r]))  # type: ignore[arg-type]
        if at == len(base.order) or base.order[at] != i:  # never, while the order is kept right: start again
            return whole(index, version, rows, publishing, seq, base), None
        drop.append(at)
        leaving.append((s, i))
    order = np.delete(base.order, drop)
    located, lon, lat = (
        np.resize(base.located, len(rows)),
        np.resize(base.lon, len(rows)),
        np.resize(base.lat, len(rows)),
    )
    coming: list[tuple[Service, int]] = []
    for i in changed:
        s = rows[i]
        located[i], lon[i], lat[i] = _located(s), _point(s, 0), _point(s, 1)
        if s is None:
            continue
        at = bisect.bisect_left(order, _key(s), key=lambda r: _key(rows[r]))  # type: ignore[arg-type]
        order = np.insert(order, at, i)
        coming.append((s, i))
    by_id = base.by_id.changed([(s.id, i) for s, i in leaving], [(s.id, i) for s, i in coming])
    by_location = base.by_location.changed(
        [(_location_id(s), i) for s, i in leaving], [(_location_id(s), i) for s, i in coming]
    )
    masks = Masks()
    for held, (test, mask) in base.masks.entries():
        again = np.resize(mask, len(rows))
        for i in changed:
            s = rows[i]
            again[i] = s is not None and test(s)
        masks.put(held, test, again)
    listing = Listing(
        index=index,
        version=version,
        rows=rows,
        order=order,
        by_id=by_id,
        by_location=by_location,
        located=located,
        lon=lon,
        lat=lat,
        publishing=publishing,
        seq=seq,
        masks=masks,
    )
    return listing, [s.id for s, _ in leaving if by_id.row(s.id) is None]


class Listings:
    """The latest listing, and the one being worked out. `publishing` gives what an index's records need on a day;
    `left` is told, in the worker thread, of each new listing and the ids of the services that left (None: worked
    out whole)."""

    def __init__(
        self,
        publishing: Callable[[DirectoryIndex, dt.date], Publishing],
        left: Callable[[Listing, list[uuid.UUID] | None], None],
    ) -> None:
        self._publishing, self._left = publishing, left
        self._latest: Listing | None = None
        self._making: tuple[DirectoryIndex, int, dt.date, asyncio.Future[Listing]] | None = None
        self._seq = itertools.count(1)
        self._keeping = threading.Lock()

    def ready(self, index: DirectoryIndex, today: dt.date) -> Listing | None:
        """The listing of the index as it is now, if it has been worked out."""
        latest = self._latest
        if latest is None or latest.index is not index or latest.version != index.version:
            return None
        return latest if latest.publishing.today == today else None

    async def current(self, index: DirectoryIndex, today: dt.date) -> Listing:
        """The listing of the index as it is now: the one worked out, or (after a change) worked out now in a thread
        and waited for."""
        found = self.ready(index, today)
        if found is not None:
            return found
        making = self._making
        if (
            making is None
            or making[0] is not index
            or making[1] != index.version
            or making[2] != today
            or (making[3].done() and (making[3].cancelled() or making[3].exception() is not None))
        ):
            version, rows = index.version, tuple(index.services)  # on the loop: one version
            work = asyncio.to_thread(self.work_out, index, version, rows, today, self._latest, next(self._seq))
            making = self._making = (index, version, today, asyncio.ensure_future(work))
        return await asyncio.shield(making[3])

    def now(self, index: DirectoryIndex, today: dt.date) -> Listing:
        """The listing of the index as it is now, worked out in the calling thread (the start-up warm-up's). The
        version is read before the rows: were a change applied between, the rows are newer than their label, and
        the next read works the listing out again."""
        found = self.ready(index, today)
        if found is not None:
            return found
        version = index.version
        rows = tuple(index.services)
        return self.work_out(index, version, rows, today, self._latest, next(self._seq))

    def work_out(
        self,
        index: DirectoryIndex,
        version: int,
        rows: tuple[Service | None, ...],
        today: dt.date,
        base: Listing | None,
        seq: int,
    ) -> Listing:
        listing, leaving = step(base, index, version, rows, self._publishing(index, today), seq)
        self._left(listing, leaving)
        with self._keeping:
            latest = self._latest
            if latest is None or listing.seq > latest.seq:
                self._latest = listing
        return listing
