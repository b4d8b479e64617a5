"""Geometry: the only place that turns GeoJSON Structs into shapely shapes.

Coordinates are GeoJSON order (lon, lat) everywhere. Shapely is planar, so it is used for containment and
validity only; distances in metres use geodesic maths elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import shapely
import shapely.affinity
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

from service.domain.errors import FieldProblem
from service.domain.model import Geometry, MultiPolygon, Point, Polygon, Position, Ring

# A generous box round Great Britain, Northern Ireland and the Channel Islands: anything outside it is a typo
# (most often lat/lon swapped) for a directory of England and Wales.
PLAUSIBLE_LON = (-11.0, 3.0)
PLAUSIBLE_LAT = (49.0, 61.0)


def to_shape(geometry: Geometry) -> BaseGeometry:
    match geometry:
        case Polygon(coordinates=rings):
            return shapely.Polygon(rings[0], rings[1:])
        case MultiPolygon(coordinates=polygons):
            return shapely.MultiPolygon([shapely.Polygon(p[0], p[1:]) for p in polygons])


def point_is_plausible(lon: float, lat: float) -> bool:
    return PLAUSIBLE_LON[0] <= lon <= PLAUSIBLE_LON[1] and PLAUSIBLE_LAT[0] <= lat <= PLAUSIBLE_LAT[1]


def point_problems(point: Point, field: str) -> list[FieldProblem]:
    if point_is_plausible(point.lon, point.lat):
        return []
    return [
        FieldProblem(
            field=field,
            reason=(
                f"({point.lon}, {point.lat}) is outside England and Wales and its neighbours; "
                "coordinates are (lon, lat) in WGS84 degrees"
            ),
        )
    ]


def _rings(geometry: Geometry) -> Iterator[tuple[str, Ring]]:
    match geometry:
        case Polygon(coordinates=rings):
            for i, ring in enumerate(rings):
                yield f"coordinates[{i}]", ring
        case MultiPolygon(coordinates=polygons):
            for j, rings in enumerate(polygons):
                for i, ring in enumerate(rings):
                    yield f"coordinates[{j}][{i}]", ring


def _ring_problem(ring: Ring) -> str | None:
    if ring[0] != ring[-1]:
        return "ring is not closed: the first and last positions must be equal"
    bad: list[Position] = [p for p in ring if not point_is_plausible(*p)]
    if bad:
        lon, lat = bad[0]
        return f"position ({lon}, {lat}) is outside England and Wales and its neighbours; order is (lon, lat)"
    return None


def vertex_count(geometry: Geometry) -> int:
    return sum(len(ring) for _, ring in _rings(geometry))


def geometry_problems(geometry: Geometry, field: str, max_vertices: int) -> list[FieldProblem]:
    """Not too many vertices (counted before anything else is done with them), closed rings, plausible
    coordinates, and a valid (e.g. not self-intersecting) shape."""
    vertices = vertex_count(geometry)
    if vertices > max_vertices:
        return [FieldProblem(field=field, reason=f"{vertices:,} vertices; at most {max_vertices:,} are allowed")]
    problems = [
        FieldProblem(field=f"{field}.{where}", reason=reason)
        for where, ring in _rings(geometry)
        if (reason := _ring_problem(ring)) is not None
    ]
    if problems:
        return problems
    shape = to_shape(geometry)
    if not shape.is_valid:
        return [FieldProblem(field=field, reason=f"invalid geometry: {shapely.is_valid_reason(shape)}")]
    if shape.area == 0:
        return [FieldProblem(field=field, reason="geometry has no area")]
    return []


def bbox(geometry: Geometry) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = to_shape(geometry).bounds
    return (float(minx), float(miny), float(maxx), float(maxy))


EARTH_RADIUS_KM = 6371.0088


def haversine_km(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance; within 0.5 % of geodesic, at a fraction of geopy's cost."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def haversine_km_many(
    lons: NDArray[np.float64], lats: NDArray[np.float64], lon: float, lat: float
) -> NDArray[np.float64]:
    """Vectorised haversine from one point to many (the hot path)."""
    p1, p2 = np.radians(lats), math.radians(lat)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * math.cos(p2) * np.sin(np.radians(lon - lons) / 2) ** 2
    result: NDArray[np.float64] = 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
    return result


def circle(lon: float, lat: float, km: float) -> BaseGeometry:
    """A radius catchment as a polygon in degrees: an ellipse in degrees, so that it is round on the ground."""
    kx = math.cos(math.radians(lat))
    return shapely.affinity.scale(shapely.Point(lon, lat).buffer(km / 111.0, 64), xfact=1 / kx, yfact=1.0)


def contains(geometry: Geometry, point: Point) -> bool:
    return bool(shapely.intersects_xy(to_shape(geometry), point.lon, point.lat))
