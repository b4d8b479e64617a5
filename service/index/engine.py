"""The in-memory search index: the directory as numpy arrays, and the vectorised search over them.

A search prunes by place first (national services, services listing an area that contains the origin, polygon
catchments from an STRtree, radius catchments by vectorised haversine), then applies every hard rule to the
candidates as boolean masks, ranks the survivors with one lexsort, and builds only the returned options. The
pure rule functions in service/domain/routing.py are the reference; they explain exclusions in words.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, get_args

import numpy as np
import shapely
from numpy.typing import NDArray

from service.domain.answer import (
    AreaRef,
    CapacityOut,
    Excluded,
    Fallback,
    Option,
    PhoneOut,
    Reason,
    ReferralAnswer,
    ReferralOut,
    ResolvedOrigin,
    ServiceSummary,
)
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.geometry import haversine_km_many, to_shape
from service.domain.model import (
    Area,
    AreaCatchment,
    NationalCatchment,
    Point,
    PolygonCatchment,
    RadiusCatchment,
    Service,
    Site,
    Taxonomies,
)
from service.domain.routing import (
    CAPACITY_ORDER,
    IMMEDIATE_ACCESS,
    NO_PRIORITY,
    ROAD_FACTOR,
    SPEED_KMH,
    Person,
    Situation,
    exclusion_reasons,
    is_tailored,
)
from service.domain.schedule import HORIZON, LONDON, OpeningState, intervals, state_at
from service.domain.types import CapacityStatus, Context, ServiceKind

Ints = NDArray[np.int64]
Floats = NDArray[np.float64]
Bools = NDArray[np.bool_]

CONTEXT_BITS: dict[str, int] = {"custody": 1, "street": 2, "court": 4, "community": 8}
GENDER_BITS: dict[str, int] = {"female": 1, "male": 2, "non_binary": 4, "other": 8, "not_stated": 16}
ALL_GENDERS = 31
GENDER_SHIFT = 40
KINDS: tuple[str, ...] = get_args(ServiceKind)
_CAP = CAPACITY_ORDER
_CAP_NAMES: dict[int, CapacityStatus] = {0: "available", 1: "unknown", 2: "limited", 3: "full"}
# Timeline keys: service index * SPAN + seconds since the timeline's start; SPAN covers 194 days.
SPAN = 1 << 24
TIMELINE_BEFORE = dt.timedelta(days=1)
TIMELINE_AFTER = dt.timedelta(days=11)
NEAREST_AREA_DEGREES = 0.05
"""A point in no area (a coastal centroid, say) takes the nearest area of each kind within about 5 km."""


@dataclass(frozen=True)
class IndexConfig:
    detention_window: dt.timedelta = dt.timedelta(hours=24)
    kind_cap: int = 3


@dataclass(frozen=True)
class _Fixed:
    summary: ServiceSummary
    phones: tuple[PhoneOut, ...]
    referral: ReferralOut
    lead: tuple[Reason, ...]
    tail: tuple[Reason, ...]
    needs: frozenset[str]
    capacities: dict[CapacityStatus, CapacityOut]
    no_travel: Reason
    verified_at: dt.datetime | None


@dataclass(frozen=True)
class Resolution:
    point: Point
    areas: tuple[AreaRef, ...]
    codes: frozenset[str]
    near: Any = None
    """Services with a radius or polygon catchment holding the point (an int array), found once per origin."""

    @property
    def force(self) -> AreaRef | None:
        return next((a for a in self.areas if a.kind == "police_force_area"), None)


def _bits(codes: Iterable[str], table: dict[str, int]) -> int:
    mask = 0
    for code in codes:
        mask |= table[code]
    return mask


def _summary(s: Service) -> ServiceSummary:
    return ServiceSummary(id=str(s.id), slug=s.slug, name=s.name, organisation=s.organisation, kind=s.kind)


def _phones(s: Service) -> tuple[PhoneOut, ...]:
    """24-hour lines first, then professionals' lines, then the rest, each in their listed order."""
    ordered = sorted(s.contacts.phones, key=lambda p: (not p.twenty_four_hour, not p.professionals_only))
    return tuple(
        PhoneOut(
            number=p.number, label=p.label, twenty_four_hour=p.twenty_four_hour, professionals_only=p.professionals_only
        )
        for p in ordered
    )


def _referral(s: Service) -> ReferralOut:
    r = s.referral
    return ReferralOut(
        instructions=r.instructions,
        methods=tuple(r.methods),
        referrers=tuple(r.referrers),
        handover_target_minutes=r.handover_target_minutes,
    )


def _epoch(value: dt.datetime | None) -> float:
    """Seconds since 1970 for a capacity `until`: none is never; a stored value without a zone is Europe/London,
    and one too far out for the arithmetic is simply long ago or far ahead."""
    if value is None:
        return math.inf
    try:
        return (value if value.tzinfo is not None else value.replace(tzinfo=LONDON)).timestamp()
    except (OverflowError, ValueError):
        return -math.inf if value.year < 1970 else math.inf


def _datetime(epoch: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(epoch, tz=dt.UTC)


class DirectoryIndex:
    """An immutable snapshot of the directory, built in one go; the keeper swaps in a new one on change."""

    def __init__(
        self,
        *,
        services: Sequence[Service],
        areas: Sequence[Area],
        sites: Sequence[Site],
        postcodes: dict[str, tuple[float, float]],
        vocab: Taxonomies,
        version: int,
        config: IndexConfig,
        now: dt.datetime,
    ) -> None:
        self.version = version
        self.config = config
        self.vocab = vocab
        self.postcodes = postcodes
        self.services: tuple[Service, ...] = tuple(sorted(services, key=lambda s: s.slug))
        self.by_slug = {s.slug: s for s in self.services}
        self.need_bits = {t.code: 1 << i for i, t in enumerate(vocab.needs.terms)}
        self.circ_bits = {t.code: 1 << i for i, t in enumerate(vocab.circumstances.terms)}
        self.need_labels = {t.code: t.label for t in vocab.needs.terms}
        self._build_arrays()
        self._build_catchments()
        self._build_areas(areas)
        self.sites: dict[str, Site] = {}
        for site in sites:
            self.sites[site.slug] = site
            self.sites[str(site.id)] = site
        self.site_resolutions = {site.slug: self.resolve_point(site.location.lon, site.location.lat) for site in sites}
        self._build_timeline(now)

    # --- building ---------------------------------------------------------------------------------------

    def _build_arrays(self) -> None:
        svc = self.services
        self.n = len(svc)
        self.active: Bools = np.array([s.status == "active" for s in svc], dtype=bool)
        self.contexts: Ints = np.array([_bits(s.contexts, CONTEXT_BITS) for s in svc], dtype=np.int64)
        self.general: Ints = np.array([_bits(s.general_entry_for, CONTEXT_BITS) for s in svc], dtype=np.int64)
        self.age_min: Floats = np.array(
            [-math.inf if s.eligibility.age.min is None else s.eligibility.age.min for s in svc], dtype=np.float64
        )
        self.age_max: Floats = np.array(
            [math.inf if s.eligibility.age.max is None else s.eligibility.age.max for s in svc], dtype=np.float64
        )
        self.genders: Ints = np.array(
            [_bits(s.eligibility.genders, GENDER_BITS) or ALL_GENDERS for s in svc], dtype=np.int64
        )
        self.needs: NDArray[np.uint64] = np.array(
            [_bits(s.eligibility.needs, self.need_bits) for s in svc], dtype=np.uint64
        )
        self.fallback_needs: NDArray[np.uint64] = np.array(
            [_bits(s.fallback_for_needs, self.need_bits) for s in svc], dtype=np.uint64
        )
        self.required: NDArray[np.uint64] = np.array(
            [_bits(s.eligibility.circumstances_required, self.circ_bits) for s in svc], dtype=np.uint64
        )
        self.excluded: NDArray[np.uint64] = np.array(
            [_bits(s.eligibility.circumstances_excluded, self.circ_bits) for s in svc], dtype=np.uint64
        )
        self.place_of_safety: Bools = np.array([s.kind == "place_of_safety" for s in svc], dtype=bool)
        self.police_pos: Bools = self.place_of_safety & np.array([s.police_station for s in svc], dtype=bool)
        self.capacity: Ints = np.array([_CAP[s.capacity.status] for s in svc], dtype=np.int64)
        self.capacity_until: Floats = np.array([_epoch(s.capacity.until) for s in svc], dtype=np.float64)
        self.priority: Ints = np.array([s.pathway_priority or NO_PRIORITY for s in svc], dtype=np.int64)
        self.tailored: Bools = np.array([is_tailored(s) for s in svc], dtype=bool)
        self.kind: Ints = np.array([KINDS.index(s.kind) for s in svc], dtype=np.int64)
        self.immediate: Bools = np.array([not IMMEDIATE_ACCESS.isdisjoint(s.access_modes) for s in svc], dtype=bool)
        self.travel_limited: Bools = np.array(
            [
                s.location is not None and "outreach" not in s.access_modes and not set(s.access_modes) <= {"phone"}
                for s in svc
            ],
            dtype=bool,
        )
        self.lon: Floats = np.array([s.location.lon if s.location else math.nan for s in svc], dtype=np.float64)
        self.lat: Floats = np.array([s.location.lat if s.location else math.nan for s in svc], dtype=np.float64)
        self.open_24_7: Bools = np.array([s.schedule.open_24_7 for s in svc], dtype=bool)
        # The fast path folds several rules into two bitmasks and one age: a police-station place of safety
        # requires imminent_serious_harm and age 18; a gender the service does not take is an excluded bit.
        if len(self.circ_bits) > GENDER_SHIFT:
            raise ValueError(f"the circumstances list has more than {GENDER_SHIFT} terms")
        harm = np.uint64(self.circ_bits.get("imminent_serious_harm", 0))
        self.fast_required: NDArray[np.uint64] = self.required | np.where(self.police_pos, harm, np.uint64(0))
        refused = (~self.genders & ALL_GENDERS).astype(np.uint64) << np.uint64(GENDER_SHIFT)
        self.fast_excluded: NDArray[np.uint64] = self.excluded | refused
        self.fast_age_min: Floats = np.where(self.police_pos, np.maximum(self.age_min, 18.0), self.age_min)
        self.static_full: Bools = (self.capacity == _CAP["full"]) & ~np.isfinite(self.capacity_until)

    def _build_catchments(self) -> None:
        national: list[int] = []
        by_area: dict[str, list[int]] = {}
        polygons: list[Any] = []
        polygon_owner: list[int] = []
        radius: list[int] = []
        radius_km: list[float] = []
        for i, s in enumerate(self.services):
            match s.catchment:
                case NationalCatchment():
                    national.append(i)
                case AreaCatchment(codes=codes):
                    for code in set(codes):
                        by_area.setdefault(code, []).append(i)
                case PolygonCatchment(geometry=geometry):
                    polygons.append(to_shape(geometry))
                    polygon_owner.append(i)
                case RadiusCatchment(km=km):
                    radius.append(i)
                    radius_km.append(km)
        self.national: Ints = np.array(national, dtype=np.int64)
        self.fallback_pool: Ints = np.flatnonzero(self.fallback_needs != 0).astype(np.int64)
        self.by_area: dict[str, Ints] = {k: np.array(v, dtype=np.int64) for k, v in by_area.items()}
        shapely.prepare(polygons)
        self.polygons = np.array(polygons, dtype=object)
        self.polygon_owner: Ints = np.array(polygon_owner, dtype=np.int64)
        self.radius: Ints = np.array(radius, dtype=np.int64)
        self.radius_km: Floats = np.array(radius_km, dtype=np.float64)
        # Bounding boxes of the radius circles, so a search measures only the circles near the origin.
        r_lat = self.lat[self.radius] if len(self.radius) else np.zeros(0)
        r_lon = self.lon[self.radius] if len(self.radius) else np.zeros(0)
        d_lat = self.radius_km / 111.0
        d_lon = self.radius_km / (111.0 * np.cos(np.radians(r_lat)).clip(0.2))
        boxes = [
            (float(a), float(b), float(c), float(d))
            for a, b, c, d in zip(r_lon - d_lon, r_lat - d_lat, r_lon + d_lon, r_lat + d_lat, strict=True)
        ]
        self.radius_grid = _Grid(boxes)
        self.polygon_grid = _Grid([tuple(float(v) for v in g.bounds) for g in polygons])  # type: ignore[misc]
        self._base_cache: dict[tuple[frozenset[str], str], tuple[Ints, NDArray[np.uint64], Bools]] = {}
        self._minute_states: dict[float, tuple[Bools, Floats, Floats]] = {}
        self.has_capacity_until = bool(np.isfinite(self.capacity_until).any())
        self._static: dict[int, tuple[ServiceSummary, tuple[PhoneOut, ...], ReferralOut]] = {}
        self._fixed_cache: dict[tuple[int, str], _Fixed] = {}
        self._opening_cache: dict[tuple[bool, bool, float | None, float | None], tuple[OpeningState, Reason]] = {}
        self._needs_reason_cache: dict[tuple[tuple[str, ...], int], Reason] = {}

    def _build_areas(self, areas: Sequence[Area]) -> None:
        self.areas = tuple(sorted(areas, key=lambda a: (a.kind, a.code)))
        self.area_refs = tuple(AreaRef(code=a.code, kind=a.kind, name=a.name) for a in self.areas)
        shapes = [to_shape(a.boundary) for a in self.areas]
        shapely.prepare(shapes)
        self.area_shapes = np.array(shapes, dtype=object)
        self.area_tree = shapely.STRtree(shapes)
        self.area_position = {a.code: i for i, a in enumerate(self.areas)}
        self._resolve_cached = lru_cache(maxsize=8192)(self._resolve_uncached)

    def _build_timeline(self, now: dt.datetime) -> None:
        """Every service's opening intervals from a day ago to 11 days ahead, as sorted flat arrays."""
        self.t0 = (now - TIMELINE_BEFORE).timestamp()
        self.t1 = (now + TIMELINE_AFTER).timestamp()
        start, end = _datetime(self.t0), _datetime(self.t1)
        by_schedule: dict[Any, list[tuple[float, float]]] = {}
        rows_svc: list[int] = []
        rows_start: list[float] = []
        rows_end: list[float] = []
        for i, s in enumerate(self.services):
            spans = by_schedule.get(s.schedule)
            if spans is None:
                spans = by_schedule[s.schedule] = [
                    (a.timestamp(), b.timestamp()) for a, b in intervals(s.schedule, start, end)
                ]
            for a, b in spans:
                rows_svc.append(i)
                rows_start.append(a)
                rows_end.append(b)
        svc = np.array(rows_svc, dtype=np.int64)
        starts = np.array(rows_start, dtype=np.float64)
        keys = svc * SPAN + np.maximum(starts - self.t0, 0).astype(np.int64)
        order = np.argsort(keys, kind="stable")
        self.tl_keys: Ints = keys[order]
        self.tl_svc: Ints = svc[order]
        self.tl_start: Floats = starts[order]
        self.tl_end: Floats = np.array(rows_end, dtype=np.float64)[order]

    def area_shape(self, code: str) -> Any:
        """The shapely boundary of a stored area, or None."""
        i = self.area_position.get(code)
        return None if i is None else self.area_shapes[i]

    def site_choices(self) -> list[Site]:
        """Every site once, by name (for pickers)."""
        return sorted({s.id: s for s in self.sites.values()}.values(), key=lambda s: s.name)

    def timeline_covers(self, t: float) -> bool:
        return self.t0 + 3600 <= t <= self.t1 - HORIZON.total_seconds() - 86400

    # --- origins ----------------------------------------------------------------------------------------

    def _resolve_uncached(self, lon: float, lat: float) -> Resolution:
        point = Point(lon=lon, lat=lat)
        hits = self.area_tree.query(shapely.Point(lon, lat))
        inside = hits[shapely.contains_xy(self.area_shapes[hits], lon, lat)] if len(hits) else hits
        chosen = {int(i) for i in inside}
        kinds = {self.areas[i].kind for i in chosen}
        near = self.area_tree.query(shapely.Point(lon, lat).buffer(NEAREST_AREA_DEGREES))
        best: dict[str, tuple[float, int]] = {}
        for i in (int(x) for x in near):
            kind = self.areas[i].kind
            if kind in kinds:
                continue
            distance = float(shapely.distance(self.area_shapes[i], shapely.Point(lon, lat)))
            if distance <= NEAREST_AREA_DEGREES and (kind not in best or distance < best[kind][0]):
                best[kind] = (distance, i)
        chosen |= {i for _, i in best.values()}
        refs = tuple(self.area_refs[i] for i in sorted(chosen))
        where = Resolution(point=point, areas=refs, codes=frozenset(r.code for r in refs))
        return Resolution(point=point, areas=refs, codes=where.codes, near=self._near(where))

    def resolve_point(self, lon: float, lat: float) -> Resolution:
        return self._resolve_cached(round(lon, 6), round(lat, 6))

    def resolve_site(self, key: str) -> tuple[Site, Resolution]:
        site = self.sites.get(key)
        if site is None:
            raise InvalidInput((FieldProblem(field="origin.site", reason=f"unknown site {key!r}"),))
        return site, self.site_resolutions[site.slug]

    def locate_postcode(self, postcode: str) -> tuple[str, tuple[float, float]] | None:
        """A full postcode resolves to its sector, else its district; a district alone to the district."""
        text = " ".join(postcode.upper().split())
        if " " not in text and len(text) >= 5:
            text = f"{text[:-3]} {text[-3:]}"
        outcode, _, incode = text.partition(" ")
        for code in ((f"{outcode} {incode[0]}",) if incode else ()) + (outcode,):
            if code in self.postcodes:
                return code, self.postcodes[code]
        return None

    # --- search -----------------------------------------------------------------------------------------

    def _person_masks(self, person: Person) -> tuple[int, int]:
        problems = [
            FieldProblem(field=f"person.needs[{i}]", reason=f"unknown need {code!r}")
            for i, code in enumerate(person.needs)
            if code not in self.need_bits
        ] + [
            FieldProblem(field=f"person.circumstances[{i}]", reason=f"unknown circumstance {code!r}")
            for i, code in enumerate(person.circumstances)
            if code not in self.circ_bits
        ]
        if problems:
            raise InvalidInput(tuple(problems))
        return _bits(person.needs, self.need_bits), _bits(person.circumstances, self.circ_bits)

    def _candidates(self, where: Resolution) -> Ints:
        """Every service whose catchment holds the origin, whatever its status or contexts (for explanations)."""
        parts = [self.national, *(self.by_area[c] for c in where.codes if c in self.by_area), self._near_of(where)]
        return np.unique(np.concatenate(parts))

    def _base(self, codes: frozenset[str], context: str) -> tuple[Ints, NDArray[np.uint64], Bools]:
        """Active services serving the context whose catchment is national or names an area holding the origin,
        with their needs and whether each is a general entry point here, gathered once per area set."""
        key = (codes, context)
        found = self._base_cache.get(key)
        if found is None:
            parts = [self.national, *(self.by_area[c] for c in codes if c in self.by_area)]
            idx = np.unique(np.concatenate(parts))
            cbit = CONTEXT_BITS[context]
            idx = idx[self.active[idx] & ((self.contexts[idx] & cbit) != 0) & ~self.static_full[idx]]
            found = (idx, self.needs[idx], (self.general[idx] & cbit) != 0)
            if len(self._base_cache) > 4096:
                self._base_cache.clear()
            self._base_cache[key] = found
        return found

    def _near_of(self, where: Resolution) -> Ints:
        near: Ints = where.near if where.near is not None else self._near(where)
        return near

    def _near(self, where: Resolution) -> Ints:
        """Radius and polygon catchments holding the origin (each service has one catchment, so no overlap)."""
        lon, lat = where.point.lon, where.point.lat
        parts: list[Ints] = []
        boxes = self.radius_grid.at(lon, lat)
        if len(boxes):
            r = self.radius[boxes]
            parts.append(r[haversine_km_many(self.lon[r], self.lat[r], lon, lat) <= self.radius_km[boxes]])
        hits = self.polygon_grid.at(lon, lat)
        if len(hits):
            parts.append(self.polygon_owner[hits[shapely.contains_xy(self.polygons[hits], lon, lat)]])
        if not parts:
            return _NONE
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def _survivors(
        self,
        person: Person,
        needs: int,
        circs: int,
        context: Context,
        t: float,
        where: Resolution,
        max_travel: int | None,
    ) -> tuple[Ints, dict[str, Any]]:
        """The services that pass every hard rule, filtering cheapest and most selective first."""
        cbit, gbit, age = CONTEXT_BITS[context], GENDER_BITS[person.gender], person.age
        base, base_needs, base_general = self._base(where.codes, context)
        idx = base[((base_needs & np.uint64(needs)) != 0) | base_general]
        near = self._near_of(where)
        if len(near):
            near = near[self.active[near] & ((self.contexts[near] & cbit) != 0) & ~self.static_full[near]]
            near = near[((self.needs[near] & np.uint64(needs)) != 0) | ((self.general[near] & cbit) != 0)]
            idx = np.concatenate((idx, near))
        has = np.uint64(circs | (gbit << GENDER_SHIFT))
        keep = ((self.fast_required[idx] & ~has) == 0) & ((self.fast_excluded[idx] & has) == 0)
        keep &= (self.fast_age_min[idx] <= age) & (age < self.age_max[idx])
        idx = idx[keep]
        capacity = self.capacity[idx]
        if self.has_capacity_until:
            capacity = np.where(self.capacity_until[idx] <= t, _CAP["unknown"], capacity)
            keep = capacity != _CAP["full"]
            idx, capacity = idx[keep], capacity[keep]
        open_now, closes, next_open = self._opening(idx, t)
        keep = self._open_when_needed(idx, context, t, open_now, next_open)
        if keep is not None:
            idx, capacity, open_now, closes, next_open = (
                idx[keep],
                capacity[keep],
                open_now[keep],
                closes[keep],
                next_open[keep],
            )
        distance, travel = self._distance_and_travel(idx, where, context)
        arrays = {
            "_capacity": capacity,
            "_open_now": open_now,
            "_closes": closes,
            "_next_open": next_open,
            "_distance": distance,
            "_travel": travel,
        }
        if max_travel is not None:
            near_enough = ~(self.travel_limited[idx] & (travel > max_travel))
            idx = idx[near_enough]
            arrays = {k: v[near_enough] for k, v in arrays.items()}
        return idx, arrays

    def _opening(self, idx: Ints, t: float) -> tuple[Bools, Floats, Floats]:
        """Open now, closes at (NaN: not within the horizon) and next opening (NaN: none within it), as epochs.

        Every opening boundary falls on a whole minute (UK offsets are whole hours), so the state of every service
        is the same throughout a minute: it is worked out for all services once per minute and then gathered.
        """
        if not self.timeline_covers(t):
            return self._opening_slowly(idx, _datetime(t))
        minute = math.floor(t / 60) * 60
        states = self._minute_states.get(minute)
        if states is None:
            if len(self._minute_states) >= 8:
                self._minute_states.pop(next(iter(self._minute_states)))
            states = self._minute_states[minute] = self._opening_at(np.arange(self.n, dtype=np.int64), minute)
        open_now, closes, next_open = states
        return open_now[idx], closes[idx], next_open[idx]

    def _opening_at(self, idx: Ints, t: float) -> tuple[Bools, Floats, Floats]:
        horizon = HORIZON.total_seconds()
        if len(self.tl_keys) == 0 or not len(idx):
            nan = np.full(len(idx), math.nan)
            return np.zeros(len(idx), dtype=bool), nan, nan.copy()
        pos = np.searchsorted(self.tl_keys, idx * SPAN + int(t - self.t0), side="right") - 1
        start, end = self.tl_start.take(pos, mode="clip"), self.tl_end.take(pos, mode="clip")
        mine = (pos >= 0) & (self.tl_svc.take(pos, mode="clip") == idx)
        open_now = mine & (start <= t) & (end > t)
        closes = np.where(open_now & (end < t + horizon), end, math.nan)
        after = pos + 1
        upcoming = self.tl_start.take(after, mode="clip")
        upcoming_ok = ~open_now & (after < len(self.tl_keys)) & (self.tl_svc.take(after, mode="clip") == idx)
        next_open = np.where(upcoming_ok & (upcoming < t + horizon), upcoming, math.nan)
        return open_now, closes, next_open

    def _opening_slowly(self, idx: Ints, at: dt.datetime) -> tuple[Bools, Floats, Floats]:
        states = [state_at(self.services[int(i)].schedule, at) for i in idx]
        return (
            np.array([s.open_now for s in states], dtype=bool),
            np.array([s.closes_at.timestamp() if s.closes_at else math.nan for s in states], dtype=np.float64),
            np.array([s.next_opens_at.timestamp() if s.next_opens_at else math.nan for s in states], dtype=np.float64),
        )

    def _open_when_needed(self, idx: Ints, context: str, t: float, open_now: Bools, next_open: Floats) -> Bools | None:
        """Immediate-access services must be open now (street) or within the detention window (custody, court);
        None when the context holds nothing to opening hours (community)."""
        if context == "community":
            return None
        if context == "street":
            return ~self.immediate[idx] | open_now
        window = t + self.config.detention_window.total_seconds()
        return ~self.immediate[idx] | open_now | (next_open <= window)

    def _distance_and_travel(self, idx: Ints, where: Resolution, context: str) -> tuple[Floats, Floats]:
        """Straight-line km (NaN without a location) and travel minutes by road at the context's speed."""
        distance = haversine_km_many(self.lon[idx], self.lat[idx], where.point.lon, where.point.lat)
        return distance, np.ceil(distance * ROAD_FACTOR / SPEED_KMH[context] * 60)

    def _rule_masks(
        self,
        idx: Ints,
        person: Person,
        needs: int,
        circs: int,
        context: Context,
        t: float,
        where: Resolution,
        max_travel: int | None,
    ) -> dict[str, Any]:
        """Each hard rule (except the catchment) as a pass mask over idx, plus what ranking needs."""
        cbit, gbit, age = CONTEXT_BITS[context], GENDER_BITS[person.gender], person.age
        need_mask, circ_mask = np.uint64(needs), np.uint64(circs)
        age_ok = (self.age_min[idx] <= age) & (age < self.age_max[idx])
        street_crisis = context == "street" and "mental_health_crisis" in person.needs
        exceptional = "imminent_serious_harm" in person.circumstances
        capacity = np.where(self.capacity_until[idx] <= t, _CAP["unknown"], self.capacity[idx])
        open_now, closes, next_open = self._opening(idx, t)
        open_ok = self._open_when_needed(idx, context, t, open_now, next_open)
        if open_ok is None:
            open_ok = np.ones(len(idx), dtype=bool)
        distance, travel = self._distance_and_travel(idx, where, context)
        far = self.travel_limited[idx] & (travel > max_travel) if max_travel is not None else np.zeros(len(idx), bool)
        police = self.police_pos[idx]
        return {
            "active": self.active[idx],
            "context": (self.contexts[idx] & cbit) != 0,
            "age": age_ok,
            "s136_age": ~(self.place_of_safety[idx] & street_crisis & ~age_ok),
            "s136_under_18": ~(police & (age < 18)),
            "s136_exceptional": ~(police & (age >= 18) & (not exceptional)),
            "gender": (self.genders[idx] & gbit) != 0,
            "need": ((self.needs[idx] & need_mask) != 0) | ((self.general[idx] & cbit) != 0),
            "circumstances": ((self.required[idx] & ~circ_mask) == 0) & ((self.excluded[idx] & circ_mask) == 0),
            "capacity": capacity != _CAP["full"],
            "open": open_ok,
            "travel": ~far,
            "_capacity": capacity,
            "_open_now": open_now,
            "_closes": closes,
            "_next_open": next_open,
            "_distance": distance,
            "_travel": travel,
        }

    def rank(
        self,
        person: Person,
        context: Context,
        at: dt.datetime,
        where: Resolution,
        limit: int = 10,
        max_travel_minutes: int | None = None,
    ) -> tuple[Ints, dict[str, Any], list[int]]:
        """The ranking alone: the services passing every hard rule, and the positions of the options among them,
        best first. `search` turns these into the answer."""
        needs, circs = self._person_masks(person)
        t = at.timestamp()
        idx, m = self._survivors(person, needs, circs, context, t, where, max_travel_minutes)
        return idx, m, self._rank(idx, m, needs, t, limit)

    def search(
        self,
        *,
        person: Person,
        context: Context,
        at: dt.datetime,
        where: Resolution,
        origin_label: str,
        resolved_from: Literal["point", "site", "postcode"],
        limit: int = 10,
        max_travel_minutes: int | None = None,
        explain: bool = False,
    ) -> ReferralAnswer:
        needs, circs = self._person_masks(person)
        t = at.timestamp()
        idx, m, chosen = self.rank(person, context, at, where, limit, max_travel_minutes)
        options = self._options(idx, m, chosen, person, context)
        met = {n for o in options for n in o.needs_met}
        unmet = tuple(n for n in person.needs if n not in met)
        fallbacks = self._fallbacks(unmet, person, context, t, where, max_travel_minutes)
        answer = ReferralAnswer(
            origin=ResolvedOrigin(
                point=where.point,
                resolved_from=resolved_from,
                label=origin_label,
                areas=where.areas,
                force=where.force,
            ),
            context=context,
            at=at,
            directory_version=self.version,
            options=options,
            unmet_needs=unmet,
            fallbacks=fallbacks,
        )
        if not explain:
            return answer
        every = self._candidates(where)
        full = self._rule_masks(every, person, needs, circs, context, t, where, max_travel_minutes)
        passed = np.logical_and.reduce([v for k, v in full.items() if not k.startswith("_")])
        return self._explain(answer, every, passed, full, person, context, at, where, max_travel_minutes)

    def _rank(self, idx: Ints, m: dict[str, Any], needs: int, t: float, limit: int) -> list[int]:
        """Positions (into idx) of the options, best first, at most `kind_cap` of each kind."""
        if not len(idx):
            return []
        met = np.bitwise_count(self.needs[idx] & np.uint64(needs)).astype(np.int64)
        open_now = m["_open_now"]
        later = np.where(open_now, 0.0, np.fmin(m["_next_open"] - t, math.inf))  # NaN (never) -> inf
        travel = np.fmax(m["_travel"], 0.0)  # NaN (no location) -> 0
        # One integer for the leading criteria, most significant first: priority (1-11), needs met (fewer is
        # worse), tailored, open now. lexsort's last key is the primary one; then next opening, capacity,
        # travel time, and position in slug order.
        leading = ((self.priority[idx] << 8) | ((63 - met) << 2) | (~self.tailored[idx] << 1) | ~open_now).astype(
            np.int64
        )
        order = np.lexsort((idx, travel, m["_capacity"], later, leading))
        taken: list[int] = []
        per_kind: dict[int, int] = {}
        step = limit * 2
        for start in range(0, len(order), step):  # the per-kind cap rarely needs to look far down the order
            chunk = order[start : start + step]
            for o, kind in zip(chunk.tolist(), self.kind[idx[chunk]].tolist(), strict=True):
                if per_kind.get(kind, 0) >= self.config.kind_cap:
                    continue
                per_kind[kind] = per_kind.get(kind, 0) + 1
                taken.append(o)
                if len(taken) == limit:
                    return taken
        return taken

    def _opening_state(self, i: int, j: int, m: dict[str, Any]) -> OpeningState:
        return self._opening_of(
            bool(m["_open_now"][j]), bool(self.open_24_7[i]), float(m["_closes"][j]), float(m["_next_open"][j])
        )[0]

    def _opening_of(self, open_now: bool, always: bool, closes: float, next_open: float) -> tuple[OpeningState, Reason]:
        """The opening state and its reason; many services share the same times, so both are cached."""
        key = (open_now, always, closes if closes == closes else None, next_open if next_open == next_open else None)
        found = self._opening_cache.get(key)
        if found is None:
            closes_at = None if key[2] is None else _datetime(closes)
            next_at = None if key[3] is None else _datetime(next_open)
            state = OpeningState(open_now=open_now, open_24_7=always, closes_at=closes_at, next_opens_at=next_at)
            if always and open_now:
                reason = Reason(code="OPEN_24_7", text="open 24 hours")
            elif open_now:
                until = f" until {_local_time(closes_at)}" if closes_at else ""
                reason = Reason(code="OPEN_NOW", text=f"open now{until}")
            elif next_at is not None:
                reason = Reason(code="OPENS_LATER", text=f"opens {_local_time(next_at)}")
            else:
                reason = Reason(code="BY_APPOINTMENT", text="by appointment; no opening hours listed")
            if len(self._opening_cache) > 20_000:
                self._opening_cache.clear()
            found = self._opening_cache[key] = (state, reason)
        return found

    def _fixed(self, i: int, context: str) -> _Fixed:
        """Everything about an option that depends only on the service (and the context), built once."""
        key = (i, context)
        found = self._fixed_cache.get(key)
        if found is None:
            s = self.services[i]
            lead: list[Reason] = []
            if s.pathway_priority is not None:
                lead.append(Reason(code="PATHWAY_PRIORITY", text=f"commissioner pathway priority {s.pathway_priority}"))
            tail: list[Reason] = []
            if context in s.general_entry_for:
                tail.append(Reason(code="GENERAL_ENTRY_POINT", text=f"takes anyone in {context}, whatever their needs"))
            if is_tailored(s):
                tail.append(Reason(code="TAILORED", text=f"made for this group: {_tailoring(s)}"))
            summary, phones, referral = self._static_parts(i)
            capacities = {
                name: CapacityOut(
                    status=name, until=s.capacity.until if name != "unknown" else None, note=s.capacity.note
                )
                for name in _CAP_NAMES.values()
            }
            no_travel = Reason(code="NO_TRAVEL", text="no travel needed: " + ", ".join(s.access_modes))
            found = self._fixed_cache[key] = _Fixed(
                summary=summary,
                phones=phones,
                referral=referral,
                lead=tuple(lead),
                tail=tuple(tail),
                needs=frozenset(s.eligibility.needs),
                capacities=capacities,
                no_travel=no_travel,
                verified_at=s.verification.verified_at if s.verification else None,
            )
        return found

    def _static_parts(self, i: int) -> tuple[ServiceSummary, tuple[PhoneOut, ...], ReferralOut]:
        found = self._static.get(i)
        if found is None:
            s = self.services[i]
            found = self._static[i] = (_summary(s), _phones(s), _referral(s))
        return found

    def _needs_reason(self, met: tuple[str, ...], asked: int) -> Reason:
        key = (met, asked)
        found = self._needs_reason_cache.get(key)
        if found is None:
            labels = ", ".join(self.need_labels[n].lower() for n in met)
            if len(self._needs_reason_cache) > 20_000:
                self._needs_reason_cache.clear()
            found = self._needs_reason_cache[key] = Reason(
                code="NEEDS_MET", text=f"meets {len(met)} of {asked} needs: {labels}"
            )
        return found

    def _options(
        self, idx: Ints, m: dict[str, Any], chosen: list[int], person: Person, context: str
    ) -> tuple[Option, ...]:
        """The options for the chosen positions, from plain Python values read out of the arrays once."""
        if not chosen:
            return ()
        rows = np.array(chosen, dtype=np.int64)
        services = idx[rows].tolist()
        columns = zip(
            services,
            m["_open_now"][rows].tolist(),
            self.open_24_7[idx[rows]].tolist(),
            m["_closes"][rows].tolist(),
            m["_next_open"][rows].tolist(),
            m["_distance"][rows].tolist(),
            m["_travel"][rows].tolist(),
            m["_capacity"][rows].tolist(),
            strict=True,
        )
        options = []
        for rank, (i, open_now, always, closes, next_open, distance, travel, capacity) in enumerate(columns, 1):
            fixed = self._fixed(i, context)
            opening, opening_reason = self._opening_of(open_now, always, closes, next_open)
            met = tuple(n for n in person.needs if n in fixed.needs)
            capacity_name = _CAP_NAMES[capacity]
            reasons = list(fixed.lead)
            if met:
                reasons.append(self._needs_reason(met, len(person.needs)))
            reasons += fixed.tail
            reasons.append(opening_reason)
            reasons.append(_CAPACITY_REASONS[capacity_name])
            if distance == distance:  # not NaN: the service has a location
                km, minutes = round(distance, 2), int(travel)
                reasons.append(Reason(code="DISTANCE", text=f"{km:.1f} km, about {minutes} min by road"))
            else:
                km, minutes = None, None
                reasons.append(fixed.no_travel)
            options.append(
                Option(
                    rank=rank,
                    service=fixed.summary,
                    distance_km=km,
                    travel_minutes=minutes,
                    opening=opening,
                    capacity=fixed.capacities[capacity_name],
                    needs_met=met,
                    reasons=tuple(reasons),
                    referral=fixed.referral,
                    phones=fixed.phones,
                    verified_at=fixed.verified_at,
                )
            )
        return tuple(options)

    def _in_catchment(self, idx: Ints, where: Resolution) -> Bools:
        """Catchment membership for a few services (the fallbacks), without assembling every candidate."""
        near = set(self._near_of(where).tolist())
        inside = []
        for i in idx.tolist():
            match self.services[i].catchment:
                case NationalCatchment():
                    inside.append(True)
                case AreaCatchment(codes=codes):
                    inside.append(not where.codes.isdisjoint(codes))
                case _:
                    inside.append(i in near)
        return np.array(inside, dtype=bool)

    def _fallbacks(
        self,
        unmet: tuple[str, ...],
        person: Person,
        context: Context,
        t: float,
        where: Resolution,
        max_travel: int | None,
    ) -> tuple[Fallback, ...]:
        """For needs no option meets, the best service the data declares a catch-all for them (all rules but the
        needs rule must hold)."""
        wanted = np.uint64(_bits(unmet, self.need_bits))
        if not unmet or not len(self.fallback_pool):
            return ()
        pool = self.fallback_pool[(self.fallback_needs[self.fallback_pool] & wanted) != 0]
        pool = pool[self._in_catchment(pool, where)] if len(pool) else pool
        if not len(pool):
            return ()
        needs, circs = self._person_masks(person)
        m = self._rule_masks(pool, person, needs, circs, context, t, where, max_travel)
        ok = np.logical_and.reduce([v for k, v in m.items() if not k.startswith("_") and k != "need"])
        covers: dict[int, list[str]] = {}
        for need in unmet:
            bit = np.uint64(self.need_bits[need])
            hits = np.flatnonzero(ok & ((self.fallback_needs[pool] & bit) != 0))
            if len(hits):
                best = min(hits, key=lambda j: (int(self.priority[pool[j]]), int(pool[j])))
                covers.setdefault(int(best), []).append(need)
        out = []
        for j, covered in covers.items():
            i = int(pool[j])
            summary, phones, referral = self._static_parts(i)
            labels = ", ".join(self.need_labels[n].lower() for n in covered)
            out.append(
                Fallback(
                    label=f"Catch-all: no option here meets {labels}",
                    for_needs=tuple(covered),
                    service=summary,
                    opening=self._opening_state(i, j, m),
                    phones=phones,
                    referral=referral,
                )
            )
        return tuple(out)

    def _explain(
        self,
        answer: ReferralAnswer,
        idx: Ints,
        ok: Bools,
        m: dict[str, Any],
        person: Person,
        context: Context,
        at: dt.datetime,
        where: Resolution,
        max_travel: int | None,
    ) -> ReferralAnswer:
        """Why every in-catchment service was excluded; near misses failed exactly one rule."""
        situation = Situation(
            person=person,
            context=context,
            at=at,
            origin=where.point,
            origin_areas=where.codes,
            detention_window=self.config.detention_window,
            max_travel_minutes=max_travel,
        )
        offered = {o.service.slug for o in answer.options}
        excluded: list[Excluded] = []
        for j in np.flatnonzero(~ok):
            s = self.services[int(idx[j])]
            reasons = exclusion_reasons(s, situation, self._opening_state(int(idx[j]), int(j), m))
            excluded.append(Excluded(service=_summary(s), reasons=reasons, near_miss=len(reasons) == 1))
        # Passed every rule but left out by the limit or the per-kind cap.
        for j in np.flatnonzero(ok):
            s = self.services[int(idx[j])]
            if s.slug not in offered:
                reason = Reason(code="BELOW_THE_CUT", text="eligible, but below the limit or the per-kind cap")
                excluded.append(Excluded(service=_summary(s), reasons=(reason,), near_miss=False))
        # Outside the catchment: listed when that is their only failure, counted otherwise.
        outside = np.setdiff1d(np.arange(self.n, dtype=np.int64), idx, assume_unique=True)
        needs, circs = self._person_masks(person)
        om = self._rule_masks(outside, person, needs, circs, context, at.timestamp(), where, max_travel)
        only_catchment = (
            np.logical_and.reduce([v for k, v in om.items() if not k.startswith("_")])
            if len(outside)
            else np.zeros(0, bool)
        )
        near = outside[only_catchment]
        for i in near:
            reason = Reason(code="OUTSIDE_CATCHMENT", text="the origin is outside its catchment")
            excluded.append(Excluded(service=_summary(self.services[int(i)]), reasons=(reason,), near_miss=True))
        excluded.sort(key=lambda e: e.service.slug)
        return ReferralAnswer(
            **{
                f: getattr(answer, f)
                for f in answer.__struct_fields__
                if f not in ("excluded", "near_misses", "excluded_outside_catchment")
            },
            excluded=tuple(excluded),
            near_misses=tuple(e for e in excluded if e.near_miss),
            excluded_outside_catchment=int(len(outside) - len(near)),
        )


def _tailoring(s: Service) -> str:
    el = s.eligibility
    parts = []
    if el.genders:
        parts.append(" and ".join(g.replace("_", "-") for g in el.genders))
    if el.age.min is not None and el.age.max is not None and el.age.max - el.age.min <= 10:
        parts.append(f"aged {el.age.min:g} to under {el.age.max:g}")
    if el.circumstances_required:
        parts.append(", ".join(c.replace("_", " ") for c in el.circumstances_required))
    return "; ".join(parts)


def _local_time(value: dt.datetime | None) -> str:
    assert value is not None
    return _local_time_of(value.timestamp())


@lru_cache(maxsize=4096)
def _local_time_of(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, tz=LONDON).strftime("%a %d %b %H:%M")


_CAPACITY_REASONS = {c: Reason(code=f"CAPACITY_{c.upper()}", text=f"capacity {c}") for c in CAPACITY_ORDER}
_NONE: Ints = np.zeros(0, dtype=np.int64)
GRID_DEGREES = 0.25


class _Grid:
    """Boxes bucketed by 0.25° cells: a point's candidates are one dict look-up away."""

    def __init__(self, boxes: Sequence[tuple[float, float, float, float]]) -> None:
        cells: dict[tuple[int, int], list[int]] = {}
        for n, (minx, miny, maxx, maxy) in enumerate(boxes):
            for cx in range(math.floor(minx / GRID_DEGREES), math.floor(maxx / GRID_DEGREES) + 1):
                for cy in range(math.floor(miny / GRID_DEGREES), math.floor(maxy / GRID_DEGREES) + 1):
                    cells.setdefault((cx, cy), []).append(n)
        self.cells = {k: np.array(v, dtype=np.int64) for k, v in cells.items()}

    def at(self, x: float, y: float) -> Ints:
        return self.cells.get((math.floor(x / GRID_DEGREES), math.floor(y / GRID_DEGREES)), _NONE)
