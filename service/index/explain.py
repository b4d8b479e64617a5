"""Why the rest of the directory was not offered, with the same masks the ranking filters with.

Every service is counted: those whose catchment holds the origin by each rule they fail, the rest as outside
their catchment. Rules are worked out for the candidates and for services located within NEAR_KM of the origin
(a service just over a catchment border is a near miss worth showing; one across the country is not). Only the
most relevant few are listed, in words: eligible ones left below the cut, then those failing the fewest rules,
nearest first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from service.domain.answer import Excluded, Explanation
from service.domain.model import Service
from service.domain.routing import HARD_RULES, Situation
from service.index.answers import Answers
from service.index.columns import Bools, ColumnValues, Ints
from service.index.masks import MOMENT_MASKS, PROFILE_MASKS, Measures, Query, Rows
from service.index.places import Resolution
from service.index.ranking import Candidates, measure
from service.index.timeline import Timeline, opening_state

NEAR_KM = 10.0
CATCHMENT = "catchment_contains_origin"


@dataclass(frozen=True)
class Failures:
    """For each examined row (m.idx), which rules it fails, in the reference order."""

    m: Measures
    rules: tuple[tuple[str, Bools], ...]
    count: Ints


def failures(c: ColumnValues, m: Measures, q: Query, outside: Bools) -> Failures:
    rules: list[tuple[str, Bools]] = []
    rows = Rows.of(c, m.idx)
    for rule in HARD_RULES:
        name = rule.__name__
        if name == CATCHMENT:
            rules.append((name, outside))
            continue
        mask = PROFILE_MASKS[name](rows, q) if name in PROFILE_MASKS else MOMENT_MASKS[name](c, m, q)
        if mask is not None:
            rules.append((name, ~mask))
    count = np.zeros(len(m.idx), dtype=np.int64)
    for _, failed in rules:
        count += failed
    return Failures(m=m, rules=tuple(rules), count=count)


def reason_counts(c: ColumnValues, f: Failures, q: Query, outside_total: int, below: int) -> dict[str, int]:
    """How many services each reason code excluded. Two rules have two codes; the reference's choice is mirrored."""
    idx = f.m.idx
    counts: dict[str, int] = {}
    inside = ~f.rules[[n for n, _ in f.rules].index(CATCHMENT)][1]
    for name, failed in f.rules:
        failed = failed & inside
        match name:
            case "catchment_contains_origin":
                continue
            case "accepts_age":
                low = c.age_min[idx] > q.age
                split = {"AGE_BELOW_MIN": failed & low, "AGE_ABOVE_MAX": failed & ~low}
            case "circumstances_allow":
                missing = (c.required[idx] & ~q.circumstances) != 0
                split = {"MISSING_CIRCUMSTANCE": failed & missing, "EXCLUDED_CIRCUMSTANCE": failed & ~missing}
            case "open_when_needed":
                split = {"CLOSED_NOW" if q.context == "street" else "CLOSED_IN_WINDOW": failed}
            case _:
                split = {CODES[name]: failed}
        for code, which in split.items():
            if total := int(which.sum()):
                counts[code] = total
    if outside_total:
        counts["OUTSIDE_CATCHMENT"] = outside_total
    if below:
        counts["BELOW_THE_CUT"] = below
    return counts


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
    inside = candidates.everywhere(where)
    nearby = candidates.catchments.located_near(where.point, NEAR_KM, c)
    mark = np.zeros(columns.n, dtype=bool)
    mark[inside] = True
    outside_nearby = nearby[~mark[nearby]]
    idx = np.concatenate((inside, outside_nearby))
    outside = np.zeros(len(idx), dtype=bool)
    outside[len(inside) :] = True
    m = measure(columns, timeline, services, idx, q, where.point)
    f = failures(c, m, q, outside)
    mark[:] = False
    mark[offered] = True
    was_offered = mark[idx]
    below = (f.count == 0) & ~was_offered
    counts = reason_counts(c, f, q, live - len(inside), int(below.sum()))
    distance = np.nan_to_num(m.distance, nan=0.0)  # a phone line is as near as can be
    rank = slug_rank[idx]
    ex_pos = np.flatnonzero(~was_offered)
    ex_pos = ex_pos[np.lexsort((rank[ex_pos], distance[ex_pos], f.count[ex_pos]))][:listed]
    near_pos = np.flatnonzero(f.count == 1)
    near_pos = near_pos[np.lexsort((rank[near_pos], distance[near_pos]))][:listed]
    built: dict[int, Excluded] = {}

    def entry(j: int) -> Excluded:
        found = built.get(j)
        if found is None:
            row = int(idx[j])
            failed = [name for name, which in f.rules if which[j]] or ["below_the_cut"]
            state = opening_state(
                bool(m.opening.open_now[j]),
                bool(c.open_24_7[row]),
                float(m.opening.closes[j]),
                float(m.opening.next_open[j]),
            )
            found = built[j] = answers.excluded(row, failed, situation, state)
        return found

    explanation = Explanation(
        excluded_total=live - len(offered),
        near_misses_total=int((f.count == 1).sum()),
        by_reason=counts,
        listed=listed,
        near_km=NEAR_KM,
    )
    return (
        tuple(entry(j) for j in ex_pos.tolist()),
        tuple(entry(j) for j in near_pos.tolist()),
        explanation,
    )
