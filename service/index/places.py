"""Where a search starts: the stored areas (which ones hold a point), the sites, and the postcode centroids.

Built in one go off the event loop, and rebuilt only when an area or a site changes; services never touch it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from service.domain.answer import AreaRef
from service.domain.errors import FieldProblem, InvalidInput
from service.domain.geometry import EARTH_RADIUS_KM, haversine_km, to_shape
from service.domain.model import Area, Point, Site
from service.index.bounded import Bounded

NEAREST_AREA_KM = 5.0
"""A point in no area of a kind (a coastal centroid, say) takes the nearest area of that kind within 5 km, by true
distance on the ground (haversine), not by degrees, which overstate east-west distances by 1.6 to 1.7 here."""
BORDERING_DEGREES = 0.0005
"""Two areas of a kind border each other when their boundaries come within about 50 m (generalised boundaries
need not share their vertices exactly)."""


@dataclass(frozen=True)
class Resolution:
    point: Point
    areas: tuple[AreaRef, ...]
    codes: frozenset[str]
    adjacent: frozenset[str] = frozenset()
    """The areas bordering one that holds the point, of the same kind, less those that hold it (near misses)."""

    @property
    def force(self) -> AreaRef | None:
        return next((a for a in self.areas if a.kind == "police_force_area"), None)


RESOLUTION_BYTES = 2048
"""What a remembered resolution takes at most (its areas, codes and bordering codes; tests/index/test_cache_sizes.py
measures it)."""


class Places:
    def __init__(
        self,
        areas: Sequence[Area],
        sites: Sequence[Site],
        postcodes: dict[str, tuple[float, float]],
        budget: int = 4 << 20,
    ) -> None:
        self.areas = tuple(sorted(areas, key=lambda a: (a.kind, a.code)))
        self.area_refs = tuple(AreaRef(code=a.code, kind=a.kind, name=a.name) for a in self.areas)
        shapes = [to_shape(a.boundary) for a in self.areas]
        shapely.prepare(shapes)
        self.area_shapes = np.array(shapes, dtype=object)
        self.area_tree = shapely.STRtree(shapes)
        self.kinds = frozenset(a.kind for a in self.areas)
        self.area_position = {a.code: i for i, a in enumerate(self.areas)}
        self.neighbours = self._bordering()
        self.postcodes = postcodes
        self.sites: dict[str, Site] = {}
        for site in sites:
            self.sites[site.slug] = site
            self.sites[str(site.id)] = site
        self.resolved: Bounded[tuple[float, float], Resolution] = Bounded("points", budget, lambda _: RESOLUTION_BYTES)
        self.site_resolutions = {site.slug: self.resolve_point(site.location.lon, site.location.lat) for site in sites}

    def _bordering(self) -> dict[str, frozenset[str]]:
        """Each area's bordering areas of the same kind (about 20 ms for the 43 forces and 318 districts)."""
        near: dict[str, set[str]] = {a.code: set() for a in self.areas}
        if self.areas:
            one, other = self.area_tree.query(self.area_shapes, predicate="dwithin", distance=BORDERING_DEGREES)
            for i, j in zip(one.tolist(), other.tolist(), strict=True):
                a, b = self.areas[i], self.areas[j]
                if i != j and a.kind == b.kind:
                    near[a.code].add(b.code)
        return {code: frozenset(codes) for code, codes in near.items()}

    def area_shape(self, code: str) -> Any:
        """The shapely boundary of a stored area, or None."""
        i = self.area_position.get(code)
        return None if i is None else self.area_shapes[i]

    def force_of(self, code: str) -> str | None:
        """The police force area a stored area belongs to: a force itself, and a district (or other area) the force
        holding a point inside it, as a referral made from the area is placed (service/outcomes/recording.py). None for
        an area not stored, or in no force."""
        i = self.area_position.get(code)
        if i is None or self.areas[i].kind == "police_force_area":
            return None if i is None else code
        inside = self.area_shapes[i].representative_point()
        force = self.resolve_point(float(inside.x), float(inside.y)).force
        return force.code if force else None

    def site_choices(self) -> list[Site]:
        """Every site once, by name (for pickers)."""
        return sorted({s.id: s for s in self.sites.values()}.values(), key=lambda s: s.name)

    def resolve_point(self, lon: float, lat: float) -> Resolution:
        """Remembered, the least recently used point making room (the cache holds no bound method, which would tie
        the places to themselves in a reference cycle: an index must be freed by reference counting alone)."""
        key = (round(lon, 6), round(lat, 6))
        return self.resolved.get(key, lambda: self._resolve_uncached(*key))

    def _resolve_uncached(self, lon: float, lat: float) -> Resolution:
        hits = self.area_tree.query(shapely.Point(lon, lat))
        inside = hits[shapely.contains_xy(self.area_shapes[hits], lon, lat)] if len(hits) else hits
        chosen = {int(i) for i in inside}
        kinds = {self.areas[i].kind for i in chosen}
        if len(kinds) < len(self.kinds):
            chosen |= self._nearest_of_other_kinds(lon, lat, kinds)
        refs = tuple(self.area_refs[i] for i in sorted(chosen))
        codes = frozenset(r.code for r in refs)
        adjacent = frozenset().union(*(self.neighbours[code] for code in codes)) - codes
        return Resolution(point=Point(lon=lon, lat=lat), areas=refs, codes=codes, adjacent=adjacent)

    def _nearest_of_other_kinds(self, lon: float, lat: float, kinds: Collection[str]) -> set[int]:
        """The nearest area of each kind not in `kinds` within NEAREST_AREA_KM on the ground.

        The window is the box that holds every point within reach on the sphere: as many degrees of longitude as
        that reach spans at this latitude. Each candidate is clipped to it, and its nearest point found on a plane
        scaled to the ground at this latitude (true to about 0.1 % across the window); the haversine to that point
        is the distance. Clipping keeps every part within reach, so a clipped piece is exactly as near as the whole
        area whenever it is within reach at all."""
        reach = NEAREST_AREA_KM / EARTH_RADIUS_KM
        dlat = math.degrees(reach) * 1.001
        cos_lat = max(math.cos(math.radians(lat)), 1e-9)  # kept off zero at a pole, where any longitude is in reach
        dlon = 180.0 if cos_lat <= math.sin(reach) else math.degrees(math.asin(math.sin(reach) / cos_lat)) * 1.001
        window = (lon - dlon, lat - dlat, lon + dlon, lat + dlat)
        near = [i for i in self.area_tree.query(shapely.box(*window)).tolist() if self.areas[i].kind not in kinds]
        pieces = shapely.clip_by_rect(self.area_shapes[near], *window)
        scaled = shapely.transform(pieces, lambda xy: xy * (cos_lat, 1.0))
        lines = shapely.shortest_line(scaled, shapely.Point(lon * cos_lat, lat))  # None where clipped away
        best: dict[str, tuple[float, int]] = {}
        for i, line in zip(near, lines.tolist(), strict=True):
            if line is None:
                continue
            x, y = line.coords[0]
            km = haversine_km(lon, lat, x / cos_lat, y)
            kind = self.areas[i].kind
            if km <= NEAREST_AREA_KM and (kind not in best or km < best[kind][0]):
                best[kind] = (km, i)
        return {i for _, i in best.values()}

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
