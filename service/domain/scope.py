"""An editor's reach, judged by every point a catchment can reach, not by where the service sits or by its area.

A key scoped to some areas (say, the Humberside police force area) may write a service only if its catchment covers
those areas and nothing of anyone else's. "Covers" is what searches see: a search matches a radius or a polygon by a
*point* (a custody suite's or a postcode's coordinates), and a point fits in a shape of any size. So no part of a
drawn catchment is ignored for being small; the rule is geometric, and the same for every drawn catchment:

1. **Others' land.** An area is someone else's when less than half of it lies inside the key's areas (a
   neighbouring force, its districts, a region around both). No point of the catchment may lie more than
   `BORDER_KM` (2 km) inside such an area, measured from the key's areas: boundaries from different sources disagree
   by that much, so a catchment drawn along a border may cross it by that much and no more. What it covers there
   must also be at most 1 % of that area's land outside the key's areas (so a small area, such as the City of London
   inside the Met's hole, cannot be swallowed by the tolerance).
2. **Others' sites.** A drawn catchment may not hold a custody suite, court or other stored site that is someone
   else's, however near the border: a search from there would offer the service. (Within the border band the rule
   cannot tell a border drawn from another source, islands and fragments included, from a deliberate reach; this
   rule keeps every stored site out of it, and the change log names who drew what.)
3. **Nowhere land.** No point of a drawn catchment may lie more than `REACH_KM` (15 km) beyond the key's areas: over
   the sea, or land that no stored area covers. (The farthest island that finer boundaries hold beyond the
   ultra-generalised coast is Grassholm, 11.5 km off Pembrokeshire.)

An **area catchment** is judged by its codes (areas are drawn by admins): each must be one of the key's, or an area
at least half inside them (a district of the key's force, coast and islands included).

Shapes are compared in kilometres on a plane fitted to England and Wales (equirectangular at 52.5° N): within about
8 % anywhere in England and Wales, which is plenty for tolerances of kilometres. The tolerances' bands are drawn
`EDGE_KM` (10 m) wider than stated, so that a catchment drawn exactly along a band's edge is not refused for the
rounding of the arithmetic: an accepted point is at most 2.01 km inside another's area, and none is ignored.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from functools import lru_cache

import numpy as np
import shapely
from msgspec import Struct
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from service.domain.geometry import circle, to_shape
from service.domain.model import (
    Area,
    AreaCatchment,
    Catchment,
    MultiPolygon,
    NationalCatchment,
    Point,
    PolygonCatchment,
    RadiusCatchment,
    Site,
)

BORDER_KM = 2.0
"""How far a drawn catchment may reach into another area: boundaries from different sources disagree by this much."""
BORDER_SHARE = 0.01
"""And at most this share of that other area."""
REACH_KM = 15.0
"""How far a catchment may reach beyond the key's areas where no stored area is (the sea, say)."""
OTHERS_SHARE = 0.5
"""An area is someone else's when less than this share of it lies inside the key's areas."""
EDGE_KM = 0.01
"""The bands are drawn this much wider than their tolerance, for the rounding of the shapes' arithmetic."""
SHOWN = 5
"""A refusal names this many of the places a catchment reaches (service.domain.access)."""
_LAT0 = math.radians(52.5)
_KX, _KY = 111.32 * math.cos(_LAT0), 110.574


def _km(points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.column_stack([points[:, 0] * _KX, points[:, 1] * _KY])


def to_km(shape: BaseGeometry) -> BaseGeometry:
    """Degrees (lon, lat) to kilometres on the England and Wales plane."""
    return shapely.transform(shape, _km)


def drawn_shape(catchment: PolygonCatchment | RadiusCatchment, location: Point | None) -> BaseGeometry | None:
    """A drawn catchment in kilometres on the plane (None for a radius with no location)."""
    match catchment:
        case PolygonCatchment(geometry=geometry):
            return to_km(to_shape(geometry)).buffer(0)
        case RadiusCatchment(km=km):
            return None if location is None else to_km(circle(location.lon, location.lat, km))


def _apart(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    """Whether two bounding boxes (minx, miny, maxx, maxy) do not meet; never for an empty shape's (NaN) bounds."""
    return a[2] < b[0] or a[0] > b[2] or a[3] < b[1] or a[1] > b[3]


def _drawn_bounds(catchment: Catchment, location: Point | None) -> tuple[float, float, float, float] | None:
    """A drawn catchment's bounds in kilometres on the plane (a polygon's from its outer rings, a little wide; a
    radius's from the circle judged); None for any other."""
    match catchment:
        case RadiusCatchment() if location is not None:
            shape = drawn_shape(catchment, location)
            return None if shape is None else shape.bounds
        case PolygonCatchment(geometry=geometry):
            parts = geometry.coordinates if isinstance(geometry, MultiPolygon) else (geometry.coordinates,)
            outer = [p for polygon in parts for p in polygon[0]]
            if not outer:
                return None
            lons, lats = [p[0] for p in outer], [p[1] for p in outer]
            return (min(lons) * _KX - 1, min(lats) * _KY - 1, max(lons) * _KX + 1, max(lats) * _KY + 1)
        case _:
            return None


class Verdict(Struct, frozen=True, kw_only=True):
    """Whether a catchment stays within a key's areas; `outside` says, in words, what it reaches beyond them."""

    national: bool = False
    outside: tuple[str, ...] = ()

    @property
    def within(self) -> bool:
        return not self.national and not self.outside


class Territory:
    """Every stored area (and site), in kilometres, ready to judge catchments against any key's areas."""

    def __init__(self, areas: Sequence[Area], sites: Sequence[Site] = ()) -> None:
        self.codes = tuple(a.code for a in areas)
        self.names = {a.code: a.name for a in areas}
        shapes = [to_km(to_shape(a.boundary)).buffer(0) for a in areas]
        shapely.prepare(shapes)
        self.shapes = dict(zip(self.codes, shapes, strict=True))
        self.tree = shapely.STRtree(shapes)
        self._set_sites(sites)

    def _set_sites(self, sites: Sequence[Site]) -> None:
        self.sites = tuple(sites)
        lonlat = np.array([(s.location.lon, s.location.lat) for s in sites], dtype=np.float64).reshape(-1, 2)
        self.site_points: NDArray[np.object_] = np.asarray(shapely.points(_km(lonlat)), dtype=object).reshape(-1)
        self.site_tree = shapely.STRtree(self.site_points)
        self.scope = lru_cache(maxsize=256)(self._scope)

    def with_sites(self, sites: Sequence[Site]) -> Territory:
        """The same areas with other sites (the areas' shapes are shared, not worked out again)."""
        other = object.__new__(Territory)
        other.codes, other.names, other.shapes, other.tree = self.codes, self.names, self.shapes, self.tree
        other._set_sites(sites)
        return other

    def _scope(self, codes: frozenset[str]) -> Scope:
        return Scope(self, codes)

    def judge(self, codes: Iterable[str], catchment: Catchment, location: Point | None) -> Verdict:
        return self.scope(frozenset(codes)).judge(catchment, location)


class Scope:
    """One key's areas: their shape, the bands the tolerances allow, and which other areas are someone else's."""

    def __init__(self, territory: Territory, codes: frozenset[str]) -> None:
        self.territory = territory
        self.codes = codes
        mine = [territory.shapes[c] for c in sorted(codes) if c in territory.shapes]
        self.shape = shapely.union_all(mine) if mine else shapely.Polygon()
        shapely.prepare(self.shape)
        self.border = self.shape.buffer(BORDER_KM + EDGE_KM)
        self.reach = self.shape.buffer(REACH_KM + EDGE_KM)
        shapely.prepare(self.border)
        shapely.prepare(self.reach)
        self._foreign: dict[str, BaseGeometry | None] = {}
        self._covering: tuple[float, float, float, float] | None = None

    def judge(self, catchment: Catchment, location: Point | None) -> Verdict:
        match catchment:
            case NationalCatchment():
                return Verdict(national=True)
            case AreaCatchment(codes=codes):
                return Verdict(outside=tuple(self._area_reason(c) for c in dict.fromkeys(codes) if not self.holds(c)))
            case PolygonCatchment() | RadiusCatchment():
                shape = drawn_shape(catchment, location)
                if shape is None:
                    return Verdict(outside=("a radius with no location",))
                return Verdict(outside=self.reaches(shape))

    def covers(self, catchment: Catchment, location: Point | None) -> bool:
        """Whether this key may write a service with this catchment (its verdict is within), answered at once for
        a drawn catchment whose bounds lie wholly apart from everywhere the key's writes may reach: for listing
        every service a key may change among 50,000."""
        bounds = _drawn_bounds(catchment, location)
        if bounds is not None and _apart(bounds, self.covering()):
            return False
        return self.judge(catchment, location).within

    def covering(self) -> tuple[float, float, float, float]:
        """The bounds of everywhere a catchment this key may write can lie: its reach, and every area it holds (a
        stored area mostly inside its areas may stretch beyond the reach). Worked out once."""
        if self._covering is None:
            boxes = [self.reach.bounds] + [
                self.territory.shapes[code].bounds
                for code in (self.territory.codes[int(i)] for i in self.territory.tree.query(self.shape))
                if code not in self.codes and self.holds(code)
            ]
            self._covering = (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            )
        return self._covering

    def holds(self, code: str) -> bool:
        """Whether an area is the key's: one of its codes, or a stored area mostly inside them (never one whose
        bounds lie apart from the key's areas: told at once, without working out what lies outside them)."""
        if code in self.codes:
            return True
        area = self.territory.shapes.get(code)
        if area is None:
            return False
        if code not in self._foreign and _apart(area.bounds, self.shape.bounds):
            return False
        return self.others_land(code) is None

    def _area_reason(self, code: str) -> str:
        return self._name(code) if code in self.territory.shapes else f"unknown area {code}"

    def reaches(self, shape: BaseGeometry) -> tuple[str, ...]:
        """What a drawn shape (in kilometres) reaches beyond the key's areas, in words; () when nothing."""
        if self.shape.is_empty:
            return (f"anywhere at all: none of this key's areas ({', '.join(sorted(self.codes)) or 'none'}) is stored",)
        found: dict[str, str] = {}
        for i in self.territory.tree.query(shape):
            code = self.territory.codes[int(i)]
            foreign = self.others_land(code)
            if foreign is None:
                continue
            overlap = shape.intersection(foreign)
            if overlap.area <= 0:
                continue
            deep = overlap.difference(self.border)
            if deep.area > 0:
                # How deep, in words, for the first few only (a refusal shows five): each costs a distance per corner.
                depth = f"{self._distance(deep):.1f} km" if len(found) < SHOWN else f"more than {BORDER_KM:g} km"
                found[code] = f"{depth} inside it (at most {BORDER_KM:g} km at a border)"
            elif overlap.area > BORDER_SHARE * foreign.area:
                share = overlap.area / foreign.area
                found[code] = f"{share:.0%} of it (at most {BORDER_SHARE:.0%} at a border)"
        reasons = [f"{self._name(code)}: {why}" for code, why in found.items()]
        reasons += [f"{site.name} ({site.slug}), someone else's site" for site in self._others_sites(shape)]
        # Beyond the reach, what another's area covers is already refused above; only the rest is worked out.
        beyond = shape.difference(self.reach) if not found else shapely.Polygon()
        if beyond.area > 0 and (beyond := self._nowhere(beyond)).area > 0:
            reasons.append(f"{self._distance(beyond):.1f} km beyond the key's areas (at most {REACH_KM:g} km)")
        return tuple(reasons)

    def _nowhere(self, part: BaseGeometry) -> BaseGeometry:
        """What of a part no stored area covers (the sea, unmapped land): what any area covers is judged above."""
        if part.area <= 0:
            return part
        hits = self.territory.tree.query(part, predicate="intersects")
        if len(hits) == 0:
            return part
        return part.difference(shapely.union_all([self.territory.shapes[self.territory.codes[int(i)]] for i in hits]))

    def _distance(self, part: BaseGeometry) -> float:
        """How far a part lies from the key's areas, at its farthest corner, to the nearest 100 m (for the words
        only: the rule itself is the difference with the band)."""
        if self.shape.is_empty:
            return math.inf
        corners = shapely.points(shapely.get_coordinates(part))
        return float(np.max(shapely.distance(self.shape, corners)))

    def _others_sites(self, shape: BaseGeometry) -> Iterator[Site]:
        """Sites within 10 m of the shape (a radius's polygon is a little smaller than its circle) that are someone
        else's: none of their areas is the key's, and they are not on the key's land."""
        territory = self.territory
        for i in territory.site_tree.query(shape, predicate="dwithin", distance=EDGE_KM):
            site, point = territory.sites[int(i)], territory.site_points[int(i)]
            if any(self.holds(code) for code in site.area_codes) or self.shape.intersects(point):
                continue
            known = [code for code in site.area_codes if code in territory.shapes]
            if known or any(self.others_land(code) is not None for code in self._codes_at(point)):
                yield site

    def _codes_at(self, point: BaseGeometry) -> list[str]:
        return [self.territory.codes[int(i)] for i in self.territory.tree.query(point, predicate="intersects")]

    def others_land(self, code: str) -> BaseGeometry | None:
        """The part of an area outside the key's areas, when the area is someone else's; None when it is the key's
        (one of its codes, or mostly inside them)."""
        if code in self._foreign:
            return self._foreign[code]
        found: BaseGeometry | None = None
        area = self.territory.shapes[code]
        if code not in self.codes and area.area > 0:
            inside = area.intersection(self.shape).area if not self.shape.is_empty else 0.0
            if inside < OTHERS_SHARE * area.area:
                found = area.difference(self.shape)
                shapely.prepare(found)
        self._foreign[code] = found
        return found

    def _name(self, code: str) -> str:
        name = self.territory.names.get(code)
        return f"{code} ({name})" if name else code


class Drawn(Struct, frozen=True, kw_only=True):
    """A stored service's catchment and who last drew it (the actor of the latest change to its catchment or
    location), for re-checking stored services against the rule."""

    slug: str
    catchment: Catchment
    location: Point | None
    actor: str


class Writer(Struct, frozen=True, kw_only=True):
    """An API key as the change history names it (`key:<name> (<first 8 of its id>)`), with its role and areas."""

    actor: str
    role: str
    areas: frozenset[str]


class Finding(Struct, frozen=True, kw_only=True):
    """A stored service that its writer's key could not write today: what it reaches, or why it was not judged."""

    slug: str
    actor: str
    areas: tuple[str, ...] = ()
    outside: tuple[str, ...] = ()
    unjudged: str = ""


def recheck(territory: Territory, drawn: Sequence[Drawn], writers: Mapping[str, Writer]) -> list[Finding]:
    """Every stored service drawn by an editor key, judged again by the rule against that key's areas (revoked or
    not). Services last drawn by an admin key, a provider (which cannot draw) or a command run on the server (an
    import, the demo) pass; those drawn by an identity provider's token, whose areas are not stored, are listed as
    not judged."""
    found: list[Finding] = []
    for d in drawn:
        writer = writers.get(d.actor)
        if writer is None:
            if d.actor.startswith("jwt:"):
                found.append(Finding(slug=d.slug, actor=d.actor, unjudged="a token's areas are not stored"))
            continue
        if writer.role != "editor":
            continue
        verdict = territory.judge(writer.areas, d.catchment, d.location)
        if not verdict.within:
            outside = ("a national catchment",) if verdict.national else verdict.outside
            found.append(Finding(slug=d.slug, actor=d.actor, areas=tuple(sorted(writer.areas)), outside=outside))
    return found


def describe(checked: int, findings: Sequence[Finding]) -> list[str]:
    """The re-check's report, in lines: what would now be refused and why, then what was not judged."""
    refused = [f for f in findings if not f.unjudged]
    unjudged = [f for f in findings if f.unjudged]
    lines = [
        f"checked {checked} service(s) against the editors' reach: at most {BORDER_KM:g} km into another's area at a "
        f"border, never another's site, at most {REACH_KM:g} km beyond the areas over the sea",
        f"{len(refused)} would now be refused:" if refused else "none would now be refused",
    ]
    for f in refused:
        lines.append(f"  {f.slug}: drawn by {f.actor}, an editor for {', '.join(f.areas) or 'no area'}; it reaches")
        lines.extend(f"    {reason}" for reason in f.outside)
    if unjudged:
        lines.append(
            f"{len(unjudged)} not judged (drawn with an identity provider's token, whose areas are not stored):"
        )
        lines.extend(f"  {f.slug}: drawn by {f.actor}" for f in unjudged)
    return lines
