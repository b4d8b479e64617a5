"""An editor's reach, judged by what a catchment covers, not by where the service sits.

A key scoped to some areas (say, the Humberside police force area) may write a service only if its catchment
covers those areas and nothing of anyone else's. "Covers" is what searches see: a radius or a polygon reaches
every origin inside it, whatever the service's own location, and an area catchment every origin in its areas.
So the rule is geometric, and the same for every kind of catchment but national (which only an admin may write):

1. **Others' land.** An area is someone else's when less than half of it lies inside the key's areas (a
   neighbouring force, its districts, a region around both). The catchment may cross into such an area only at
   the border: what it covers there must lie within `BORDER_KM` (2 km) of the key's areas, where boundaries from
   different sources disagree, and be at most 1 % of that area's land outside the key's areas (so a small area,
   such as the City of London inside the Met's hole, cannot be swallowed by the tolerance, and a thin corridor
   cannot run deep into a neighbour).
2. **Nowhere land.** A drawn catchment may not reach more than `REACH_KM` (10 km) beyond the key's areas at all:
   over the sea, or land that no stored area covers. (Areas are drawn by admins, so an area catchment is held to
   rule 1 only: a district at least half inside the key's areas is the key's, offshore islands and all.)

A district of the key's own force counts as the key's even where its coast pokes out of a more generalised force
boundary (Blackpool is 95 % inside the ultra-generalised Lancashire). An area catchment naming only the key's own
codes needs no geometry.

Shapes are compared in kilometres on a plane fitted to England and Wales (equirectangular at 52.5° N): within
about 8 % anywhere in England and Wales, which is plenty for tolerances of kilometres.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
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
    NationalCatchment,
    Point,
    PolygonCatchment,
    RadiusCatchment,
)

BORDER_KM = 2.0
"""How far a drawn catchment may cross into another area: boundaries from different sources disagree by this much."""
BORDER_SHARE = 0.01
"""And at most this share of that other area."""
REACH_KM = 10.0
"""How far a catchment may reach beyond the key's areas where no stored area is (the sea, say)."""
OTHERS_SHARE = 0.5
"""An area is someone else's when less than this share of it lies inside the key's areas."""
SLIVER_KM2 = 0.01
"""Overlaps smaller than a hectare are rounding, not reach."""
_LAT0 = math.radians(52.5)
_KX, _KY = 111.32 * math.cos(_LAT0), 110.574


def _km(points: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.column_stack([points[:, 0] * _KX, points[:, 1] * _KY])


def to_km(shape: BaseGeometry) -> BaseGeometry:
    """Degrees (lon, lat) to kilometres on the England and Wales plane."""
    return shapely.transform(shape, _km)


class Verdict(Struct, frozen=True, kw_only=True):
    """Whether a catchment stays within a key's areas; `outside` says, in words, where it does not."""

    national: bool = False
    outside: tuple[str, ...] = ()

    @property
    def within(self) -> bool:
        return not self.national and not self.outside


class Territory:
    """Every stored area, in kilometres, ready to judge catchments against any key's areas."""

    def __init__(self, areas: Sequence[Area]) -> None:
        self.codes = tuple(a.code for a in areas)
        self.names = {a.code: a.name for a in areas}
        shapes = [to_km(to_shape(a.boundary)).buffer(0) for a in areas]
        shapely.prepare(shapes)
        self.shapes = dict(zip(self.codes, shapes, strict=True))
        self.tree = shapely.STRtree(shapes)
        self.scope = lru_cache(maxsize=256)(self._scope)

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
        self.border = self.shape.buffer(BORDER_KM)
        self.reach = self.shape.buffer(REACH_KM)
        shapely.prepare(self.border)
        shapely.prepare(self.reach)
        self._foreign: dict[str, BaseGeometry | None] = {}

    def judge(self, catchment: Catchment, location: Point | None) -> Verdict:
        match catchment:
            case NationalCatchment():
                return Verdict(national=True)
            case AreaCatchment(codes=codes):
                if set(codes) <= self.codes:
                    return Verdict()
                # Areas are drawn by admins: one at least half inside the key's areas is the key's, sea and all.
                unknown = tuple(f"unknown area {c}" for c in codes if c not in self.territory.shapes)
                known = [self.territory.shapes[c] for c in codes if c in self.territory.shapes]
                return Verdict(outside=unknown + self._covers(shapely.union_all(known), reach=False).outside)
            case PolygonCatchment(geometry=geometry):
                return self._covers(to_km(to_shape(geometry)).buffer(0))
            case RadiusCatchment(km=km):
                if location is None:
                    return Verdict(outside=("a radius with no location",))
                return self._covers(to_km(circle(location.lon, location.lat, km)))

    def _covers(self, shape: BaseGeometry, *, reach: bool = True) -> Verdict:
        outside: list[str] = []
        for i in self.territory.tree.query(shape):
            code = self.territory.codes[int(i)]
            foreign = self._others_land(code)
            if foreign is None:
                continue
            overlap = shape.intersection(foreign)
            if overlap.area <= SLIVER_KM2:
                continue
            deep = overlap.difference(self.border).area > SLIVER_KM2
            if deep or overlap.area > BORDER_SHARE * foreign.area:
                outside.append(self._name(code))
        if reach and shape.difference(self.reach).area > SLIVER_KM2:
            outside.append(f"more than {REACH_KM:g} km beyond the key's areas")
        return Verdict(outside=tuple(outside))

    def _others_land(self, code: str) -> BaseGeometry | None:
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
