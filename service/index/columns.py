"""The directory as columns: one row per service, one numpy array per attribute a rule or the ranking reads.

`column_values` turns services into rows (a pure function, run off the event loop); `Columns.put` writes rows in
place, so a change costs time in proportion to the services it touched. Rows of services that left the index are
dead (`live` false) and reused. `SlugOrder` keeps a sortable number per row that follows slug order, the last
tie-break of the ranking, without renumbering every row when one slug arrives.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, get_args

import numpy as np
from numpy.typing import NDArray

from service.domain.errors import FieldProblem
from service.domain.model import Service, Taxonomies
from service.domain.pathway import ROLES, role_of
from service.domain.reach import reachable_by_public
from service.domain.routing import (
    CAPACITY_ORDER,
    IMMEDIATE_ACCESS,
    NO_PRIORITY,
    catchment_specificity,
    is_appropriate_adult_scheme,
    is_needs_finder,
    is_police_station_place_of_safety,
    is_tailored,
)
from service.domain.schedule import LONDON
from service.domain.types import CapacityStatus, ServiceKind

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]
Bits = NDArray[np.uint64]

CONTEXT_BITS: dict[str, int] = {"custody": 1, "street": 2, "court": 4, "community": 8}
EVERY_CONTEXT = sum(CONTEXT_BITS.values())
ROLE_BITS: dict[str, int] = {role: 1 << i for i, role in enumerate(ROLES)}
"""A group pathway takes its group whatever their needs, in every context it serves (masks.meets_a_need)."""
GENDER_BITS: dict[str, int] = {"female": 1, "male": 2, "non_binary": 4, "other": 8, "not_stated": 16}
ALL_GENDERS = 31
KINDS: tuple[str, ...] = get_args(ServiceKind)
FULL = CAPACITY_ORDER["full"]
UNKNOWN = CAPACITY_ORDER["unknown"]
CAPACITY_NAMES: dict[int, CapacityStatus] = {0: "available", 1: "unknown", 2: "limited", 3: "full"}


def bits(codes: Iterable[str], table: dict[str, int]) -> int:
    mask = 0
    for code in codes:
        mask |= table[code]
    return mask


@dataclass(frozen=True)
class Vocabulary:
    """The need and circumstance codes as bits, and the kinds of the areas, fixed for the life of an index."""

    need_bits: dict[str, int]
    circ_bits: dict[str, int]
    need_labels: dict[str, str]
    area_kinds: dict[str, str]

    @classmethod
    def of(cls, vocab: Taxonomies, area_kinds: dict[str, str]) -> Vocabulary:
        if len(vocab.needs.terms) > 64 or len(vocab.circumstances.terms) > 64:
            raise ValueError("the index holds at most 64 needs and 64 circumstances")
        return cls(
            need_bits={t.code: 1 << i for i, t in enumerate(vocab.needs.terms)},
            circ_bits={t.code: 1 << i for i, t in enumerate(vocab.circumstances.terms)},
            need_labels={t.code: t.label for t in vocab.needs.terms},
            area_kinds=area_kinds,
        )


def unknown_codes(
    vocab: Vocabulary, needs: Sequence[str], circumstances: Sequence[str], field: str = "person"
) -> list[FieldProblem]:
    """Each need or circumstance code the vocabulary does not hold, named as `{field}.needs[i]` and so on."""
    return [
        FieldProblem(field=f"{field}.needs[{i}]", reason=f"unknown need {code!r}")
        for i, code in enumerate(needs)
        if code not in vocab.need_bits
    ] + [
        FieldProblem(field=f"{field}.circumstances[{i}]", reason=f"unknown circumstance {code!r}")
        for i, code in enumerate(circumstances)
        if code not in vocab.circ_bits
    ]


def until_epoch(service: Service) -> float:
    """Seconds since 1970 of a capacity `until`: none is never; one stored without a zone is Europe/London, and one
    too far out for the arithmetic is simply long ago or far ahead."""
    value = service.capacity.until
    if value is None:
        return math.inf
    try:
        return (value if value.tzinfo is not None else value.replace(tzinfo=LONDON)).timestamp()
    except (OverflowError, ValueError):
        return -math.inf if value.year < 1970 else math.inf


@dataclass
class ColumnValues:
    """One array per attribute, all of the same length (a block of new rows, or every row of the index)."""

    live: Bools
    active: Bools
    contexts: Ints
    general: Ints
    """The contexts in which it passes the needs rule whatever the needs (routing.meets_a_need)."""
    seeks: Ints
    """The contexts in which it passes the needs rule only as a finder of its cohort's needs (routing.is_needs_finder,
    not routing.takes_any_need): with needs given and none met, it comes after the rest (found_for_cohort_only)."""
    age_min: Floats
    age_max: Floats
    genders: Ints
    needs: Bits
    fallback_needs: Bits
    fallback_steps: Bits
    """The steps this row is the catch-all for (ROLE_BITS)."""
    required: Bits
    excluded: Bits
    place_of_safety: Bools
    police_station: Bools
    """A place of safety at a police station (the s136 rules)."""
    capacity: Ints
    capacity_until: Floats
    static_full: Bools
    """Full with no `until`: full at any moment, so left out before anything else is worked out."""
    priority: Ints
    tailored: Bools
    standing: Ints
    """The ranking's leading key before the search's part: priority << 8 | 63 << 2 | not tailored << 1 (the search
    subtracts the needs met << 2 and adds whether it is closed now)."""
    kind: Ints
    role: Ints
    """The pathway role (its position in pathway.ROLES)."""
    appropriate_adult: Bools
    """An appropriate adult scheme (its role): offered only where PACE Code C requires one, whatever the needs."""
    specificity: Ints
    """How local the catchment is (routing.catchment_specificity): local before national when all else ties."""
    immediate: Bools
    travel_limited: Bools
    lon: Floats
    lat: Floats
    unit: NDArray[np.float64]
    """The location as a point on the unit sphere, one row of three (NaN without one): the nearer two places are
    on the ground, the larger the dot product of their points, so nearness can be compared without trigonometry."""
    open_24_7: Bools
    radius_km: Floats
    """The radius of a radius catchment (NaN for other catchments)."""
    public: Bools
    """A member of the public can reach it themselves (domain/reach.py): the only rows a public-only search sees
    (candidates.Candidates made with `public`)."""

    def __len__(self) -> int:
        return len(self.live)


def column_values(services: Sequence[Service], vocab: Vocabulary) -> ColumnValues:
    """The rows for these services, in their order."""
    s = services

    def array(values: Iterable[object], dtype: type) -> Any:  # the column's own dtype
        return np.fromiter(values, dtype=dtype, count=len(s))

    f8, i8, u8 = np.float64, np.int64, np.uint64
    police = array((is_police_station_place_of_safety(x) for x in s), bool)
    capacity = array((CAPACITY_ORDER[x.capacity.status] for x in s), i8)
    until = array((until_epoch(x) for x in s), f8)
    priority = array((x.pathway_priority or NO_PRIORITY for x in s), i8)
    tailored = array((is_tailored(x) for x in s), bool)
    lon = array((x.location.lon if x.location else math.nan for x in s), f8)
    lat = array((x.location.lat if x.location else math.nan for x in s), f8)
    phi, lam = np.radians(lat), np.radians(lon)
    return ColumnValues(
        live=np.ones(len(s), dtype=bool),
        active=array((x.status == "active" for x in s), bool),
        contexts=array((bits(x.contexts, CONTEXT_BITS) for x in s), i8),
        general=array(
            (
                EVERY_CONTEXT
                if x.group_pathway or is_appropriate_adult_scheme(x) or is_needs_finder(x)
                else bits(x.general_entry_for, CONTEXT_BITS)
                for x in s
            ),
            i8,
        ),
        seeks=array(
            (
                0
                if x.group_pathway or is_appropriate_adult_scheme(x) or not is_needs_finder(x)
                else EVERY_CONTEXT & ~bits(x.general_entry_for, CONTEXT_BITS)
                for x in s
            ),
            i8,
        ),
        age_min=array((-math.inf if x.eligibility.age.min is None else x.eligibility.age.min for x in s), f8),
        age_max=array((math.inf if x.eligibility.age.max is None else x.eligibility.age.max for x in s), f8),
        genders=array((bits(x.eligibility.genders, GENDER_BITS) or ALL_GENDERS for x in s), i8),
        needs=array((bits(x.eligibility.needs, vocab.need_bits) for x in s), u8),
        fallback_needs=array((bits(x.fallback_for_needs, vocab.need_bits) for x in s), u8),
        fallback_steps=array((bits(x.fallback_for_steps, ROLE_BITS) for x in s), u8),
        required=array((bits(x.eligibility.circumstances_required, vocab.circ_bits) for x in s), u8),
        excluded=array((bits(x.eligibility.circumstances_excluded, vocab.circ_bits) for x in s), u8),
        place_of_safety=array((x.kind == "place_of_safety" for x in s), bool),
        police_station=police,
        capacity=capacity,
        capacity_until=until,
        static_full=(capacity == FULL) & ~np.isfinite(until),
        priority=priority,
        tailored=tailored,
        standing=(priority << 8) | (63 << 2) | ((~tailored).astype(i8) << 1),
        kind=array((KINDS.index(x.kind) for x in s), i8),
        role=array((ROLES.index(role_of(x.kind, x.pathway_role)) for x in s), i8),
        appropriate_adult=array((is_appropriate_adult_scheme(x) for x in s), bool),
        specificity=array((catchment_specificity(x.catchment, vocab.area_kinds) for x in s), i8),
        immediate=array((not IMMEDIATE_ACCESS.isdisjoint(x.access_modes) for x in s), bool),
        travel_limited=array(
            (
                x.location is not None and "outreach" not in x.access_modes and not set(x.access_modes) <= {"phone"}
                for x in s
            ),
            bool,
        ),
        lon=lon,
        lat=lat,
        unit=np.column_stack((np.cos(phi) * np.cos(lam), np.cos(phi) * np.sin(lam), np.sin(phi))),
        open_24_7=array((x.schedule.open_24_7 for x in s), bool),
        radius_km=array((getattr(x.catchment, "km", math.nan) for x in s), f8),
        public=array((reachable_by_public(x) for x in s), bool),
    )


class Columns:
    """Every row of the index; `n` rows are in use (live or dead), the arrays hold room for more."""

    def __init__(self, values: ColumnValues) -> None:
        self.n = len(values)
        self.values = values
        self.any_until = bool(np.isfinite(values.capacity_until).any())
        """Whether any capacity has an `until`: when none has, capacity needs no clock."""
        self.changes = 0
        """How many times rows were written or killed: what is remembered of live values (capacity) is keyed by it."""

    def put(self, rows: Ints, block: ColumnValues) -> None:
        """Write the block's values into these rows (growing the arrays when a row is past their end)."""
        top = int(rows.max()) + 1 if len(rows) else 0
        if top > len(self.values):
            self._grow(max(top, 2 * len(self.values), 64))
        for f in fields(ColumnValues):
            getattr(self.values, f.name)[rows] = getattr(block, f.name)
        self.n = max(self.n, top)
        self.any_until = bool(np.isfinite(self.values.capacity_until[: self.n]).any())
        self.changes += 1

    def kill(self, rows: Ints) -> None:
        """Rows whose service left the index: never a candidate again until reused."""
        self.values.live[rows] = False
        self.values.active[rows] = False
        self.changes += 1

    def _grow(self, size: int) -> None:
        for f in fields(ColumnValues):
            old = getattr(self.values, f.name)
            new = np.zeros((size, *old.shape[1:]), dtype=old.dtype)
            new[: len(old)] = old
            setattr(self.values, f.name, new)


GAP = 1 << 24
"""The room left between neighbouring slugs' numbers, so that most insertions number one row only."""


class SlugOrder:
    """A number per row that sorts as the slugs do."""

    def __init__(self, slugs: Sequence[str]) -> None:
        order = sorted(range(len(slugs)), key=lambda r: slugs[r])
        self.sorted: list[str] = [slugs[r] for r in order]
        self.number: dict[str, int] = {slug: (i + 1) * GAP for i, slug in enumerate(self.sorted)}
        self.rank: Ints = np.zeros(len(slugs), dtype=np.int64)
        for r, slug in enumerate(slugs):
            self.rank[r] = self.number[slug]

    def put(self, row: int, slug: str) -> None:
        if slug not in self.number:
            i = bisect.bisect_left(self.sorted, slug)
            low = self.number[self.sorted[i - 1]] if i > 0 else 0
            high = self.number[self.sorted[i]] if i < len(self.sorted) else low + 2 * GAP
            self.sorted.insert(i, slug)
            if high - low < 2:
                self._renumber()
            else:
                self.number[slug] = (low + high) // 2
        if row >= len(self.rank):
            grown = np.zeros(max(row + 1, 2 * len(self.rank), 64), dtype=np.int64)
            grown[: len(self.rank)] = self.rank
            self.rank = grown
        self.rank[row] = self.number[slug]

    def drop(self, slug: str) -> None:
        if self.number.pop(slug, None) is not None:
            del self.sorted[bisect.bisect_left(self.sorted, slug)]

    def _renumber(self) -> None:
        """No room left between two neighbours: number every slug afresh (rare; the caller renumbers rows)."""
        old = dict(self.number)
        self.number = {slug: (i + 1) * GAP for i, slug in enumerate(self.sorted)}
        by_old = {v: self.number[k] for k, v in old.items()}
        self.rank = np.array([by_old.get(int(v), 0) for v in self.rank], dtype=np.int64)
