"""From an origin and a query to the ranked rows: the hard rules as masks over the candidate groups
(service/index/candidates.py), one sort.

The person's rules filter a search's groups first (each group remembers its masks); capacity, opening and travel
are measured only for the rows left, and the rules about them filter last.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

import numpy as np

from service.domain.geometry import haversine_km_many
from service.domain.model import Point, Service
from service.index.candidates import Candidates
from service.index.columns import Bools, Columns, Floats, Ints
from service.index.masks import (
    MOMENT_MASKS,
    Measures,
    Query,
    Rows,
    capacity_at,
    eligible,
    opening_allows,
    travel_minutes,
)
from service.index.places import Resolution
from service.index.timeline import Opening, Timeline, opening_slowly


def moment_opening(timeline: Timeline, services: Sequence[Service | None], idx: Ints, q: Query, n: int) -> Opening:
    """These rows' opening state at the search's moment: from the timeline's minute, or (outside its span) from
    the schedules one by one."""
    if timeline.covers(q.t):
        return timeline.at(idx, q.t)
    chosen = [services[i] for i in idx.tolist()]
    return opening_slowly([s for s in chosen if s is not None], dt.datetime.fromtimestamp(q.t, dt.UTC))


def measure(
    columns: Columns,
    timeline: Timeline,
    services: Sequence[Service | None],
    idx: Ints,
    q: Query,
    origin: Point,
    distance: Floats | None = None,
) -> Measures:
    """These rows' capacity, opening state, distance (by haversine unless the caller has it) and travel time."""
    c = columns.values
    opening = moment_opening(timeline, services, idx, q, columns.n)
    if distance is None:
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
    """The rows that pass every hard rule, with their measures.

    Each group of candidates remembers its masks: the person's rules (masks.eligible), and whether each row is open
    when needed, per minute (every opening boundary falls on a whole minute). Capacity, which can change at any
    second, and travel, which depends on the point, are measured for the rows left.
    """
    idx = eligible_rows(candidates.for_search(where, q), timeline, candidates.columns.n, q)
    m = measure(candidates.columns, timeline, services, idx, q, where.point)
    return judged(candidates.columns, timeline, m, q)


def eligible_in(rows: Rows, timeline: Timeline, n: int, q: Query) -> Bools | None:
    """Which of a group's rows pass the person's rules and (within the timeline) are open when needed; None: all."""
    ok = eligible(rows, q)
    if timeline.covers(q.t):
        ready = open_when_needed_in(rows, timeline, n, q)
        ok = ready if ok is None else ok if ready is None else ok & ready
    return ok


def eligible_rows(groups: list[Rows], timeline: Timeline, n: int, q: Query) -> Ints:
    """The rows of these groups that pass the person's rules and (within the timeline) are open when needed."""
    parts = []
    for rows in groups:
        ok = eligible_in(rows, timeline, n, q)
        parts.append(rows.idx if ok is None else rows.idx[ok])
    parts = [part for part in parts if len(part)]
    if len(parts) == 1:
        return parts[0]
    return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def judged(columns: Columns, timeline: Timeline, m: Measures, q: Query) -> Measures:
    """Rows that passed eligible_rows, with their measures, kept if they pass the moment's rules too."""
    covered = timeline.covers(q.t)
    keep: Bools | None = None
    for name, rule in MOMENT_MASKS.items():
        if covered and name == "open_when_needed":
            continue  # applied by eligible_rows
        mask = rule(columns.values, m, q)
        if mask is not None:
            keep = mask if keep is None else keep & mask
    if keep is not None and not keep.all():
        m = m.take(np.flatnonzero(keep))
    return m


def group_opening(rows: Rows, timeline: Timeline, services: Sequence[Service | None], n: int, q: Query) -> Opening:
    """A group's opening state at the search's moment: a look-up within the timeline (cheap enough not to be
    remembered: a moment other than now is rarely asked twice), worked out from the schedules outside it."""
    return moment_opening(timeline, services, rows.idx, q, n)


def open_when_needed_in(rows: Rows, timeline: Timeline, n: int, q: Query) -> Bools | None:
    """open_when_needed for a group, remembered per minute (within the timeline, which the caller checks)."""
    if q.context == "community":
        return None
    minute = math.floor(q.t / 60) * 60
    whole = q.window % 60 == 0  # then every row's answer is the same throughout the minute
    return rows.remembered(
        ("open_when_needed", q.context, minute if whole else q.t),
        lambda: _always(opening_allows(rows.immediate, group_opening(rows, timeline, (), n, q), q)),
    )


def _always(mask: Bools | None) -> Bools:
    assert mask is not None, "only community searches have no opening rule"
    return mask


def ordered(columns: Columns, slug_rank: Ints, m: Measures, q: Query) -> Ints:
    """Positions (into m.idx) of every row, best first, in routing.rank_key's order: found for its cohort only,
    pathway priority (1-11), needs
    met (more is better), tailored, open now, next opening, capacity, travel time, local before national, then slug.
    lexsort's last key is the primary one; the first four are folded into one integer, most significant first
    (columns.standing holds the priority and tailored parts)."""
    idx = m.idx
    c = columns.values
    met = np.left_shift(np.bitwise_count(c.needs[idx] & q.needs), 2, dtype=np.int64)
    open_now = m.opening.open_now
    leading = c.standing[idx] - met + ~open_now
    if q.needs:  # a finder of its cohort's needs meeting none of those given comes after the rest
        leading = leading + (((met == 0) & ((c.seeks[idx] & q.context_bit) != 0)).astype(np.int64) << 12)
    later = np.where(open_now, 0.0, np.fmin(m.opening.next_open - q.t, np.inf))  # NaN (never) -> inf
    travel = np.fmax(m.travel, 0.0)  # NaN (no location) -> 0
    order: Ints = np.lexsort((slug_rank[idx], c.specificity[idx], travel, m.capacity, later, leading))
    return order


def first(order: Ints, kinds: Ints, limit: int, kind_cap: int) -> list[int]:
    """The first `limit` of these positions, at most `kind_cap` of each kind (`kinds`: each position's kind)."""
    top = order[:limit]
    if len(top) and np.bincount(kinds[top]).max() <= kind_cap:  # no kind over its cap among the first: the options
        return top.tolist()  # type: ignore[no-any-return]
    taken: list[int] = []
    per_kind: dict[int, int] = {}
    step = limit * 2
    for start in range(0, len(order), step):  # the per-kind cap rarely needs to look far down the order
        chunk = order[start : start + step]
        for o, kind in zip(chunk.tolist(), kinds[chunk].tolist(), strict=True):
            if per_kind.get(kind, 0) >= kind_cap:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            taken.append(o)
            if len(taken) == limit:
                return taken
    return taken


def best_first(columns: Columns, slug_rank: Ints, m: Measures, q: Query, limit: int, kind_cap: int) -> list[int]:
    """Positions (into m.idx) of the options, best first, at most `kind_cap` of each kind."""
    if not len(m.idx):
        return []
    return first(ordered(columns, slug_rank, m, q), columns.values.kind[m.idx], limit, kind_cap)
