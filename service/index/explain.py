"""Why the rest of the directory was not offered, with the same masks the ranking filters with.

Every service is counted: those whose catchment holds the origin by each rule they fail, the rest as outside
their catchment. Rules are worked out for the two groups of rows whose catchment holds the origin, each gathered
once and cached with what it has worked out (candidates.Candidates): the rows listing an area that holds the origin,
and the rows drawn around it (failures.py: a row's failures are one small integer, a bit per rule, remembered per
group in parts with their counts by reason code, so a search combines a few remembered parts). The rows whose
catchment does not hold the origin but which are worth listing (domain/near.py: within the travel limit for near
misses, or serving a bordering area; a service just over a catchment border is a near miss worth showing, one
across the country is not) are filtered as the ranking filters. Only the most relevant few are listed, in words:
the eligible ones the ranking left below the cut, then those failing the fewest rules, nearest first; only the
rows that could be listed are measured.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence
from itertools import accumulate

import numpy as np

from service.domain.answer import Excluded, Explanation
from service.domain.geometry import EARTH_RADIUS_KM, haversine_km, haversine_km_many
from service.domain.model import Service
from service.domain.routing import Situation
from service.domain.schedule import OpeningState
from service.index.answers import Answers
from service.index.candidates import Candidates, among
from service.index.columns import FULL, Floats, Ints
from service.index.failures import BIT, CATCHMENT, Failures, Moment, failed_rules, failures, row_codes
from service.index.masks import Measures, Query, Rows, capacity_at, travel_minutes
from service.index.places import Resolution
from service.index.ranking import eligible_rows, judged, measure
from service.index.timeline import Opening, Timeline, opening_state


def explain(
    *,
    candidates: Candidates,
    timeline: Timeline,
    services: Sequence[Service | None],
    answers: Answers,
    slug_rank: Ints,
    q: Query,
    where: Resolution,
    situation: Situation,
    found: Measures,
    chosen: list[int],
    caught: Ints,
    listed: int,
    live: int,
) -> tuple[tuple[Excluded, ...], tuple[Excluded, ...], Explanation]:
    """The listed exclusions, the listed near misses, and the counts. `found` are the rows that pass every rule, as
    the ranking measured them, and `chosen` the positions among them shown in any step: the rest of them are below
    the cut, and need no rule worked out again. `caught` are the rows shown as catch-alls (sorted): what an answer
    shows is never counted or listed as not offered."""
    columns = candidates.columns
    c = columns.values
    ctx = Moment(c, timeline, services, columns.n, columns.any_until, columns.changes, where.point.lon, where.point.lat)
    counts: dict[str, int] = {}
    groups: list[Failures] = []
    for rows in candidates.explaining(where):
        f, parts = failures(rows, True, q, ctx)
        groups.append(f)
        for _, tally in parts:
            for code, total in tally:
                counts[code] = counts.get(code, 0) + total
    inside = sum(len(f.idx) for f in groups)
    if live - inside:
        counts["OUTSIDE_CATCHMENT"] = live - inside
    left = np.ones(len(found.idx), dtype=bool)
    left[chosen] = False
    if len(caught):
        left &= ~among(found.idx, caught)  # a catch-all that could also be an option is shown all the same
        for f in groups:  # catch-alls failing rules (the needs rule, most often) are not counted against them
            hit = among(f.idx, caught)
            for row, failing in zip(f.idx[hit].tolist(), f.bits[hit].tolist(), strict=True):
                for code in row_codes(failing, q, float(c.age_min[row]), int(c.required[row])):
                    counts[code] -= 1
                    if not counts[code]:
                        del counts[code]
    if below_total := int(np.count_nonzero(left)):
        counts["BELOW_THE_CUT"] = below_total
    groups.append(_outside_but_eligible(candidates, where, q, ctx))
    bits = np.concatenate([f.bits for f in groups])
    idx = np.concatenate([f.idx for f in groups])
    near_pos = np.flatnonzero(NEAR[bits])
    if len(caught):
        near_pos = near_pos[~among(idx[near_pos], caught)]
    below = np.flatnonzero(left)
    below = below[_first(found.idx[below], np.fmax(found.distance[below], 0.0), KM, None, slug_rank, listed, ctx)]
    near_list = near_pos[_first(idx[near_pos], _farness(idx[near_pos], ctx), COSINE, None, slug_rank, listed, ctx)]
    more = near_list[: listed - len(below)]  # near misses complete the list of exclusions
    if len(below) + len(near_pos) < listed:
        # Few services fail at most one rule: the list goes on to those failing more, nearby ones outside their
        # catchment included, so their rules are worked out too (a small or sparse directory). They come after
        # every position found so far, which stand.
        near = Rows.of(c, _outside_nearby(candidates, where, q, groups[-1].idx))
        groups.append(failures(near, False, q, ctx)[0])
        bits = np.concatenate((bits, groups[-1].bits))
        idx = np.concatenate((idx, groups[-1].idx))
        count = np.bitwise_count(bits)
        pos = np.flatnonzero((count > 1) & ((bits & CLOSED) == 0))
        if len(caught):
            pos = pos[~among(idx[pos], caught)]
        key = _farness(idx[pos], ctx) + count[pos] * 4.0  # a failure more outweighs any nearness (a cosine's range)
        more = np.concatenate((more, pos[_first(idx[pos], key, COSINE, count[pos], slug_rank, listed, ctx)]))
        more = more[: listed - len(below)]
    starts = list(accumulate((len(f.idx) for f in groups), initial=0))
    wordings: dict[int, tuple[str, ...]] = {}

    def entry(row: int, failing: int, opening: Opening, k: int) -> Excluded:
        def state() -> OpeningState:
            return opening_state(
                bool(opening.open_now[k]), bool(c.open_24_7[row]), float(opening.closes[k]), float(opening.next_open[k])
            )

        if (failed := wordings.get(failing)) is None:  # many rows fail the same rules
            failed = wordings[failing] = failed_rules(failing) or ("below_the_cut",)
        return answers.excluded(row, failed, situation, state)

    def entries(positions: Ints) -> list[Excluded]:
        """Entries for these positions among the groups' rows."""
        out = []
        for j, row, failing in zip(positions.tolist(), idx[positions].tolist(), bits[positions].tolist(), strict=True):
            g = bisect.bisect_right(starts, j) - 1
            out.append(entry(row, failing, groups[g].opening, j - starts[g]))
        return out

    excluded = [
        entry(row, 0, found.opening, k) for k, row in zip(below.tolist(), found.idx[below].tolist(), strict=True)
    ]
    explanation = Explanation(
        excluded_total=live - len(chosen) - int(np.count_nonzero(~among(caught, np.sort(found.idx[chosen])))),
        near_misses_total=len(near_pos),
        by_reason=counts,
        listed=listed,
        near_minutes=candidates.near_minutes,
        near_km=round(candidates.near_km[q.context], 3),
    )
    return tuple(excluded + entries(more)), tuple(entries(near_list)), explanation


CLOSED = np.uint16(BIT["is_active"])
"""A closed or temporarily closed service is counted, never listed: not as a near miss, nor as an exclusion."""
_EVERY = np.arange(1 << len(BIT), dtype=np.uint32)
NEAR = (np.bitwise_count(_EVERY) == 1) & ((_EVERY & CLOSED) == 0)
"""For each value of a row's failure bits, whether it is a near miss (one rule failed, and not closed): a search
looks its rows up in one pass."""


def _outside_but_eligible(candidates: Candidates, where: Resolution, q: Query, ctx: Moment) -> Failures:
    """Services worth listing outside their catchment (domain/near.py) that fail only the catchment rule: the rows
    located near the origin whose catchment does not list its areas (one group per cells, context and area set,
    with its masks) within the limit's distance, and those serving a bordering area (one group per area set and
    context), filtered as the ranking filters (eligible_rows, then judged for the few left), less the drawn
    catchments that hold the origin."""
    idx = eligible_rows([candidates.nearby_outside(where, q)], ctx.timeline, ctx.n, q)
    if len(idx):  # located near: near only when within the limit's distance
        c, km = ctx.c, candidates.near_km[q.context]
        cosine = np.take(c.unit, idx, axis=0) @ ctx.origin
        within = cosine > math.cos((km + 0.001) / EARTH_RADIUS_KM)
        unsure = within & (cosine < math.cos((km - 0.001) / EARTH_RADIUS_KM))
        if unsure.any():  # within a metre of the limit's distance: measured as the rule measures
            at = idx[unsure]
            far = travel_minutes(haversine_km_many(c.lon[at], c.lat[at], ctx.origin_lon, ctx.origin_lat), q.context)
            within[unsure] = far <= candidates.near_minutes
        idx = idx[within]
        if len(idx) and len(drawn := candidates.drawn(where.point)):  # a drawn catchment may hold the point
            idx = idx[~among(idx, drawn)]
    named = eligible_rows([candidates.bordering(where, q)], ctx.timeline, ctx.n, q)  # near wherever they are
    idx = np.concatenate((idx, named)) if len(named) else idx  # (an areas catchment, never drawn)
    if q.max_travel is None and ctx.timeline.covers(q.t):  # of the moment's rules, only capacity is left to apply
        idx = idx[capacity_at(ctx.c, idx, q.t, candidates.columns.any_until) != FULL]
        opening = ctx.timeline.at(idx, q.t)
    else:
        m = measure(candidates.columns, ctx.timeline, ctx.services, idx, q, where.point)
        m = judged(candidates.columns, ctx.timeline, m, q)
        idx, opening = m.idx, m.opening
    return Failures(idx=idx, bits=np.full(len(idx), BIT[CATCHMENT], dtype=np.uint16), opening=opening)


def _outside_nearby(candidates: Candidates, where: Resolution, q: Query, already: Ints) -> Ints:
    """Every row worth listing outside its catchment (within the near-miss distance, or naming a bordering area)
    whose catchment does not hold the origin, but those in `already`."""
    located = candidates.located_near(where.point, candidates.near_km[q.context])
    nearby = np.union1d(located, candidates.naming_bordering(where))
    rows: Ints = nearby[candidates.outside(where, nearby) & ~among(nearby, np.sort(already))]
    return rows


KM = 1e-9
"""How much above the k-th key _first also keeps a distance in km worked out with numpy's trigonometry (which
can differ from the reference's scalar haversine in its last bits)."""
COSINE = 1e-12
"""The same for _farness's keys."""


def _first(rows: Ints, key: Floats, slack: float, count: Ints | None, slug_rank: Ints, k: int, ctx: Moment) -> Ints:
    """Positions (into `rows`) of the first k rows in the order (failures, distance, slug), without measuring or
    sorting them all: a partition on `key`, which never orders two rows against that order (but by less than
    `slack`), keeps every row up to the k-th's key, ties included; only those few are measured, as the reference
    rules measure, and sorted. Without `count`, every row fails the same number of rules."""
    if len(rows) > 2 * k > 0:
        pos = np.flatnonzero(key <= np.partition(key, k - 1)[k - 1] + slack)
    else:
        pos = np.arange(len(rows))
    chosen = rows[pos]
    c = ctx.c
    lon, lat = c.lon[chosen], c.lat[chosen]
    distance = np.zeros(len(pos))  # a phone line, with no location, needs no travel
    located = np.flatnonzero(lon == lon)
    if len(located):
        measured: dict[tuple[float, float], float] = {}  # services often share a place
        for j, x, y in zip(located.tolist(), lon[located].tolist(), lat[located].tolist(), strict=True):
            if (km := measured.get((x, y))) is None:
                km = measured[x, y] = haversine_km(x, y, ctx.origin_lon, ctx.origin_lat)
            distance[j] = km
    failing = np.zeros(len(pos), dtype=np.int64) if count is None else count[pos]
    order: Ints = pos[np.lexsort((slug_rank[chosen], distance, failing))[:k]]
    return order


def _farness(rows: Ints, ctx: Moment) -> Floats:
    """A number for each row that orders them as their distance from the origin does: minus the cosine of the
    angle between them at the Earth's centre (-1: the origin itself; a phone line, with no location, is as near as
    can be)."""
    farness: Floats = np.fmax(-(np.take(ctx.c.unit, rows, axis=0) @ ctx.origin), -1.0)  # NaN (no location) -> -1
    return farness
