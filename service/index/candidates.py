"""Which rows a search starts from: the groups of rows whose catchment holds an origin (national, listing one of its
areas, drawn around its point), those near it but outside, and the look-ups they repeat, each in a cache bounded in
bytes (service/index/bounded.py) and dropped when a change touches what it reads (GROUPED_BY).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, Literal

import numpy as np

from service.domain.model import Point
from service.domain.near import NEAR_MISS_MINUTES, near_miss_km
from service.domain.routing import SPEED_KMH
from service.index.bounded import Bounded, CacheStats, Shares, array_bytes
from service.index.catchments import Catchments, Cell, sorted_once
from service.index.columns import Bools, Columns, Ints
from service.index.masks import Query, Rows
from service.index.places import Resolution

SHARES = {
    "usable": 20,
    "usable_drawn": 6,
    "listed": 4,
    "local": 2,
    "national": 4,
    "drawn": 3,
    "explaining": 12,
    "explaining_drawn": 3,
    "playing": 4,
    "playing_drawn": 2,
    "nearby": 6,
    "cells_at": 1,
    "near": 3,
    "bordering": 10,
    "naming_bordering": 3,
}
"""How the candidates' share of the search's cache budget is split (bounded.Shares). The groups a search starts
from (an area set's usable rows per context, about 150 KB each at 50,000 services with their masks) earn the most:
every search reads one. Explanations' groups (every row of an area set, and the rows naming a bordering area) come
next. The per-point look-ups (rows drawn around a point, the grid cells near it) are small; custody suites and
other sites search from the same points again and again."""


GROUPED_BY: tuple[str, ...] = (
    "live",
    "active",
    "contexts",
    "general",
    "age_min",
    "age_max",
    "genders",
    "needs",
    "fallback_needs",
    "fallback_steps",
    "required",
    "excluded",
    "place_of_safety",
    "police_station",
    "static_full",
    "immediate",
    "lon",
    "lat",
    "radius_km",
    "appropriate_adult",
    "role",
    "public",
)
"""The columns the cached look-ups read (which rows a group holds, what Rows gathers, the fallback pool). With
the catchments and the schedules (the opening masks a group remembers), a change that leaves all of them as they
were (a capacity with an `until`, a phone number, a name) leaves every cached look-up true."""


class Candidates:
    """Which rows a search starts from, with the look-ups it repeats cached until a change makes them stale.

    Every look-up is kept in a cache bounded in bytes (`budget`, split by SHARES), the least recently used making
    room. At 50,000 services a gathered group of rows (Rows) takes about 55 bytes a row, and may remember masks up
    to masks.MEMO_BYTES_PER_ROW more: about 150 KB for an area set's usable rows in one context. A change to
    anything they read (GROUPED_BY, a catchment, a schedule) drops all of it, gathered again on demand; any other
    change (the capacity that live updates send) drops nothing.

    Made with `public`, it is the public's view of the same rows, for public-only searches: every look-up keeps only
    the rows a member of the public can reach themselves (columns.public), so the ranking, the catch-alls, the gaps
    and the explanations built on it never see the others, as if they were not in the directory. Its caches are its
    own (named `public_…` in /metrics)."""

    def __init__(
        self,
        columns: Columns,
        catchments: Catchments,
        near_minutes: int = NEAR_MISS_MINUTES,
        budget: int = 40 << 20,
        public: bool = False,
    ) -> None:
        self.columns, self.catchments, self.public = columns, catchments, public
        self.near_minutes = near_minutes
        self.near_km = {context: near_miss_km(context, near_minutes) for context in SPEED_KMH}
        """How far from the origin, in a straight line, a service outside its catchment is worth listing as a near
        miss, per context (domain/near.py)."""
        b = Shares(budget, SHARES)
        n = "public_" if public else ""
        self._listed: Bounded[frozenset[str], Ints] = Bounded(n + "listed", b["listed"], array_bytes)
        self._local: Bounded[frozenset[str], Ints] = Bounded(n + "local", b["local"], array_bytes)
        self._national: Bounded[tuple[str, Hashable], Rows] = Bounded(n + "national", b["national"], Rows.nbytes)
        self._usable: Bounded[frozenset[str], Rows] = Bounded(n + "usable", b["usable"], Rows.nbytes)
        self._usable_drawn: Bounded[tuple[float, float], Rows] = Bounded(
            n + "usable_drawn", b["usable_drawn"], Rows.nbytes
        )
        self._drawn: Bounded[tuple[float, float], Ints] = Bounded(n + "drawn", b["drawn"], array_bytes)
        self._fallbacks: dict[str, Ints] = {}
        self._explaining: Bounded[frozenset[str], Rows] = Bounded(n + "explaining", b["explaining"], Rows.nbytes)
        self._explaining_drawn: Bounded[tuple[float, float], Rows] = Bounded(
            n + "explaining_drawn", b["explaining_drawn"], Rows.nbytes
        )
        self._playing: Bounded[tuple[frozenset[str], int], Rows] = Bounded(n + "playing", b["playing"], Rows.nbytes)
        self._playing_drawn: Bounded[tuple[float, float, int], Rows] = Bounded(
            n + "playing_drawn", b["playing_drawn"], Rows.nbytes
        )
        self._nearby: Bounded[tuple[tuple[Cell, ...], str, frozenset[str]], Rows] = Bounded(
            n + "nearby", b["nearby"], Rows.nbytes
        )
        self._near: Bounded[tuple[tuple[Cell, ...], frozenset[str]], Ints] = Bounded(n + "near", b["near"], array_bytes)
        self._cells_at: Bounded[tuple[float, float, str], tuple[Cell, ...]] = Bounded(
            n + "cells_at", b["cells_at"], lambda cells: 64 * len(cells)
        )
        self._bordering: Bounded[tuple[frozenset[str], str], Rows] = Bounded(
            n + "bordering", b["bordering"], Rows.nbytes
        )
        self._naming_bordering: Bounded[frozenset[str], Ints] = Bounded(
            n + "naming_bordering", b["naming_bordering"], array_bytes
        )

    def _caches(self) -> tuple[Bounded[Any, Any], ...]:
        return (
            self._listed,
            self._local,
            self._national,
            self._usable,
            self._usable_drawn,
            self._drawn,
            self._explaining,
            self._explaining_drawn,
            self._playing,
            self._playing_drawn,
            self._nearby,
            self._cells_at,
            self._near,
            self._bordering,
            self._naming_bordering,
        )

    def forget(self) -> None:
        """After a change to what they read: every cached look-up may be stale."""
        for cache in self._caches():
            cache.clear()
        self._fallbacks = {}

    def cached(self) -> int:
        """How many look-ups are cached (for tests and diagnostics)."""
        return sum(len(cache.entries) for cache in self._caches())

    def stats(self) -> list[CacheStats]:
        return [cache.stats() for cache in self._caches()]

    def kept(self, rows: Ints) -> Ints:
        """These rows, or in the public's view only those a member of the public can reach (order kept)."""
        return rows[self.columns.values.public[rows]] if self.public and len(rows) else rows

    def live_rows(self) -> int:
        """How many services this view holds (the public's: those the public can reach)."""
        c, n = self.columns.values, self.columns.n
        return int(np.count_nonzero(c.live[:n] & c.public[:n])) if self.public else int(np.count_nonzero(c.live[:n]))

    def fallback_pool(self, column: Literal["fallback_needs", "fallback_steps"]) -> Ints:
        """Live rows the data names as a catch-all for some need (or some step)."""
        if column not in self._fallbacks:
            c = self.columns.values
            n = self.columns.n
            pool = (getattr(c, column)[:n] != 0) & c.live[:n]
            if self.public:
                pool &= c.public[:n]
            self._fallbacks[column] = np.flatnonzero(pool).astype(np.int64)
        return self._fallbacks[column]

    def listed(self, codes: frozenset[str]) -> Ints:
        """Rows whose catchment is national or names one of these areas (sorted)."""
        return self._listed.get(codes, lambda: self.kept(self.catchments.listing(codes)))

    def drawn(self, point: Point) -> Ints:
        """Rows with a drawn catchment (radius or polygon) holding the point (sorted)."""
        return self._drawn.get(
            (point.lon, point.lat), lambda: self.kept(np.sort(self.catchments.drawn_around(point, self.columns.values)))
        )

    def national(self) -> Ints:
        """Rows whose catchment is national (sorted)."""
        return self.kept(self.catchments.national.array(None))

    def located_in(self, cell: Cell) -> Ints:
        """Rows located in this grid cell (sorted)."""
        return self.kept(self.catchments.located_in(cell))

    def located_near(self, point: Point, km: float) -> Ints:
        """Rows whose location lies within `km` of the point (sorted)."""
        return self.kept(self.catchments.located_near(point, km, self.columns.values))

    def everywhere(self, where: Resolution) -> Ints:
        """Every live row whose catchment holds the origin, whatever its status or contexts (for explanations)."""
        drawn = self.drawn(where.point)
        listed = self.listed(where.codes)
        if not len(drawn):
            return listed
        rows = np.concatenate((listed, drawn))
        rows.sort()
        return rows

    def local(self, codes: frozenset[str]) -> Ints:
        """Rows whose catchment names one of these areas (sorted; national ones are not among them)."""
        return self._local.get(codes, lambda: self.kept(self.catchments.naming(codes)))

    def explaining(self, where: Resolution) -> tuple[Rows, Rows, Rows]:
        """Every live row whose catchment holds the origin, whatever its status or contexts, in three groups: those
        whose catchment is national (the same for every origin), those listing an area (cached per area set) and
        those drawn around the point (cached per point)."""
        c = self.columns.values
        national = self._national.get(("explaining", 0), lambda: Rows.of(c, self.national()))
        listing = self._explaining.get(where.codes, lambda: Rows.of(c, self.local(where.codes)))
        drawn = self._explaining_drawn.get(
            (where.point.lon, where.point.lat), lambda: Rows.of(c, self.drawn(where.point))
        )
        return national, listing, drawn

    def playing(self, where: Resolution, role: int) -> tuple[Rows, Rows, Rows]:
        """The rows of `explaining` whose pathway role is `role` (columns.role), in the same three groups, each
        cached on its own: a step's gap reads only its role's rows."""
        c = self.columns.values

        def of_role(group: Rows) -> Rows:
            return Rows.of(c, group.idx[c.role[group.idx] == role])

        national, listing, drawn = self.explaining(where)
        return (
            self._national.get(("playing", role), lambda: of_role(national)),
            self._playing.get((where.codes, role), lambda: of_role(listing)),
            self._playing_drawn.get((where.point.lon, where.point.lat, role), lambda: of_role(drawn)),
        )

    def nearby_outside(self, where: Resolution, q: Query) -> Rows:
        """Live, active rows serving the context, not full for good, located in the grid cells within the context's
        near-miss distance of the origin, whose catchment neither lists the origin's areas nor names a bordering
        one (drawn catchments are the caller's to check): where near misses outside their catchment are found, with
        `bordering`. One group per cells, context and area set."""

        cells = self._cells_at.get(
            (where.point.lon, where.point.lat, q.context),
            lambda: self.catchments.cells_near(where.point, self.near_km[q.context]),
        )
        return self._nearby.get((cells, q.context, where.codes), lambda: self._not_listing(cells, where, q))

    def near_but_outside(self, where: Resolution, q: Query) -> Ints:
        """The rows of `nearby_outside` and `bordering` together, before the context and the other filters: rows
        located within the context's near-miss distance of the origin or naming a bordering area, whose catchment
        lists none of the origin's areas (sorted)."""
        cells = self._cells_at.get(
            (where.point.lon, where.point.lat, q.context),
            lambda: self.catchments.cells_near(where.point, self.near_km[q.context]),
        )

        def gather() -> Ints:
            rows = sorted_once([self.naming_bordering(where), *(self.located_in(cell) for cell in cells)])
            return rows[~among(rows, self.listed(where.codes))]

        return self._near.get((cells, where.codes), gather)

    def _not_listing(self, cells: tuple[Cell, ...], where: Resolution, q: Query) -> Rows:
        parts = [self.located_in(cell) for cell in cells]
        located = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        elsewhere = ~among(located, self.listed(where.codes)) & ~among(located, self.naming_bordering(where))
        return self._rows(located[elsewhere], q)

    def naming_bordering(self, where: Resolution) -> Ints:
        """Every row whose catchment names an area bordering the origin's (sorted)."""
        return self._naming_bordering.get(where.codes, lambda: self.kept(self.catchments.naming(where.adjacent)))

    def bordering(self, where: Resolution, q: Query) -> Rows:
        """Live, active rows serving the context, not full for good, whose catchment names an area bordering the
        origin's but lists none of the origin's own: near misses wherever they are (domain/near.py). One group per
        area set and context."""

        def gather() -> Rows:
            rows = self.naming_bordering(where)
            return self._rows(rows[~among(rows, self.listed(where.codes))], q)

        return self._bordering.get((where.codes, q.context), gather)

    def outside(self, where: Resolution, rows: Ints) -> Bools:
        """Which of these rows' catchments do not hold the origin."""
        return ~(among(rows, self.listed(where.codes)) | among(rows, self.drawn(where.point)))

    def for_search(self, where: Resolution, q: Query) -> list[Rows]:
        """Live, active rows not full for good, whose catchment holds the origin, in every context (the search's
        masks apply its own): those whose catchment is national (one group, shared by every search), those listing
        an area (cached per area set) and those drawn around the point (cached per point)."""
        national = self._national.get(("usable", 0), lambda: self._usable_rows(self.national()))
        listed = self._usable.get(where.codes, lambda: self._usable_rows(self.local(where.codes)))
        drawn = self._usable_drawn.get(
            (where.point.lon, where.point.lat), lambda: self._usable_rows(self.drawn(where.point))
        )
        return [national, listed, drawn]

    def _usable_rows(self, idx: Ints) -> Rows:
        """Active rows not full for good, in every context (masks.eligible applies the search's)."""
        c = self.columns.values
        return Rows.of(c, idx[c.active[idx] & ~c.static_full[idx]])

    def _rows(self, idx: Ints, q: Query) -> Rows:
        c = self.columns.values
        return Rows.of(c, idx[c.active[idx] & ((c.contexts[idx] & q.context_bit) != 0) & ~c.static_full[idx]])


def among(rows: Ints, sorted_rows: Ints) -> Bools:
    """Which of `rows` are in `sorted_rows`."""
    if not len(sorted_rows):
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(sorted_rows, rows), len(sorted_rows) - 1)
    found: Bools = sorted_rows[at] == rows
    return found
