"""The hard rules over many services at once: one mask function per rule, named as the reference rule in
service/domain/routing.py that it mirrors. A mask says, for each candidate row, whether the rule lets it through;
None means the rule cannot refuse anyone in this search (so nothing need be filtered).

Rules about the person read only the columns (`ProfileMask`); rules about the moment and the journey also read
the candidates' `Measures` (their capacity now, opening state and travel time), worked out once per search for the
few rows that are left by then. The ranking filters with them; an explanation counts and lists with the same ones.
The catchment rule's fast form is service/index/catchments.py, which finds the rows whose catchment holds a point
rather than testing each row.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal, TypeVar

import numpy as np

from service.domain.routing import ROAD_FACTOR, SPEED_KMH
from service.domain.types import Context
from service.index.bounded import ARRAY_OVERHEAD, ENTRY_OVERHEAD, array_bytes
from service.index.columns import FULL, UNKNOWN, Bits, Bools, ColumnValues, Floats, Ints
from service.index.timeline import Opening


@dataclass(frozen=True)
class Query:
    """A search as the masks read it: the person's codes already checked and turned into bits."""

    context: Context
    context_bit: int
    gender_bit: int
    age: float
    needs: np.uint64
    circumstances: np.uint64
    need_codes: tuple[str, ...]
    need_bits: tuple[int, ...]
    """One bit per need asked, in the order asked."""
    street_crisis: bool
    """In the street with a mental health crisis: the s136 rules about places of safety apply."""
    exceptional: bool
    """An imminent risk of serious harm: the only case in which an adult may be taken to a police station."""
    appropriate_adult: bool
    """PACE Code C requires an appropriate adult here (service/domain/appropriate_adult.py)."""
    t: float
    window: float
    """The detention window in seconds (custody and court: open within it)."""
    max_travel: int | None
    release: bool = False
    """Custody and court: `t` is the moment of release, and the window runs after it."""


@dataclass(frozen=True)
class Measures:
    """For the candidate rows `idx`: capacity now (an expired `until` reads as unknown), opening state, straight-line
    distance in km (NaN without a location) and travel minutes by road at the context's speed."""

    idx: Ints
    capacity: Ints
    opening: Opening
    distance: Floats
    travel: Floats

    def take(self, keep: Bools | Ints) -> Measures:
        return Measures(
            self.idx[keep], self.capacity[keep], self.opening.take(keep), self.distance[keep], self.travel[keep]
        )


def travel_minutes(distance: Floats, context: str) -> Floats:
    minutes: Floats = np.ceil(distance * ROAD_FACTOR / SPEED_KMH[context] * 60)
    return minutes


def capacity_at(c: ColumnValues, idx: Ints, t: float, any_until: bool) -> Ints:
    if not any_until:
        return c.capacity[idx]
    capacity: Ints = np.where(c.capacity_until[idx] <= t, UNKNOWN, c.capacity[idx])
    return capacity


# --- the person ---------------------------------------------------------------------------------------------

T = TypeVar("T")
MEMO_BYTES_PER_ROW = 48
"""What a group's remembered masks may hold, per row (a mask is a byte a row, a count of failures two): enough for
the masks a few profiles share, the least recently used forgotten first."""
MEMO_FLOOR = 4096
ROW_BYTES = 55
"""The bytes a row's gathered columns take in a group (Rows.of)."""


@dataclass(frozen=True, eq=False)
class Rows:
    """The columns the person's rules read, gathered for a group of rows once (and cached with them): the masks
    then read contiguous arrays, with no indexing per rule. A group also remembers the masks it has worked out,
    by what each reads of the query (an age, a gender, a need), so that a search with a profile like an earlier
    one's combines remembered masks rather than working them out again."""

    idx: Ints
    active: Bools
    contexts: Ints
    general: Ints
    age_min: Floats
    age_max: Floats
    genders: Ints
    needs: Bits
    required: Bits
    excluded: Bits
    place_of_safety: Bools
    police_station: Bools
    immediate: Bools
    appropriate_adult: Bools
    memo: OrderedDict[Hashable, Any] = field(default_factory=OrderedDict)
    memo_sizes: dict[Hashable, int] = field(default_factory=dict)
    spent: list[int] = field(default_factory=lambda: [0])
    """The bytes the remembered values hold (a list: the group itself is frozen)."""

    @property
    def memo_budget(self) -> int:
        return MEMO_FLOOR + MEMO_BYTES_PER_ROW * len(self.idx)

    def nbytes(self) -> int:
        """The most this group can ever hold: its gathered columns and its remembered values' budget."""
        return ROW_BYTES * len(self.idx) + 14 * ARRAY_OVERHEAD + self.memo_budget

    @cached_property
    def any_appropriate_adult(self) -> bool:
        return bool(self.appropriate_adult.any())

    @classmethod
    def of(cls, c: ColumnValues, idx: Ints) -> Rows:
        return cls(
            idx,
            c.active[idx],
            c.contexts[idx],
            c.general[idx],
            c.age_min[idx],
            c.age_max[idx],
            c.genders[idx],
            c.needs[idx],
            c.required[idx],
            c.excluded[idx],
            c.place_of_safety[idx],
            c.police_station[idx],
            c.immediate[idx],
            c.appropriate_adult[idx],
        )

    def remembered(self, key: Hashable, work: Callable[[], T], fresh: Callable[[T], bool] | None = None) -> T:
        """The mask, count or opening state under this key, worked out once and made read-only (shared by every
        search that asks the same); the least recently used makes room. None is not remembered. With `fresh`, a
        remembered value it rejects is worked out again."""
        memo, sizes = self.memo, self.memo_sizes
        found: T | None = memo.get(key)
        if found is not None and (fresh is None or fresh(found)):
            memo.move_to_end(key)
            return found
        if found is not None:
            del memo[key]
            self.spent[0] -= sizes.pop(key)
        found = work()
        arrays = _arrays(found)
        for values in arrays:
            values.flags.writeable = False
        charge = sum(array_bytes(a) for a in arrays) + ENTRY_OVERHEAD
        budget = self.memo_budget
        if charge > budget:
            return found
        self.spent[0] += charge
        while self.spent[0] > budget:
            oldest, _ = memo.popitem(last=False)
            self.spent[0] -= sizes.pop(oldest)
        memo[key] = found
        sizes[key] = charge
        return found

    def having(self, column: Literal["contexts", "general", "genders", "needs"], bit: int) -> Bools:
        """Rows whose bit set `column` holds this bit."""
        return self.remembered((column, bit), lambda: (getattr(self, column) & bit) != 0)


def _arrays(value: object) -> list[np.ndarray[Any, Any]]:
    """The arrays a remembered value holds (itself, an opening state's, or a tuple's)."""
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, Opening):
        return [value.open_now, value.closes, value.next_open]
    if isinstance(value, tuple):
        return [a for v in value for a in _arrays(v)]
    return []


ProfileMask = Callable[[Rows, Query], Bools | None]


def is_active(r: Rows, q: Query) -> Bools | None:
    return r.active


def serves_context(r: Rows, q: Query) -> Bools | None:
    return r.having("contexts", q.context_bit)


def accepts_age(r: Rows, q: Query) -> Bools | None:
    return r.remembered(("age", q.age), lambda: (r.age_min <= q.age) & (q.age < r.age_max))


def place_of_safety_accepts_age(r: Rows, q: Query) -> Bools | None:
    if not q.street_crisis:
        return None
    age_ok = accepts_age(r, q)
    assert age_ok is not None
    return r.remembered(("place_of_safety_age", q.age), lambda: ~(r.place_of_safety & ~age_ok))


def _not_a_police_station(r: Rows) -> Bools:
    return r.remembered("not_police_station", lambda: ~r.police_station)


def police_station_never_for_under_18s(r: Rows, q: Query) -> Bools | None:
    return None if q.age >= 18 else _not_a_police_station(r)


def police_station_only_in_exceptional_cases(r: Rows, q: Query) -> Bools | None:
    return None if q.age < 18 or q.exceptional else _not_a_police_station(r)


def accepts_gender(r: Rows, q: Query) -> Bools | None:
    return r.having("genders", q.gender_bit)


def meets_a_need(r: Rows, q: Query) -> Bools | None:
    """Meets one of the person's needs (each need's rows remembered apart), or is a general entry point here."""
    mask = r.having("general", q.context_bit)
    for bit in q.need_bits:
        mask = mask | r.having("needs", bit)
    return mask


def appropriate_adult_only_when_required(r: Rows, q: Query) -> Bools | None:
    if q.appropriate_adult or not r.any_appropriate_adult:  # nothing to refuse
        return None
    return r.remembered("not_appropriate_adult", lambda: ~r.appropriate_adult)


def circumstances_allow(r: Rows, q: Query) -> Bools | None:
    def work() -> Bools:
        mask: Bools = ((r.required & ~q.circumstances) == 0) & ((r.excluded & q.circumstances) == 0)
        return mask

    return r.remembered(("circumstances", q.circumstances), work)


def passing(r: Rows, q: Query, names: tuple[str, ...]) -> Bools | None:
    """Rows passing all these person's rules (None: all of them)."""
    ok: Bools | None = None
    for name in names:
        mask = PROFILE_MASKS[name](r, q)
        if mask is not None:
            ok = mask if ok is None else ok & mask
    return ok


def eligible(r: Rows, q: Query) -> Bools | None:
    """Rows passing every rule of FILTER_ORDER: the rules about the person's needs and circumstances, and the
    rest (age, gender and the s136 rules, which read only the age, the gender and two flags) remembered as one."""
    steady = r.remembered(
        ("steady", q.context_bit, q.gender_bit, q.age, q.street_crisis, q.exceptional),
        lambda: _every(r, q, STEADY_RULES),
    )
    varied = passing(r, q, VARIED_RULES)
    return steady if varied is None else varied & steady


def _every(r: Rows, q: Query, names: tuple[str, ...]) -> Bools:
    ok = passing(r, q, names)
    return np.ones(len(r.idx), dtype=bool) if ok is None else ok


# --- the moment and the journey -----------------------------------------------------------------------------

MomentMask = Callable[[ColumnValues, Measures, Query], Bools | None]


def has_capacity(c: ColumnValues, m: Measures, q: Query) -> Bools | None:
    mask: Bools = m.capacity != FULL
    return mask


def open_when_needed(c: ColumnValues, m: Measures, q: Query) -> Bools | None:
    """Immediate-access services must be open now (street) or within the detention window (custody, court)."""
    return opening_allows(c.immediate[m.idx], m.opening, q)


def opening_allows(immediate: Bools, opening: Opening, q: Query) -> Bools | None:
    """open_when_needed for rows with these access modes and opening states (a group's, remembered per minute)."""
    if q.context == "community":
        return None
    waiting = ~immediate | opening.open_now
    if q.context == "street":
        return waiting
    mask: Bools = waiting | (opening.next_open <= q.t + q.window)
    return mask


def within_travel_time(c: ColumnValues, m: Measures, q: Query) -> Bools | None:
    if q.max_travel is None:
        return None
    return ~too_far(c.travel_limited[m.idx], m.travel, q.max_travel)


def too_far(travel_limited: Bools, travel: Floats, max_travel: int) -> Bools:
    """Rows a travel limit refuses (within_travel_time's failures)."""
    far: Bools = travel_limited & (travel > max_travel)
    return far


# In the reference order (routing.HARD_RULES), so that a service's reasons are listed in the same order.
PROFILE_MASKS: dict[str, ProfileMask] = {
    "is_active": is_active,
    "serves_context": serves_context,
    "accepts_age": accepts_age,
    "place_of_safety_accepts_age": place_of_safety_accepts_age,
    "police_station_never_for_under_18s": police_station_never_for_under_18s,
    "police_station_only_in_exceptional_cases": police_station_only_in_exceptional_cases,
    "accepts_gender": accepts_gender,
    "meets_a_need": meets_a_need,
    "appropriate_adult_only_when_required": appropriate_adult_only_when_required,
    "circumstances_allow": circumstances_allow,
}
READS: dict[str, Callable[[Query], Hashable]] = {
    "is_active": lambda q: (),
    "serves_context": lambda q: q.context_bit,
    "accepts_age": lambda q: q.age,
    "place_of_safety_accepts_age": lambda q: (q.street_crisis, q.age),
    "police_station_never_for_under_18s": lambda q: q.age < 18,
    "police_station_only_in_exceptional_cases": lambda q: (q.age < 18, q.exceptional),
    "accepts_gender": lambda q: q.gender_bit,
    "meets_a_need": lambda q: (q.needs, q.context_bit),
    "appropriate_adult_only_when_required": lambda q: (q.appropriate_adult, q.release),
    "circumstances_allow": lambda q: q.circumstances,
}
"""What each of the person's rules reads of the query: two searches alike in it get the same mask."""
MOMENT_MASKS: dict[str, MomentMask] = {
    "has_capacity": has_capacity,
    "open_when_needed": open_when_needed,
    "within_travel_time": within_travel_time,
}
FILTER_ORDER = (
    "serves_context",
    "meets_a_need",
    "appropriate_adult_only_when_required",
    "circumstances_allow",
    "accepts_gender",
    "accepts_age",
    "place_of_safety_accepts_age",
    "police_station_never_for_under_18s",
    "police_station_only_in_exceptional_cases",
)
"""The rules the ranking applies to a group of rows. (Being active is applied when a group is gathered: a search's
groups hold the rows of every context, so that one group serves all four.)"""
VARIED_RULES = ("meets_a_need", "appropriate_adult_only_when_required", "circumstances_allow")
STEADY_RULES = tuple(name for name in FILTER_ORDER if name not in VARIED_RULES)
