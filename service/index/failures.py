"""Which hard rules each row of a group fails, as one small integer a row (a bit per rule, BIT, in the reference
order), with how many rows each reason code excluded.

A group (masks.Rows) remembers its failures in parts, each with its counts by reason code: the person's rules
that read only the context, age, gender and s136 flags; the circumstances; whether each row is open when needed,
per minute; capacity, until a row changes or a "full until" passes. The needs rule and travel are worked out for
each search. A search ORs a few parts together, so counting by reason is a few dictionary additions. The masks are
masks.py's, the ones the ranking filters with.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache, cached_property

import numpy as np
from numpy.typing import NDArray

from service.domain.gap_words import RULE_CODES
from service.domain.geometry import haversine_km_many
from service.domain.model import Service
from service.domain.routing import HARD_RULES
from service.index.columns import FULL, Bits, Bools, ColumnValues, Floats, Ints
from service.index.masks import PROFILE_MASKS, Query, Rows, opening_allows, too_far, travel_minutes
from service.index.ranking import group_opening, open_when_needed_in
from service.index.timeline import Opening, Timeline

CATCHMENT = "catchment_contains_origin"
RULE_NAMES = tuple(rule.__name__ for rule in HARD_RULES)
CODES = {
    name: code for name, code in RULE_CODES.items() if name not in ("accepts_age", "circumstances_allow", CATCHMENT)
}
"""The reason code of each rule with one (gap_words.RULE_CODES; the two with two codes are SPLIT's)."""


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

    @cached_property
    def origin(self) -> Floats:
        """The origin on the unit sphere (as columns.unit)."""
        phi, lam = math.radians(self.origin_lat), math.radians(self.origin_lon)
        return np.array((math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi)))


def failures(rows: Rows, inside: bool, q: Query, ctx: Moment) -> tuple[Failures, list[Part]]:
    """Every rule for a group, as bits, with the counts by reason code of each part: the person's rules in three
    parts (those reading only the context, age, gender and s136 flags, and the circumstances, remembered as their
    masks are; the needs, worked out now), and whether each row is open when needed, remembered per minute;
    capacity remembered until a row changes or an `until` passes; travel worked out now."""
    opening = group_opening(rows, ctx.timeline, ctx.services, ctx.n, q)
    parts = [
        rows.remembered(
            ("steady_failures", q.context_bit, q.gender_bit, q.age, q.street_crisis, q.exceptional),
            lambda: _person(rows, q, STEADY),
        ),
        _unmet(rows, q),
        rows.remembered(("circumstance_failures", q.circumstances), lambda: _person(rows, q, ("circumstances_allow",))),
        rows.remembered(
            ("appropriate_adult_failures", q.appropriate_adult),
            lambda: _person(rows, q, ("appropriate_adult_only_when_required",)),
        ),
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
        tally += by_code(name, failed, total, rows.age_min, rows.required, q)
    return bits, tuple(tally)


def need_code(q: Query) -> str:
    """meets_a_need's reason code: with no need given, the person is not yet assessed (NO_NEED_GIVEN)."""
    return CODES["meets_a_need"] if q.needs else "NO_NEED_GIVEN"


def by_code(name: str, failed: Bools, total: int, age_min: Floats, required: Bits, q: Query) -> list[tuple[str, int]]:
    """How many of these rows (`failed`: the `total` that fail the rule) each of the rule's reason codes excluded:
    a rule with two codes as the reference rule chooses between them (SPLIT), by the rows' `age_min` and
    `required` circumstances."""
    match name:
        case "accepts_age":
            first = int(np.count_nonzero(failed & (age_min > q.age)))
        case "circumstances_allow":
            first = int(np.count_nonzero(failed & ((required & ~q.circumstances) != 0)))
        case "open_when_needed":
            return [(closed_code(q), total)]
        case "meets_a_need":
            return [(need_code(q), total)]
        case "catchment_contains_origin":
            return [("OUTSIDE_CATCHMENT", total)]
        case _:
            return [(CODES[name], total)]
    return [(code, n) for code, n in zip(SPLIT[name], (first, total - first), strict=True) if n]


def closed_code(q: Query) -> str:
    """open_when_needed's reason code: in the street a service must be open now; elsewhere within the window, which
    runs after the moment of release when that is the question."""
    if q.context == "street":
        return "CLOSED_NOW"
    return "CLOSED_AFTER_RELEASE" if q.release else "CLOSED_IN_WINDOW"


def _unmet(rows: Rows, q: Query) -> Part:
    """meets_a_need's failures, worked out for each search from the rows' need bits, a general entry point's as all
    of them (as masks.meets_a_need, in one step): the needs asked vary too much to remember each set of them, which
    would push out what is asked again."""
    if not q.needs:
        return _part("meets_a_need", need_code(q), ~rows.having("general", q.context_bit))
    met_here = rows.remembered(
        ("needs_unless_general", q.context_bit),
        lambda: np.where(rows.having("general", q.context_bit), EVERY_NEED, rows.needs),
    )
    return _part("meets_a_need", CODES["meets_a_need"], (met_here & q.needs) == 0)


EVERY_NEED = np.uint64(2**64 - 1)
"""A general entry point in the context counts as meeting every need."""


def _part(name: str, code: str, failed: Bools | None) -> Part:
    if failed is None:
        return None, ()
    total = int(np.count_nonzero(failed))
    return (failed * np.uint16(BIT[name]), ((code, total),)) if total else (None, ())


def _closed(rows: Rows, opening: Opening, q: Query, ctx: Moment) -> Part:
    """open_when_needed's failures: within the timeline, from the group's mask remembered per minute."""
    code = closed_code(q)
    if not ctx.timeline.covers(q.t):
        allowed = opening_allows(rows.immediate, opening, q)
        return _part("open_when_needed", code, None if allowed is None else ~allowed)
    mask = open_when_needed_in(rows, ctx.timeline, ctx.n, q)
    if mask is None:
        return None, ()
    minute = q.t if q.window % 60 else q.t // 60
    return rows.remembered(
        ("closed_failures", q.context, q.release, minute), lambda: _part("open_when_needed", code, ~mask)
    )


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


def first_failures(bits: Fails, age_min: Floats, required: Bits, q: Query) -> dict[str, int]:
    """How many rows fail each reason code first, counting each row once under the first rule it fails in the
    reference order (routing.HARD_RULES; a rule with two codes as the reference chooses between them), so that the
    counts add up to the rows (rows failing none count under BELOW_THE_CUT). `age_min` and `required` are the rows'."""
    lowest = (bits & (~bits + np.uint16(1))).astype(np.uint16)  # each row's lowest set bit: its first failed rule
    counts: dict[str, int] = {}
    if not (lowest != 0).all():
        counts["BELOW_THE_CUT"] = int(np.count_nonzero(lowest == 0))
    for value, total in zip(*np.unique(lowest[lowest != 0], return_counts=True), strict=True):
        name = failed_rules(int(value))[0]
        failed = lowest == value
        for code, n in by_code(name, failed, int(total), age_min, required, q):
            counts[code] = counts.get(code, 0) + n
    return counts


def row_codes(bits: int, q: Query, age_min: float = -math.inf, required: int = 0) -> list[str]:
    """The reason codes one row's failures were counted under (by_code's, for a row of its own)."""
    out: list[str] = []
    one, ages, circumstances = np.ones(1, dtype=bool), np.array([age_min]), np.array([required], dtype=np.uint64)
    for name in failed_rules(bits):
        out += [code for code, _ in by_code(name, one, 1, ages, circumstances, q)]
    return out
