"""One directory version's services as the open reads (Open Referral UK, FHIR) list them, worked out once per version.

A `Listing` holds the index's rows as they were at one directory version, their publication order (name, then id) as
an array of rows, the look-ups by id, and each filter's result as a mask over the rows, remembered for the listing
(at most MASKS of them, the least recently used making room). A page is then a slice of the order, or of the order
through the filters' masks: no service is tested by a read whose filters have been asked for before.

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
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from service.domain.geometry import haversine_km, haversine_km_many
from service.domain.model import Service
from service.domain.oruk_export import Publishing, service_at_location_id
from service.index.engine import DirectoryIndex

Rows = npt.NDArray[np.int32]
Mask = npt.NDArray[np.bool_]
Test = Callable[[Service], bool]
MASKS = 64
"""Filters' results remembered per listing (each a byte per row: 50 KB at 50,000 services)."""
LARGEST_STEP = 64
"""More rows changed than this at once (an import) and the next listing is worked out whole."""
BORDER_KM = 1e-6
"""Distances this near a proximity's edge are measured again one by one, as the reference does."""


@dataclass(frozen=True)
class Filter:
    """One filter of a read: its key (what it is and its value, by which its result is remembered), and its test.
    A test may be carried to later listings, so it holds nothing of a listing."""

    key: Hashable
    test: Test


class Masks:
    """The filters' results over one listing's rows (at most MASKS; the least recently used makes room). Used on the
    event loop; the worker thread working out the next listing only copies the entries."""

    def __init__(self, held: dict[Hashable, tuple[Test, Mask]] | None = None) -> None:
        self._held: dict[Hashable, tuple[Test, Mask]] = held or {}

    def get(self, key: Hashable) -> Mask | None:
        found = self._held.pop(key, None)
        if found is None:
            return None
        self._held[key] = found
        return found[1]

    def put(self, key: Hashable, test: Test, mask: Mask) -> None:
        self._held.pop(key, None)
        while len(self._held) >= MASKS:
            del self._held[next(iter(self._held))]
        self._held[key] = (test, mask)

    def entries(self) -> list[tuple[Hashable, tuple[Test, Mask]]]:
        return list(self._held.items())

    def __len__(self) -> int:
        return len(self._held)


@dataclass(frozen=True)
class Ids:
    """Rows by UUID: the UUIDs' 16 bytes sorted, with each one's row (a few bytes a service, where a dict of
    strings takes hundreds; and the next listing's is a few array edits, not a copy of 50,000 entries)."""

    keys: npt.NDArray[np.bytes_]
    rows: Rows

    @staticmethod
    def of(pairs: Iterable[tuple[uuid.UUID, int]]) -> Ids:
        found = list(pairs)
        keys = np.array([k.bytes for k, _ in found], dtype="S16")
        rows = np.fromiter((r for _, r in found), np.int32, len(found))
        by = np.argsort(keys, kind="stable")
        return Ids(keys[by], rows[by])

    def row(self, key: uuid.UUID) -> int | None:
        at = self._at(key)
        return None if at is None else int(self.rows[at])

    def _at(self, key: uuid.UUID) -> int | None:
        wanted = key.bytes
        at = int(np.searchsorted(self.keys, wanted))
        return at if at < len(self.keys) and self.key(at) == key else None

    def key(self, at: int) -> uuid.UUID:
        """The UUID at this place (numpy gives fixed-width bytes back without their trailing zero bytes)."""
        return uuid.UUID(bytes=bytes(self.keys[at]).ljust(16, b"\0"))

    def pairs(self) -> Iterator[tuple[uuid.UUID, int]]:
        return ((self.key(at), int(row)) for at, row in enumerate(self.rows.tolist()))

    def same(self, other: Ids) -> bool:
        return np.array_equal(self.keys, other.keys) and np.array_equal(self.rows, other.rows)

    def changed(self, leaving: Sequence[tuple[uuid.UUID, int]], coming: Sequence[tuple[uuid.UUID, int]]) -> Ids:
        """These with the (key, row) pairs leaving taken out (where the key is still at that row), then those
        coming put in."""
        drop = [at for key, row in leaving if (at := self._at(key)) is not None and self.rows[at] == row]
        keys, rows = np.delete(self.keys, drop), np.delete(self.rows, drop)
        for key, row in coming:
            at = int(np.searchsorted(keys, key.bytes))
            keys, rows = np.insert(keys, at, key.bytes), np.insert(rows, at, row)
        return Ids(keys, rows)

    def __len__(self) -> int:
        return len(self.keys)


def text_id(text: str) -> uuid.UUID | None:
    """A UUID written as `str(uuid)` writes it (lower case, hyphenated); None for anything else."""
    try:
        found = uuid.UUID(text)
    except ValueError:
        return None
    return found if str(found) == text else None


@dataclass(frozen=True, eq=False)
class Listing:
    """One directory version's services in publication order (name, then id), with what reads look up."""

    index: DirectoryIndex
    version: int
    rows: tuple[Service | None, ...]
    """The index's rows at `version` (a service's row is its place in every array here)."""
    order: Rows
    """The rows of the services in publication order."""
    by_id: Ids
    """Each service's row by its id."""
    by_location: Ids
    """Each service's row by its service_at_location id (which is also its FHIR Location id)."""
    located: Mask
    """Rows of services with a point or an address (those with a service_at_location)."""
    lon: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    """Each row's point (NaN where it has none)."""
    publishing: Publishing
    seq: int
    """Order of the copies of the rows: the higher, the later."""
    masks: Masks = field(default_factory=Masks)
    pending: dict[Hashable, asyncio.Future[Mask]] = field(default_factory=dict)
    derived: dict[str, Any] = field(default_factory=dict)
    deriving: dict[str, asyncio.Future[Any]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.order)

    def service(self, service_id: str) -> Service | None:
        """The service of this id (as `str(uuid)` writes it)."""
        key = text_id(service_id)
        row = None if key is None else self.by_id.row(key)
        return None if row is None else self.rows[row]

    def location_of(self, location_id: str) -> int | None:
        """The row of the service of this service_at_location id, whether it has a location or not."""
        key = text_id(location_id)
        return None if key is None else self.by_location.row(key)

    def at_location(self, location_id: str) -> Service | None:
        """The service of a service_at_location id (None when it has no location)."""
        row = self.location_of(location_id)
        return None if row is None or not self.located[row] else self.rows[row]

    def services(self, rows: Rows) -> list[Service]:
        """The services of these rows (rows of the order, so each holds one)."""
        return [s for r in rows.tolist() if (s := self.rows[r]) is not None]

    def in_order(self) -> Iterator[Service]:
        return iter(self.services(self.order))

    def chosen(self, masks: Sequence[Mask]) -> Rows:
        """The rows passing every mask, in publication order."""
        if not masks:
            return self.order
        every = masks[0] if len(masks) == 1 else np.logical_and.reduce(masks)
        chosen: Rows = self.order[every[self.order]]
        return chosen

    async def select(self, filters: Sequence[Filter], masks: Sequence[Mask] = ()) -> Rows:
        """The rows passing every filter (each worked out once for this listing) and every mask, in order."""
        return self.chosen([*masks, *[await self.mask(f) for f in filters]])

    async def mask(self, f: Filter) -> Mask:
        """The filter's result: remembered, or worked out in a thread (once, however many reads ask meanwhile)."""
        found = self.masks.get(f.key)
        if found is not None:
            return found
        waiting = self.pending.get(f.key)
        if waiting is None:
            waiting = self.pending[f.key] = asyncio.ensure_future(self._scanned(f))
        return await asyncio.shield(waiting)

    async def _scanned(self, f: Filter) -> Mask:
        try:
            mask = await asyncio.to_thread(self.scan, f.test)
            self.masks.put(f.key, f.test, mask)
            return mask
        finally:
            self.pending.pop(f.key, None)

    def scan(self, test: Test) -> Mask:
        """The test over every row (a worker thread's work: tens of milliseconds at 50,000 services)."""
        return np.fromiter((s is not None and test(s) for s in self.rows), np.bool_, len(self.rows))

    async def derive(self, name: str, make: Callable[[Listing], Any]) -> Any:
        """`make(listing)`, worked out once for this listing in a thread (FHIR's Locations, say)."""
        if name in self.derived:
            return self.derived[name]
        waiting = self.deriving.get(name)
        if waiting is None:
            waiting = self.deriving[name] = asyncio.ensure_future(self._derived(name, make))
        return await asyncio.shield(waiting)

    async def _derived(self, name: str, make: Callable[[Listing], Any]) -> Any:
        try:
            found = self.derived[name] = await asyncio.to_thread(make, self)
            return found
        finally:
            self.deriving.pop(name, None)

    def ids(self, ids: Collection[str]) -> Mask:
        """Rows of the services with these ids."""
        keys = (text_id(i) for i in ids)
        return self.only(row for key in keys if key is not None and (row := self.by_id.row(key)) is not None)

    def only(self, rows: Iterable[int]) -> Mask:
        """A mask of these rows."""
        mask = np.zeros(len(self.rows), np.bool_)
        mask[list(rows)] = True
        return mask

    def within(self, lon: float, lat: float, km: float) -> Mask:
        """Rows of services whose point is within `km` of (lon, lat), by haversine_km as the reference measures it:
        vectorised, with the few at the edge measured again one by one."""
        with np.errstate(invalid="ignore"):
            d = haversine_km_many(self.lon, self.lat, lon, lat)
            inside: Mask = d <= km - BORDER_KM
            border = np.flatnonzero(np.abs(d - km) <= BORDER_KM)
        for r in border.tolist():
            s = self.rows[r]
            if s is not None and s.location is not None:
                inside[r] = haversine_km(lon, lat, s.location.lon, s.location.lat) <= km
        return inside

    def covering(self, rows: npt.NDArray[np.intp]) -> Mask:
        """Rows of this listing holding the services at these rows of its index (the index may have moved on
        since: then each is found by its id)."""
        mask = np.zeros(len(self.rows), np.bool_)
        index = self.index
        if index.version == self.version and len(index.services) == len(self.rows):
            mask[rows] = True
            return mask
        for r in rows.tolist():
            live = index.services[r] if r < len(index.services) else None
            if live is None:
                continue
            if r < len(self.rows) and self.rows[r] is live:
                mask[r] = True
            elif (found := self.by_id.row(live.id)) is not None:
                mask[found] = True
        return mask


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
