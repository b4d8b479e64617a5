"""Why the rest of the directory was not offered, with the same masks the ranking filters with.

Every service is counted: those whose catchment holds the origin by each rule they fail, the rest as outside
their catchment. Rules are worked out for three groups of rows, each gathered once and cached with the masks it
has worked out (ranking.Candidates): the rows listing an area that holds the origin, the rows drawn around it, and
the rows located within NEAR_KM of it whose catchment does not hold it (a service just over a catchment border is
a near miss worth showing; one across the country is not). Only the most relevant few are listed, in words:
eligible ones left below the cut, then those failing the fewest rules, nearest first; distances are worked out
only for the rows that could be listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from service.domain.answer import Excluded, Explanation
from service.domain.geometry import haversine_km_many
from service.domain.model import Service
from service.domain.routing import HARD_RULES, Situation
from service.domain.schedule import OpeningState
from service.index.answers import Answers
from service.index.columns import FULL, Bools, ColumnValues, Floats, Ints
from service.index.masks import PROFILE_MASKS, READS, Query, Rows, capacity_at, opening_allows, too_far, travel_minutes
from service.index.places import Resolution
from service.index.ranking import (
    NEAR_KM,
    Candidates,
    among,
    eligible_rows,
    group_opening,
    judged,
    open_when_needed_in,
)
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


@dataclass(frozen=True)
class Failures:
    """For one group of rows: which rules each fails (reference order; rules no row fails are left out), how many,
    and the opening state it was judged with."""

    idx: Ints
    rules: tuple[tuple[str, Bools], ...]
    count: Ints
    opening: Opening


def failures(rows: Rows, inside: bool, q: Query, ctx: Moment) -> Failures:
    """Every rule for a group: the person's from the group's remembered masks, whether each row is open when needed
    remembered per minute, capacity and travel worked out now."""
    opening = group_opening(rows, ctx.timeline, ctx.services, ctx.n, q)
    capacity = capacity_at(ctx.c, rows.idx, q.t, ctx.any_until)
    rules: list[tuple[str, Bools]] = []
    for name in RULE_NAMES:
        failed: Bools | None
        match name:
            case "catchment_contains_origin":
                failed = None if inside else np.ones(len(rows.idx), dtype=bool)
            case "has_capacity":
                failed = capacity == FULL
            case "open_when_needed":
                failed = _closed(rows, opening, q, ctx)
            case "within_travel_time":
                failed = _too_far(rows, q, ctx)
            case _:
                failed = _failing(rows, name, q)
        if failed is not None:
            rules.append((name, failed))
    steady = rows.remembered(
        ("failing_count", q.context_bit, q.gender_bit, q.age, q.street_crisis, q.exceptional),
        lambda: _count((f for name, f in rules if name in STEADY), len(rows.idx)),
    )
    count = steady + _count((f for name, f in rules if name not in STEADY), len(rows.idx))
    return Failures(idx=rows.idx, rules=tuple(rules), count=count, opening=opening)


def _closed(rows: Rows, opening: Opening, q: Query, ctx: Moment) -> Bools | None:
    """open_when_needed's failures: within the timeline, the negation of the group's remembered mask."""
    if not ctx.timeline.covers(q.t):
        return _negated(opening_allows(rows.immediate, opening, q))
    mask = open_when_needed_in(rows, ctx.timeline, ctx.n, q)
    if mask is None:
        return None
    return rows.remembered(("closed", q.context, q.t if q.window % 60 else q.t // 60), lambda: ~mask)


STEADY = frozenset(
    (
        "is_active",
        "serves_context",
        "accepts_age",
        "place_of_safety_accepts_age",
        "police_station_never_for_under_18s",
        "police_station_only_in_exceptional_cases",
        "accepts_gender",
    )
)
"""The person's rules that read only the context, the age, the gender and the s136 flags: a group remembers how
many of them each row fails."""


def _count(masks: Iterable[Bools], n: int) -> Ints:
    total: Ints | None = None
    for mask in masks:
        total = mask.astype(np.int64) if total is None else total + mask
    return np.zeros(n, dtype=np.int64) if total is None else total


def _failing(rows: Rows, name: str, q: Query) -> Bools | None:
    """A person's rule's failures: the negation of its mask, remembered as the mask is (None: it fails no row)."""
    return rows.remembered(("failing", name, READS[name](q)), lambda: _negated(PROFILE_MASKS[name](rows, q)))


def _negated(mask: Bools | None) -> Bools | None:
    return None if mask is None else ~mask


def _too_far(rows: Rows, q: Query, ctx: Moment) -> Bools | None:
    if q.max_travel is None:
        return None
    c = ctx.c
    distance = haversine_km_many(c.lon[rows.idx], c.lat[rows.idx], ctx.origin_lon, ctx.origin_lat)
    return too_far(c.travel_limited[rows.idx], travel_minutes(distance, q.context), q.max_travel)


@dataclass(frozen=True)
class Moment:
    """What a group's moment rules read besides the group and the query."""

    c: ColumnValues
    timeline: Timeline
    services: Sequence[Service | None]
    n: int
    any_until: bool
    origin_lon: float
    origin_lat: float


def reason_counts(r: Rows, f: Failures, q: Query, counts: dict[str, int]) -> None:
    """Add how many of a group's rows each reason code excluded (for the person's rules, remembered as their masks
    are). Two rules have two codes; the reference's choice is mirrored."""
    for name, failed in f.rules:
        if name in PROFILE_MASKS:
            codes = SPLIT.get(name) or (CODES[name],)
            for code, total in zip(codes, _tally(r, name, failed, q).tolist(), strict=True):
                if total:
                    counts[code] = counts.get(code, 0) + total
            continue
        code = (
            CODES[name] if name != "open_when_needed" else "CLOSED_NOW" if q.context == "street" else "CLOSED_IN_WINDOW"
        )
        if total := int(np.count_nonzero(failed)):
            counts[code] = counts.get(code, 0) + total


SPLIT = {
    "accepts_age": ("AGE_BELOW_MIN", "AGE_ABOVE_MAX"),
    "circumstances_allow": ("MISSING_CIRCUMSTANCE", "EXCLUDED_CIRCUMSTANCE"),
}
"""The person's rules with two reason codes, as the reference rule chooses between them."""


def _tally(r: Rows, name: str, failed: Bools, q: Query) -> Ints:
    """How many rows a person's rule excluded under each of its codes, remembered as its mask is."""
    return r.remembered(("tally", name, READS[name](q)), lambda: _tallied(r, name, failed, q))


def _tallied(r: Rows, name: str, failed: Bools, q: Query) -> Ints:
    match name:
        case "accepts_age":
            first = failed & (r.age_min > q.age)
        case "circumstances_allow":
            first = failed & ((r.required & ~q.circumstances) != 0)
        case _:
            return np.array([np.count_nonzero(failed)], dtype=np.int64)
    below = int(np.count_nonzero(first))
    return np.array([below, int(np.count_nonzero(failed)) - below], dtype=np.int64)


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
    ctx = Moment(c, timeline, services, columns.n, columns.any_until, where.point.lon, where.point.lat)
    listing, drawn = candidates.explaining(where)
    groups = [failures(listing, True, q, ctx), failures(drawn, True, q, ctx)]
    counts: dict[str, int] = {}
    for rows, f in zip((listing, drawn), groups, strict=True):
        reason_counts(rows, f, q, counts)
    inside = len(listing.idx) + len(drawn.idx)
    if live - inside:
        counts["OUTSIDE_CATCHMENT"] = live - inside
    groups.append(_outside_but_eligible(candidates, timeline, services, where, q))
    count = np.concatenate([f.count for f in groups])
    idx = np.concatenate([f.idx for f in groups])
    passed = np.flatnonzero(count == 0)
    was_offered = among(idx[passed], np.sort(offered))
    if (below_total := len(passed) - int(was_offered.sum())) > 0:
        counts["BELOW_THE_CUT"] = below_total
    near_total = int(np.count_nonzero(count == 1))
    if _listing_reaches_beyond_one_failure(count, len(offered), listed):
        # Few services fail at most one rule: the list goes on to those failing more, nearby ones outside their
        # catchment included, so their rules are worked out too (a small or sparse directory). They all fail two
        # rules or more, so the positions found so far stand.
        near = Rows.of(c, _outside_nearby(candidates, where, groups[2].idx))
        groups.append(failures(near, False, q, ctx))
        count = np.concatenate((count, groups[-1].count))
        idx = np.concatenate((idx, groups[-1].idx))
    ex_pos, enough = _first_by_count(count, passed[~was_offered], passed[was_offered], listed)
    near_pos = np.flatnonzero(count == 1)
    distance = _distances(ex_pos if enough >= 1 else np.concatenate((ex_pos, near_pos)), idx, ctx)
    ex_pos = _first(ex_pos, count, distance, slug_rank, idx, listed)
    near_list = _first(near_pos, count, distance, slug_rank, idx, listed)
    starts = np.cumsum([0] + [len(f.idx) for f in groups])
    built: dict[int, Excluded] = {}
    reads = {name: read(q) for name, read in READS.items()}

    def entry(j: int) -> Excluded:
        found = built.get(j)
        if found is None:
            g = int(np.searchsorted(starts, j, side="right")) - 1
            f, k = groups[g], j - int(starts[g])
            row = int(idx[j])
            failed = tuple(name for name, which in f.rules if which[k]) or ("below_the_cut",)

            def state() -> OpeningState:
                return opening_state(
                    bool(f.opening.open_now[k]),
                    bool(c.open_24_7[row]),
                    float(f.opening.closes[k]),
                    float(f.opening.next_open[k]),
                )

            found = built[j] = answers.excluded(row, failed, situation, state, reads)
        return found

    explanation = Explanation(
        excluded_total=live - len(offered),
        near_misses_total=near_total,
        by_reason=counts,
        listed=listed,
        near_km=NEAR_KM,
    )
    return (
        tuple(entry(j) for j in ex_pos.tolist()),
        tuple(entry(j) for j in near_list.tolist()),
        explanation,
    )


def _outside_but_eligible(
    candidates: Candidates, timeline: Timeline, services: Sequence[Service | None], where: Resolution, q: Query
) -> Failures:
    """Services within NEAR_KM of the origin that fail only the catchment rule: the ranking's own filters over the
    rows located near the origin (each cell's group cached, with its masks), then the catchment and the distance
    for the few left."""
    columns = candidates.columns
    idx = eligible_rows([candidates.nearby_outside(where, q)], timeline, columns.n, q)
    if len(drawn := candidates.drawn(where.point)):
        idx = idx[~among(idx, drawn)]
    m = judged(columns, timeline, services, idx, q, where.point)
    m = m.take(np.flatnonzero(m.distance <= NEAR_KM))
    return Failures(
        idx=m.idx,
        rules=((CATCHMENT, np.ones(len(m.idx), dtype=bool)),),
        count=np.ones(len(m.idx), dtype=np.int64),
        opening=m.opening,
    )


def _outside_nearby(candidates: Candidates, where: Resolution, already: Ints) -> Ints:
    """Every row located within NEAR_KM of the origin whose catchment does not hold it, but those in `already`."""
    c = candidates.columns.values
    nearby = candidates.catchments.located_near(where.point, NEAR_KM, c)
    rows: Ints = nearby[candidates.outside(where, nearby) & ~among(nearby, np.sort(already))]
    return rows


def _listing_reaches_beyond_one_failure(count: Ints, offered: int, listed: int) -> bool:
    return int(np.count_nonzero(count <= 1)) - offered < listed


def _first_by_count(count: Ints, below: Ints, offered: Ints, listed: int) -> tuple[Ints, int]:
    """Positions that could be among the first `listed` exclusions by failure count: every position failing no
    more rules than the `listed`-th does (offered ones left out); and that number of failures (when it is 1 or
    more, every near miss is among the positions)."""
    if not listed or not len(count):
        return below[:0], 0
    tally = np.bincount(count)
    tally[0] -= len(offered)
    enough = int(np.searchsorted(np.cumsum(tally), listed))
    chosen = np.flatnonzero((count <= enough) & (count > 0))
    return (np.concatenate((below, chosen)) if len(below) else chosen), enough


def _first(pos: Ints, count: Ints, distance: Floats, slug_rank: Ints, idx: Ints, k: int) -> Ints:
    """The first k positions in the order (failures, distance, slug), without sorting them all: a partition on one
    key that never orders two positions against that order (a failure more always outweighs any distance) keeps
    every position up to the k-th's key, ties included, and only those are sorted."""
    if len(pos) > 4 * k > 0:
        key = count[pos] * 1e5 + distance[pos]  # no distance on Earth reaches 100,000 km
        pos = pos[key <= np.partition(key, k - 1)[k - 1]]
    return pos[np.lexsort((slug_rank[idx[pos]], distance[pos], count[pos]))][:k]


def _distances(pos: Ints, idx: Ints, ctx: Moment) -> Floats:
    """Distances from the origin for the rows at these positions (a phone line is as near as can be: 0), and 0
    for the rest, which are never listed."""
    distance = np.zeros(len(idx))
    if len(pos):
        rows = idx[pos]
        c = ctx.c
        distance[pos] = np.nan_to_num(haversine_km_many(c.lon[rows], c.lat[rows], ctx.origin_lon, ctx.origin_lat))
    return distance
