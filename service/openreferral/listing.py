"""One directory version's services as the open reads (Open Referral UK, FHIR) list them.

A `Listing` holds the index's rows as they were at one directory version, their publication order (name, then id) as
an array of rows, the look-ups by id, and each filter's result as a mask over the rows, remembered for the listing
(at most MASKS of them, the least recently used making room). A page is then a slice of the order, or of the order
through the filters' masks: no service is tested by a read whose filters have been asked for before. How a listing is
worked out, whole or from the last by the rows that changed, is service/openreferral/listings.py.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from service.domain.geometry import haversine_km, haversine_km_many
from service.domain.model import Service
from service.index.engine import DirectoryIndex
from service.openreferral.mapping import Publishing

Rows = npt.NDArray[np.int32]
Mask = npt.NDArray[np.bool_]
Test = Callable[[Service], bool]
MASKS = 64
"""Filters' results remembered per listing (each a byte per row: 50 KB at 50,000 services)."""
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
