"""Why the rest of the directory was not offered, with the same masks the ranking filters with.

Every service is counted: those whose catchment holds the origin by each rule they fail, the rest as outside
their catchment. Rules are worked out for three groups of rows, each gathered once and cached with what it has
worked out (ranking.Candidates): the rows listing an area that holds the origin, the rows drawn around it, and
the rows located within NEAR_KM of it whose catchment does not hold it (a service just over a catchment border is
a near miss worth showing; one across the country is not). A row's failures are one small integer, a bit per rule
(BIT), remembered per group in parts with their counts by reason code, so a search combines a few remembered
parts. Only the most relevant few are listed, in words: eligible ones left below the cut, then those failing the
fewest rules, nearest first; only the rows that could be listed are measured.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import accumulate

import numpy as np
from numpy.typing import NDArray

from service.domain.answer import Excluded, Explanation
from service.domain.geometry import haversine_km, haversine_km_many
from service.domain.model import Service
from service.domain.routing import HARD_RULES, Situation
from service.domain.schedule import OpeningState
from service.index.answers import Answers
from service.index.columns import FULL, Bools, ColumnValues, Floats, Ints
from service.index.masks import PROFILE_MASKS, READS, Query, Rows, opening_allows, too_far, travel_minutes
from service.index.places import Resolution
from service.index.ranking import NEAR_KM, Candidates, among, group_opening, open_when_needed_in
from service.index.timeline import Opening, Timeline, opening_state

CATCHMENT = "catchment_contains_origin"
RULE_NAMES = tuple(rule.__name__ for rule in HARD_RULES)
CODES = {
    "is_active": "NOT_ACTIVE",
    "serves_context": "WRONG_CONTEXT",
    "place_of_safety_accepts_age": "S136_AGE_NOT_ACCEPTED",
    "police_station_never_for_under_18s": "S136_POLICE_STATION_UNDER_18",
    "police_station_only_in_exceptional_cases": "S136_POLICE_STATION_NOT_EXCEPTIONAL",
    "accepts_gender": "GENDER_NOT_ACCEPTED",
    "meets_a_need": "NO_NEED_MET",
    "has_capacity": "FULL",
    "within_travel_time": "TOO_FAR",
}


Fails = NDArray[np.uint16]
BIT = {name: 1 << i for i, name in enumerate(RULE_NAMES)}
"""One bit per rule, in the reference order: a row's failures are one small integer."""
Part = tuple[Fails | None, tuple[tuple[str, int], ...]]
"""Which rows fail some rules (their bits; None: no row fails them), and how many each reason code excluded."""


@dataclass(frozen=True)
class Failures:
    """For one group of rows: which rules each fails (BIT), and the opening state it was judged with."""

    idx: Ints
    bits: Fails
    opening: Opening


@dataclass(frozen=True)
class Moment:
    """What a group's moment rules read besides the group and the query."""

    c: ColumnValues
    timeline: Timeline
    services: Sequence[Service | None]
    n: int
    any_until: bool
    changes: int
    origin_lon: float
    origin_lat: float

    @property
    def origin(self) -> Floats:
        """The origin on the unit sphere (as columns.unit)."""
        phi, lam = math.radians(self.origin_lat), math.radians(self.origin_lon)
        return np.array((math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)))


def failures(rows: Rows, inside: bool, q: Query, ctx: Moment) -> tuple[Failures, list[Part]]:
    """Every rule for a group, as bits, with the counts by reason code of each part: the person's rules in three
    parts (those reading only the context, age, gender and s136 flags; the needs; the circumstances), and whether
    each row is open when needed, remembered as their masks are; capacity remembered until a row changes or an
    `until` passes; travel worked out now."""
    opening = group_opening(rows, ctx.timeline, ctx.services, ctx.n, q)
    parts = [
        rows.remembered(
            ("steady_failures", q.context_bit, q.gender_bit, q.age, q.street_crisis, q.exceptional),
            lambda: _person(rows, q, STEADY),
        ),
        rows.remembered(("need_failures", q.needs, q.context_bit), lambda: _person(rows, q, ("meets_a_need",))),
        rows.remembered(("circumstance_failures", q.circumstances), lambda: _person(rows, q, ("circumstances_allow",))),
        _closed(rows, opening, q, ctx),
        _full(rows, q, ctx),
        _too_far(rows, q, ctx),
    ]
    bits: Fails | None = None
    for failed, _ in parts:
        if failed is not None:
            bits = failed if bits is None else bits | failed
    if bits is None:
        bits = np.zeros(len(rows.idx), dtype=np.uint16)
    if not inside:
        bits = bits | np.uint16(BIT[CATCHMENT])
    return Failures(idx=rows.idx, bits=bits, opening=opening), parts


STEADY = (
    "is_active",
    "serves_context",
    "accepts_age",
    "place_of_safety_accepts_age",
    "police_station_never_for_under_18s",
    "police_station_only_in_exceptional_cases",
    "accepts_gender",
)
"""The person's rules that read only the context, the age, the gender and the s136 flags: a group remembers
their failures together."""
SPLIT = {
    "accepts_age": ("AGE_BELOW_MIN", "AGE_ABOVE_MAX"),
    "circumstances_allow": ("MISSING_CIRCUMSTANCE", "EXCLUDED_CIRCUMSTANCE"),
}
"""The person's rules with two reason codes, as the reference rule chooses between them."""


def _person(rows: Rows, q: Query, names: tuple[str, ...]) -> Part:
    """These person's rules' failures as bits, and how many rows each code excluded."""
    bits: Fails | None = None
    tally: list[tuple[str, int]] = []
    for name in names:
        mask = PROFILE_MASKS[name](rows, q)
        if mask is None:
            continue
        failed = ~mask
        total = int(np.count_nonzero(failed))
        if not total:
            continue
        rule_bits = failed * np.uint16(BIT[name])
        bits = rule_bits if bits is None else bits | rule_bits
        match name:
            case "accepts_age":
                first = int(np.count_nonzero(failed & (rows.age_min > q.age)))
            case "circumstances_allow":
                first = int(np.count_nonzero(failed & ((rows.required & ~q.circumstances) != 0)))
            case _:
                tally.append((CODES[name], total))
                continue
        tally += [(code, n) for code, n in zip(SPLIT[name], (first, total - first), strict=True) if n]
    return bits, tuple(tally)


def _part(name: str, code: str, failed: Bools | None) -> Part:
    if failed is None:
        return None, ()
    total = int(np.count_nonzero(failed))
    return (failed * np.uint16(BIT[name]), ((code, total),)) if total else (None, ())


def _closed(rows: Rows, opening: Opening, q: Query, ctx: Moment) -> Part:
    """open_when_needed's failures: within the timeline, from the group's mask remembered per minute."""
    code = "CLOSED_NOW" if q.context == "street" else "CLOSED_IN_WINDOW"
    if not ctx.timeline.covers(q.t):
        allowed = opening_allows(rows.immediate, opening, q)
        return _part("open_when_needed", code, None if allowed is None else ~allowed)
    mask = open_when_needed_in(rows, ctx.timeline, ctx.n, q)
    if mask is None:
        return None, ()
    minute = q.t if q.window % 60 else q.t // 60
    return rows.remembered(("closed_failures", q.context, minute), lambda: _part("open_when_needed", code, ~mask))


@dataclass(frozen=True)
class Full:
    """A group's has_capacity failures, true from `since` until `before` (the next `until` to pass among its full
    rows), for as long as no row changes."""

    since: float
    before: float
    part: Part


def _full(rows: Rows, q: Query, ctx: Moment) -> Part:
    """has_capacity's failures: remembered until a row changes (Columns.changes) or a full row's `until` passes."""
    held = rows.remembered(("full", ctx.changes), lambda: _full_at(rows, q.t, ctx), lambda f: f.since <= q.t < f.before)
    return held.part


def _full_at(rows: Rows, t: float, ctx: Moment) -> Full:
    full = ctx.c.capacity[rows.idx] == FULL
    since, before = -math.inf, math.inf
    if ctx.any_until:
        until = ctx.c.capacity_until[rows.idx]
        gone = until <= t  # an expired `until` reads as unknown
        if (passed := until[full & gone]).size:
            since = float(passed.max())
        if (coming := until[full & ~gone & np.isfinite(until)]).size:
            before = float(coming.min())
        full &= ~gone
    return Full(since, before, _part("has_capacity", CODES["has_capacity"], full))


def _too_far(rows: Rows, q: Query, ctx: Moment) -> Part:
    if q.max_travel is None:
        return None, ()
    c = ctx.c
    distance = haversine_km_many(c.lon[rows.idx], c.lat[rows.idx], ctx.origin_lon, ctx.origin_lat)
    far = too_far(c.travel_limited[rows.idx], travel_minutes(distance, q.context), q.max_travel)
    return _part("within_travel_time", CODES["within_travel_time"], far)


@cache
def failed_rules(bits: int) -> tuple[str, ...]:
    """The names of the rules these bits stand for, in the reference order."""
    return tuple(name for name in RULE_NAMES if bits & BIT[name])


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
    offered: Ints,
    listed: int,
    live: int,
) -> tuple[tuple[Excluded, ...], tuple[Excluded, ...], Explanation]:
    """The listed exclusions, the listed near misses, and the counts."""
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
    groups.append(_outside_but_eligible(candidates, where, q, ctx))
    bits = np.concatenate([f.bits for f in groups])
    idx = np.concatenate([f.idx for f in groups])
    count = np.bitwise_count(bits)
    passed = np.flatnonzero(bits == 0)
    was_offered = among(idx[passed], np.sort(offered))
    if (below_total := len(passed) - int(was_offered.sum())) > 0:
        counts["BELOW_THE_CUT"] = below_total
    near_pos = np.flatnonzero(count == 1)
    if len(near_pos) + len(passed) - len(offered) < listed:
        # Few services fail at most one rule: the list goes on to those failing more, nearby ones outside their
        # catchment included, so their rules are worked out too (a small or sparse directory). They all fail two
        # rules or more, so the positions found so far stand.
        near = Rows.of(c, _outside_nearby(candidates, where, groups[-1].idx))
        groups.append(failures(near, False, q, ctx)[0])
        bits = np.concatenate((bits, groups[-1].bits))
        idx = np.concatenate((idx, groups[-1].idx))
        count = np.bitwise_count(bits)
    below = passed[~was_offered]
    if len(below) >= listed:  # those below the cut fill the list of exclusions
        ex_pos = _first(below, None, slug_rank, idx, listed, ctx)
        near_list = _first(near_pos, None, slug_rank, idx, listed, ctx)
    elif len(below) + len(near_pos) >= listed:  # then near misses complete it
        near_list = _first(near_pos, None, slug_rank, idx, listed, ctx)
        ex_pos = np.concatenate((_first(below, None, slug_rank, idx, listed, ctx), near_list))[:listed]
    else:  # the list goes on to services failing two rules or more
        ex_pos = np.concatenate((below, np.flatnonzero(count > 0)))
        ex_pos = _first(ex_pos, count, slug_rank, idx, listed, ctx)
        near_list = _first(near_pos, None, slug_rank, idx, listed, ctx)
    starts = list(accumulate((len(f.idx) for f in groups), initial=0))
    readings: dict[str, Hashable] = {}

    def reading(name: str) -> Hashable:
        """What the words of a failed rule read of this search (Answers.excluded)."""
        if name not in readings:
            readings[name] = READS[name](q) if name in READS else answers.reading(name, situation)
        return readings[name]

    chosen = np.concatenate((ex_pos, near_list))
    built: dict[int, Excluded] = {}

    def entry(j: int, row: int, failing: int) -> Excluded:
        found = built.get(j)
        if found is not None:
            return found

        def state() -> OpeningState:
            g = bisect.bisect_right(starts, j) - 1
            f, k = groups[g], j - starts[g]
            return opening_state(
                bool(f.opening.open_now[k]),
                bool(c.open_24_7[row]),
                float(f.opening.closes[k]),
                float(f.opening.next_open[k]),
            )

        failed = failed_rules(failing) or ("below_the_cut",)
        found = built[j] = answers.excluded(row, failed, situation, state, reading)
        return found

    entries = [
        entry(j, row, failing)
        for j, row, failing in zip(chosen.tolist(), idx[chosen].tolist(), bits[chosen].tolist(), strict=True)
    ]
    explanation = Explanation(
        excluded_total=live - len(offered),
        near_misses_total=len(near_pos),
        by_reason=counts,
        listed=listed,
        near_km=NEAR_KM,
    )
    return tuple(entries[: len(ex_pos)]), tuple(entries[len(ex_pos) :]), explanation


def _outside_but_eligible(candidates: Candidates, where: Resolution, q: Query, ctx: Moment) -> Failures:
    """Services within NEAR_KM of the origin that fail only the catchment rule: every rule over the rows located
    near the origin whose catchment does not list its areas (one group per cells, context and area set, with its
    masks), then the drawn catchments and the distance for the few that pass them all."""
    rows = candidates.nearby_outside(where, q)
    f, _ = failures(rows, True, q, ctx)
    pos = np.flatnonzero(f.bits == 0)
    idx = rows.idx[pos]
    if len(drawn := candidates.drawn(where.point)):
        keep = ~among(idx, drawn)
        pos, idx = pos[keep], idx[keep]
    c = ctx.c
    close = haversine_km_many(c.lon[idx], c.lat[idx], ctx.origin_lon, ctx.origin_lat) <= NEAR_KM
    pos, idx = pos[close], idx[close]
    return Failures(idx=idx, bits=np.full(len(idx), BIT[CATCHMENT], dtype=np.uint16), opening=f.opening.take(pos))


def _outside_nearby(candidates: Candidates, where: Resolution, already: Ints) -> Ints:
    """Every row located within NEAR_KM of the origin whose catchment does not hold it, but those in `already`."""
    c = candidates.columns.values
    nearby = candidates.catchments.located_near(where.point, NEAR_KM, c)
    rows: Ints = nearby[candidates.outside(where, nearby) & ~among(nearby, np.sort(already))]
    return rows


def _first(pos: Ints, count: NDArray[np.uint8] | None, slug_rank: Ints, idx: Ints, k: int, ctx: Moment) -> Ints:
    """The first k positions in the order (failures, distance, slug), without measuring or sorting them all: a
    partition on one key that never orders two positions against that order (a failure more outweighs any
    nearness, and nearness orders as distance does) keeps every position up to the k-th's key, ties included;
    only those few are measured, as the reference rules measure, and sorted. Without `count`, every position
    fails the same number of rules."""
    if len(pos) > 2 * k > 0:
        key = _farness(idx[pos], ctx)
        if count is not None:
            key += count[pos] * 4.0  # a cosine is within [-1, 1]
        pos = pos[key <= np.partition(key, k - 1)[k - 1] + 1e-12]
    rows = idx[pos]
    c = ctx.c
    failing = [0] * len(pos) if count is None else count[pos].tolist()
    places = zip(c.lon[rows].tolist(), c.lat[rows].tolist(), strict=True)
    distance = [0.0 if x != x else haversine_km(x, y, ctx.origin_lon, ctx.origin_lat) for x, y in places]
    order = sorted(zip(failing, distance, slug_rank[rows].tolist(), pos.tolist(), strict=True))
    return np.array([p for *_, p in order[:k]], dtype=np.int64)


def _farness(rows: Ints, ctx: Moment) -> Floats:
    """A number for each row that orders them as their distance from the origin does: minus the cosine of the
    angle between them at the Earth's centre (-1: the origin itself; a phone line, with no location, is as near as
    can be)."""
    farness: Floats = np.fmax(-(ctx.c.unit[rows] @ ctx.origin), -1.0)  # NaN (no location) -> -1
    return farness
