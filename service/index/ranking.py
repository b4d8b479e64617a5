"""From an origin and a query to the ranked rows: candidates by catchment, the hard rules as masks, one sort.

Candidates come first from what a place already narrows (rows whose catchment is national or names an area holding
the origin, active and serving the context, cached per area set and context; drawn catchments holding the point,
cached per point). The person's rules then filter them, most selective first; capacity, opening and travel are
measured only for the rows left, and the rules about them filter last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np

from service.domain.geometry import haversine_km_many
from service.domain.model import Point, Service
from service.index.catchments import Catchments
from service.index.columns import Columns, Ints
from service.index.masks import (
    FILTER_ORDER,
    MOMENT_MASKS,
    PROFILE_MASKS,
    Measures,
    Query,
    Rows,
    capacity_at,
    passing,
    travel_minutes,
)
from service.index.places import Resolution
from service.index.timeline import Timeline, opening_slowly

CACHED = 4096
ROWS_CACHED = 1024
"""Gathered rows per area set (or point) and context: about 1,000 rows each at national scale."""


class Candidates:
    """Which rows a search starts from, with the look-ups it repeats cached until the next change."""

    def __init__(self, columns: Columns, catchments: Catchments) -> None:
        self.columns, self.catchments = columns, catchments
        self._listed: dict[frozenset[str], Ints] = {}
        self._usable: dict[tuple[frozenset[str], str], Rows] = {}
        self._usable_drawn: dict[tuple[tuple[float, float], str], Rows] = {}
        self._drawn: dict[tuple[float, float], Ints] = {}
        self._fallbacks: Ints | None = None

    def forget(self) -> None:
        """After a change: every cached look-up may be stale."""
        self._listed.clear()
        self._usable.clear()
        self._usable_drawn.clear()
        self._drawn.clear()
        self._fallbacks = None

    def fallback_pool(self) -> Ints:
        """Live rows the data names as a catch-all for some need."""
        if self._fallbacks is None:
            c = self.columns.values
            n = self.columns.n
            self._fallbacks = np.flatnonzero((c.fallback_needs[:n] != 0) & c.live[:n]).astype(np.int64)
        return self._fallbacks

    def listed(self, codes: frozenset[str]) -> Ints:
        """Rows whose catchment is national or names one of these areas (sorted)."""
        found = self._listed.get(codes)
        if found is None:
            if len(self._listed) > CACHED:
                self._listed.clear()
            found = self._listed[codes] = self.catchments.listing(codes)
        return found

    def drawn(self, point: Point) -> Ints:
        """Rows with a drawn catchment (radius or polygon) holding the point."""
        key = (point.lon, point.lat)
        found = self._drawn.get(key)
        if found is None:
            if len(self._drawn) > CACHED:
                self._drawn.clear()
            found = self._drawn[key] = self.catchments.drawn_around(point, self.columns.values)
        return found

    def everywhere(self, where: Resolution) -> Ints:
        """Every live row whose catchment holds the origin, whatever its status or contexts (for explanations)."""
        drawn = self.drawn(where.point)
        listed = self.listed(where.codes)
        if not len(drawn):
            return listed
        rows = np.concatenate((listed, drawn))
        rows.sort()
        return rows

    def for_search(self, where: Resolution, q: Query) -> list[Rows]:
        """Live, active rows serving the context, not full for good, whose catchment holds the origin: those listing
        an area (cached per area set and context) and those drawn around the point (cached per point)."""
        listed_key = (where.codes, q.context)
        listed = self._usable.get(listed_key)
        if listed is None:
            if len(self._usable) > ROWS_CACHED:
                self._usable.clear()
            listed = self._usable[listed_key] = self._rows(self.listed(where.codes), q)
        drawn_key = ((where.point.lon, where.point.lat), q.context)
        drawn = self._usable_drawn.get(drawn_key)
        if drawn is None:
            if len(self._usable_drawn) > CACHED:
                self._usable_drawn.clear()
            drawn = self._usable_drawn[drawn_key] = self._rows(self.drawn(where.point), q)
        return [listed, drawn]

    def _rows(self, idx: Ints, q: Query) -> Rows:
        c = self.columns.values
        return Rows.of(c, idx[c.active[idx] & ((c.contexts[idx] & q.context_bit) != 0) & ~c.static_full[idx]])


def measure(
    columns: Columns, timeline: Timeline, services: Sequence[Service | None], idx: Ints, q: Query, origin: Point
) -> Measures:
    c = columns.values
    if timeline.covers(q.t):
        opening = timeline.every_row_at(q.t, columns.n).take(idx)
    else:
        chosen = [services[i] for i in idx.tolist()]
        opening = opening_slowly([s for s in chosen if s is not None], dt.datetime.fromtimestamp(q.t, dt.UTC))
    distance = haversine_km_many(c.lon[idx], c.lat[idx], origin.lon, origin.lat)
    return Measures(
        idx=idx,
        capacity=capacity_at(c, idx, q.t, columns.any_until),
        opening=opening,
        distance=distance,
        travel=travel_minutes(distance, q.context),
    )


def survivors(
    candidates: Candidates, timeline: Timeline, services: Sequence[Service | None], where: Resolution, q: Query
) -> Measures:
    """The rows that pass every hard rule, with their measures."""
    columns = candidates.columns
    c = columns.values
    parts = []
    for rows in candidates.for_search(where, q):
        ok = passing(rows, q, FILTER_ORDER)
        parts.append(rows.idx if ok is None else rows.idx[ok])
    idx = parts[0] if not len(parts[1]) else np.concatenate(parts)
    m = measure(columns, timeline, services, idx, q, where.point)
    for rule in MOMENT_MASKS.values():
        mask = rule(c, m, q)
        if mask is not None:
            m = m.take(mask)
    return m


def best_first(columns: Columns, slug_rank: Ints, m: Measures, q: Query, limit: int, kind_cap: int) -> list[int]:
    """Positions (into m.idx) of the options, best first, at most `kind_cap` of each kind.

    The order is routing.rank_key's: pathway priority (1-11), needs met (more is better), tailored, open now, next
    opening, capacity, travel time, then slug. lexsort's last key is the primary one; the first four are folded
    into one integer, most significant first.
    """
    idx = m.idx
    if not len(idx):
        return []
    c = columns.values
    met = np.bitwise_count(c.needs[idx] & q.needs).astype(np.int64)
    open_now = m.opening.open_now
    later = np.where(open_now, 0.0, np.fmin(m.opening.next_open - q.t, np.inf))  # NaN (never) -> inf
    travel = np.fmax(m.travel, 0.0)  # NaN (no location) -> 0
    leading = ((c.priority[idx] << 8) | ((63 - met) << 2) | (~c.tailored[idx] << 1) | ~open_now).astype(np.int64)
    order = np.lexsort((slug_rank[idx], travel, m.capacity, later, leading))
    taken: list[int] = []
    per_kind: dict[int, int] = {}
    step = limit * 2
    for start in range(0, len(order), step):  # the per-kind cap rarely needs to look far down the order
        chunk = order[start : start + step]
        for o, kind in zip(chunk.tolist(), c.kind[idx[chunk]].tolist(), strict=True):
            if per_kind.get(kind, 0) >= kind_cap:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            taken.append(o)
            if len(taken) == limit:
                return taken
    return taken


def fallbacks(
    candidates: Candidates,
    timeline: Timeline,
    services: Sequence[Service | None],
    slug_rank: Ints,
    where: Resolution,
    q: Query,
    unmet: dict[str, int],
) -> tuple[Measures, dict[int, list[str]]]:
    """For needs no option meets (code -> bit), the best service the data declares a catch-all for each: every
    rule but the needs rule must hold. Positions into the measures' rows, with the needs each covers."""
    c = candidates.columns.values
    wanted = np.uint64(sum(unmet.values()))
    pool = candidates.fallback_pool()
    pool = pool[(c.fallback_needs[pool] & wanted) != 0]
    if len(pool):
        pool = np.intersect1d(pool, candidates.everywhere(where), assume_unique=True)
    m = measure(candidates.columns, timeline, services, pool, q, where.point)
    every_rule_but_needs = tuple(name for name in PROFILE_MASKS if name != "meets_a_need")
    person_ok = passing(Rows.of(c, pool), q, every_rule_but_needs)
    ok = np.ones(len(pool), dtype=bool) if person_ok is None else person_ok
    for moment in MOMENT_MASKS.values():
        mask = moment(c, m, q)
        if mask is not None:
            ok &= mask
    covers: dict[int, list[str]] = {}
    for need, bit in unmet.items():
        hits = np.flatnonzero(ok & ((c.fallback_needs[pool] & np.uint64(bit)) != 0))
        if len(hits):
            best = min(hits.tolist(), key=lambda j: (int(c.priority[pool[j]]), int(slug_rank[pool[j]])))
            covers.setdefault(best, []).append(need)
    return m, covers
