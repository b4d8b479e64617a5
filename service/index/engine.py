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
    AreaRef,
    CapacityOut,
    Excluded,
    Fallback,
    Option,
    Person,
    PhoneOut,
    Reason,
    ReferralAnswer,
    ReferralOut,
    ResolvedOrigin,
    ServiceSummary,
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
class Resolution:
    point: Point
    areas: tuple[AreaRef, ...]
    codes: frozenset[str]

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
        self.capacity_until: Floats = np.array(
            [math.inf if s.capacity.until is None else s.capacity.until.timestamp() for s in svc], dtype=np.float64
        )
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
        self.by_area: dict[str, Ints] = {k: np.array(v, dtype=np.int64) for k, v in by_area.items()}
        shapely.prepare(polygons)
        self.polygons = np.array(polygons, dtype=object)
        self.polygon_tree = shapely.STRtree(polygons)
        self.polygon_owner: Ints = np.array(polygon_owner, dtype=np.int64)
        self.radius: Ints = np.array(radius, dtype=np.int64)
        self.radius_km: Floats = np.array(radius_km, dtype=np.float64)

    def _build_areas(self, areas: Sequence[Area]) -> None:
        self.areas = tuple(sorted(areas, key=lambda a: (a.kind, a.code)))
        self.area_refs = tuple(AreaRef(code=a.code, kind=a.kind, name=a.name) for a in self.areas)
        shapes = [to_shape(a.boundary) for a in self.areas]
        shapely.prepare(shapes)
        self.area_shapes = np.array(shapes, dtype=object)
        self.area_tree = shapely.STRtree(shapes)
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
        return Resolution(point=point, areas=refs, codes=frozenset(r.code for r in refs))

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
        parts = [self.national]
        parts += [self.by_area[c] for c in where.codes if c in self.by_area]
        lon, lat = where.point.lon, where.point.lat
        if len(self.polygon_owner):
            hits = self.polygon_tree.query(shapely.Point(lon, lat))
            if len(hits):
                hits = hits[shapely.contains_xy(self.polygons[hits], lon, lat)]
                parts.append(self.polygon_owner[hits])
        if len(self.radius):
            r = self.radius
            parts.append(r[haversine_km_many(self.lon[r], self.lat[r], lon, lat) <= self.radius_km])
        return np.unique(np.concatenate(parts)) if len(parts) > 1 else parts[0]

    def _opening(self, idx: Ints, t: float) -> tuple[Bools, Floats, Floats]:
        """Open now, closes at (NaN: not within the horizon) and next opening (NaN: none within it), as epochs."""
        horizon = HORIZON.total_seconds()
        if not self.timeline_covers(t):
            return self._opening_slowly(idx, _datetime(t))
        if len(self.tl_keys) == 0:
            nan = np.full(len(idx), math.nan)
            return np.zeros(len(idx), dtype=bool), nan, nan.copy()
        last = len(self.tl_keys) - 1
        pos = np.searchsorted(self.tl_keys, idx * SPAN + int(t - self.t0), side="right") - 1
        here = np.clip(pos, 0, last)
        mine = (pos >= 0) & (self.tl_svc[here] == idx)
        open_now = mine & (self.tl_start[here] <= t) & (self.tl_end[here] > t)
        closes = np.where(open_now & (self.tl_end[here] < t + horizon), self.tl_end[here], math.nan)
        after = np.clip(pos + 1, 0, last)
        upcoming = ~open_now & (pos + 1 <= last) & (self.tl_svc[after] == idx) & (self.tl_start[after] <= t + horizon)
        next_open = np.where(upcoming, self.tl_start[after], math.nan)
        return open_now, closes, next_open

    def _opening_slowly(self, idx: Ints, at: dt.datetime) -> tuple[Bools, Floats, Floats]:
        states = [state_at(self.services[int(i)].schedule, at) for i in idx]
        return (
            np.array([s.open_now for s in states], dtype=bool),
            np.array([s.closes_at.timestamp() if s.closes_at else math.nan for s in states], dtype=np.float64),
            np.array([s.next_opens_at.timestamp() if s.next_opens_at else math.nan for s in states], dtype=np.float64),
        )

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
        immediate = self.immediate[idx] & (context != "community")
        if context == "street":
            open_ok = ~immediate | open_now
        elif context == "community":
            open_ok = np.ones(len(idx), dtype=bool)
        else:
            window = t + self.config.detention_window.total_seconds()
            open_ok = ~immediate | open_now | (next_open <= window)
        distance = haversine_km_many(self.lon[idx], self.lat[idx], where.point.lon, where.point.lat)
        travel = np.ceil(distance * ROAD_FACTOR / SPEED_KMH[context] * 60)
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
        idx = self._candidates(where)
        m = self._rule_masks(idx, person, needs, circs, context, t, where, max_travel_minutes)
        rules = [v for k, v in m.items() if not k.startswith("_")]
        ok = np.logical_and.reduce(rules) if len(idx) else np.zeros(0, dtype=bool)
        chosen = self._rank(idx, ok, m, needs, t, limit)
        options = tuple(self._option(rank, int(idx[j]), j, m, person, context, at) for rank, j in enumerate(chosen, 1))
        met = {n for o in options for n in o.needs_met}
        unmet = tuple(n for n in person.needs if n not in met)
        fallbacks = self._fallbacks(idx, m, rules, unmet, t, at)
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
        return self._explain(answer, idx, ok, m, person, context, at, where, max_travel_minutes)

    def _rank(self, idx: Ints, ok: Bools, m: dict[str, Any], needs: int, t: float, limit: int) -> list[int]:
        """Positions (into idx) of the options, best first, at most `kind_cap` of each kind."""
        pos = np.flatnonzero(ok)
        if not len(pos):
            return []
        svc = idx[pos]
        met = np.bitwise_count(self.needs[svc] & np.uint64(needs)).astype(np.int64)
        open_now = m["_open_now"][pos]
        later = np.where(open_now, 0.0, np.nan_to_num(m["_next_open"][pos] - t, nan=math.inf))
        travel = np.nan_to_num(m["_travel"][pos], nan=0.0)
        order = np.lexsort(
            (svc, travel, m["_capacity"][pos], later, ~open_now, ~self.tailored[svc], -met, self.priority[svc])
        )
        taken: list[int] = []
        per_kind: dict[int, int] = {}
        for o in order:
            kind = int(self.kind[svc[o]])
            if per_kind.get(kind, 0) >= self.config.kind_cap:
                continue
            per_kind[kind] = per_kind.get(kind, 0) + 1
            taken.append(int(pos[o]))
            if len(taken) == limit:
                break
        return taken

    def _opening_state(self, i: int, j: int, m: dict[str, Any]) -> OpeningState:
        closes, next_open = m["_closes"][j], m["_next_open"][j]
        return OpeningState(
            open_now=bool(m["_open_now"][j]),
            open_24_7=bool(self.open_24_7[i]),
            closes_at=None if math.isnan(closes) else _datetime(float(closes)),
            next_opens_at=None if math.isnan(next_open) else _datetime(float(next_open)),
        )

    def _option(
        self, rank: int, i: int, j: int, m: dict[str, Any], person: Person, context: str, at: dt.datetime
    ) -> Option:
        s = self.services[i]
        opening = self._opening_state(i, j, m)
        distance = None if math.isnan(m["_distance"][j]) else round(float(m["_distance"][j]), 2)
        travel = None if distance is None else int(m["_travel"][j])
        capacity = _CAP_NAMES[int(m["_capacity"][j])]
        met = tuple(n for n in person.needs if n in s.eligibility.needs)
        return Option(
            rank=rank,
            service=_summary(s),
            distance_km=distance,
            travel_minutes=travel,
            opening=opening,
            capacity=CapacityOut(
                status=capacity,
                until=s.capacity.until if capacity != "unknown" else None,
                note=s.capacity.note,
            ),
            needs_met=met,
            reasons=self._reasons(s, person, context, met, opening, capacity, distance, travel),
            referral=_referral(s),
            phones=_phones(s),
            verified_at=s.verification.verified_at if s.verification else None,
        )

    def _reasons(
        self,
        s: Service,
        person: Person,
        context: str,
        met: tuple[str, ...],
        opening: OpeningState,
        capacity: str,
        distance: float | None,
        travel: int | None,
    ) -> tuple[Reason, ...]:
        reasons: list[Reason] = []
        if s.pathway_priority is not None:
            reasons.append(Reason(code="PATHWAY_PRIORITY", text=f"commissioner pathway priority {s.pathway_priority}"))
        if met:
            labels = ", ".join(self.need_labels[n].lower() for n in met)
            reasons.append(Reason(code="NEEDS_MET", text=f"meets {len(met)} of {len(person.needs)} needs: {labels}"))
        if context in s.general_entry_for:
            reasons.append(Reason(code="GENERAL_ENTRY_POINT", text=f"takes anyone in {context}, whatever their needs"))
        if is_tailored(s):
            reasons.append(Reason(code="TAILORED", text=f"made for this group: {_tailoring(s)}"))
        if opening.open_24_7 and opening.open_now:
            reasons.append(Reason(code="OPEN_24_7", text="open 24 hours"))
        elif opening.open_now:
            until = f" until {_local_time(opening.closes_at)}" if opening.closes_at else ""
            reasons.append(Reason(code="OPEN_NOW", text=f"open now{until}"))
        elif opening.next_opens_at is not None:
            reasons.append(Reason(code="OPENS_LATER", text=f"opens {_local_time(opening.next_opens_at)}"))
        else:
            reasons.append(Reason(code="BY_APPOINTMENT", text="by appointment; no opening hours listed"))
        reasons.append(Reason(code=f"CAPACITY_{capacity.upper()}", text=f"capacity {capacity}"))
        if distance is not None and travel is not None:
            reasons.append(Reason(code="DISTANCE", text=f"{distance:.1f} km, about {travel} min by road"))
        else:
            reasons.append(Reason(code="NO_TRAVEL", text="no travel needed: " + ", ".join(s.access_modes)))
        return tuple(reasons)

    def _fallbacks(
        self, idx: Ints, m: dict[str, Any], rules: list[Bools], unmet: tuple[str, ...], t: float, at: dt.datetime
    ) -> tuple[Fallback, ...]:
        if not unmet or not len(idx):
            return ()
        names = [k for k in m if not k.startswith("_")]
        except_need = np.logical_and.reduce([r for k, r in zip(names, rules, strict=True) if k != "need"])
        covers: dict[int, list[str]] = {}
        for need in unmet:
            bit = np.uint64(self.need_bits[need])
            hits = np.flatnonzero(except_need & ((self.fallback_needs[idx] & bit) != 0))
            if len(hits):
                best = min(hits, key=lambda j: (int(self.priority[idx[j]]), int(idx[j])))
                covers.setdefault(int(best), []).append(need)
        out = []
        for j, needs in covers.items():
            s = self.services[int(idx[j])]
            labels = ", ".join(self.need_labels[n].lower() for n in needs)
            out.append(
                Fallback(
                    label=f"Catch-all: no option here meets {labels}",
                    for_needs=tuple(needs),
                    service=_summary(s),
                    opening=self._opening_state(int(idx[j]), j, m),
                    phones=_phones(s),
                    referral=_referral(s),
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
    return value.astimezone(LONDON).strftime("%a %d %b %H:%M")
