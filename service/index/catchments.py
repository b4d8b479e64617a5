"""Which rows' catchments hold a point: national ones, those naming an area the point is in, and drawn ones
(radius circles and polygons) found through a grid of 0.25-degree cells. Rows join and leave one at a time, and
each look-up table is turned into an array only when a search next needs it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely

from service.domain.geometry import haversine_km_many, to_shape
from service.domain.model import AreaCatchment, Catchment, NationalCatchment, Point, PolygonCatchment, RadiusCatchment
from service.index.columns import ColumnValues, Ints

GRID_DEGREES = 0.25
NONE: Ints = np.zeros(0, dtype=np.int64)
Cell = tuple[int, int]


@dataclass(frozen=True)
class Drawn:
    """A drawn catchment, prepared off the event loop: its cells, and for a polygon its prepared shape."""

    cells: tuple[Cell, ...]
    shape: Any = None


def drawn(catchment: Catchment, location: Point | None) -> Drawn | None:
    """The cells a radius or polygon catchment's bounding box covers (None for national and area catchments)."""
    match catchment:
        case RadiusCatchment(km=km) if location is not None:
            d_lat = km / 111.0
            d_lon = km / (111.0 * max(math.cos(math.radians(location.lat)), 0.2))
            box = (location.lon - d_lon, location.lat - d_lat, location.lon + d_lon, location.lat + d_lat)
            return Drawn(cells=_cells(box))
        case PolygonCatchment(geometry=geometry):
            shape = to_shape(geometry)
            shapely.prepare(shape)
            minx, miny, maxx, maxy = shape.bounds
            return Drawn(cells=_cells((minx, miny, maxx, maxy)), shape=shape)
        case _:
            return None


def _cells(box: tuple[float, float, float, float]) -> tuple[Cell, ...]:
    minx, miny, maxx, maxy = box
    return tuple(
        (cx, cy)
        for cx in range(math.floor(minx / GRID_DEGREES), math.floor(maxx / GRID_DEGREES) + 1)
        for cy in range(math.floor(miny / GRID_DEGREES), math.floor(maxy / GRID_DEGREES) + 1)
    )


class _Sets:
    """Rows by key, each key's rows also as a sorted array, made on demand."""

    def __init__(self) -> None:
        self.rows: dict[Any, set[int]] = {}
        self.arrays: dict[Any, Ints] = {}

    def add(self, key: Any, row: int) -> None:
        self.rows.setdefault(key, set()).add(row)
        self.arrays.pop(key, None)

    def discard(self, key: Any, row: int) -> None:
        found = self.rows.get(key)
        if found is not None:
            found.discard(row)
            if not found:
                del self.rows[key]
        self.arrays.pop(key, None)

    def array(self, key: Any) -> Ints:
        found = self.arrays.get(key)
        if found is None:
            rows = self.rows.get(key)
            if not rows:
                return NONE
            found = self.arrays[key] = np.array(sorted(rows), dtype=np.int64)
        return found


class Catchments:
    def __init__(self) -> None:
        self.national = _Sets()
        self.areas = _Sets()
        self.radius_cells = _Sets()
        self.polygon_cells = _Sets()
        self.located = _Sets()
        """Rows by the cell their location is in (for near misses just outside a catchment)."""
        self.polygons: dict[int, Any] = {}
        self.polygon_shapes: dict[Cell, Any] = {}
        """Each cell's polygons as an array, in the order of `polygon_cells`' rows, made on demand."""
        self.placed: dict[int, tuple[str, tuple[Any, ...]]] = {}
        self.where: dict[int, Cell] = {}
        self.generation = 0
        """Bumped by every change, so that caches of what a point is in know when they are stale."""

    def put(self, row: int, catchment: Catchment, shape: Drawn | None, location: Point | None) -> None:
        self.remove(row)
        if location is not None:
            cell = (math.floor(location.lon / GRID_DEGREES), math.floor(location.lat / GRID_DEGREES))
            self.located.add(cell, row)
            self.where[row] = cell
        match catchment:
            case NationalCatchment():
                self.national.add(None, row)
                self.placed[row] = ("national", (None,))
            case AreaCatchment(codes=codes):
                for code in set(codes):
                    self.areas.add(code, row)
                self.placed[row] = ("areas", tuple(set(codes)))
            case RadiusCatchment() if shape is not None:
                for cell in shape.cells:
                    self.radius_cells.add(cell, row)
                self.placed[row] = ("radius", shape.cells)
            case PolygonCatchment() if shape is not None:
                for cell in shape.cells:
                    self.polygon_cells.add(cell, row)
                    self.polygon_shapes.pop(cell, None)
                self.polygons[row] = shape.shape
                self.placed[row] = ("polygon", shape.cells)
        self.generation += 1

    def remove(self, row: int) -> None:
        cell = self.where.pop(row, None)
        if cell is not None:
            self.located.discard(cell, row)
        kind, keys = self.placed.pop(row, ("", ()))
        sets = {"national": self.national, "areas": self.areas, "radius": self.radius_cells}.get(kind)
        if kind == "polygon":
            sets = self.polygon_cells
            self.polygons.pop(row, None)
        for key in keys:
            assert sets is not None
            sets.discard(key, row)
            if kind == "polygon":
                self.polygon_shapes.pop(key, None)
        self.generation += 1

    def listing(self, codes: frozenset[str]) -> Ints:
        """Rows whose catchment is national or names one of these areas (sorted)."""
        return sorted_once([self.national.array(None), *(self.areas.array(c) for c in codes)])

    def naming(self, codes: frozenset[str]) -> Ints:
        """Rows whose catchment names one of these areas (sorted)."""
        return sorted_once([NONE, *(self.areas.array(c) for c in codes)])

    def drawn_around(self, point: Point, c: ColumnValues) -> Ints:
        """Rows with a radius or polygon catchment holding the point."""
        lon, lat = point.lon, point.lat
        cell = (math.floor(lon / GRID_DEGREES), math.floor(lat / GRID_DEGREES))
        parts: list[Ints] = []
        circles = self.radius_cells.array(cell)
        if len(circles):
            distance = haversine_km_many(c.lon[circles], c.lat[circles], lon, lat)
            parts.append(circles[distance <= c.radius_km[circles]])
        owners = self.polygon_cells.array(cell)
        if len(owners):
            shapes = self.polygon_shapes.get(cell)
            if shapes is None:
                shapes = self.polygon_shapes[cell] = np.array([self.polygons[r] for r in owners.tolist()], dtype=object)
            parts.append(owners[shapely.contains_xy(shapes, lon, lat)])
        if not parts:
            return NONE
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def cells_near(self, point: Point, km: float) -> tuple[Cell, ...]:
        """The cells of the box `km` around the point."""
        d_lat = km / 111.0
        d_lon = km / (111.0 * max(math.cos(math.radians(point.lat)), 0.2))
        return _cells((point.lon - d_lon, point.lat - d_lat, point.lon + d_lon, point.lat + d_lat))

    def located_in(self, cell: Cell) -> Ints:
        """Rows located in this cell (sorted)."""
        return self.located.array(cell)

    def located_near(self, point: Point, km: float, c: ColumnValues) -> Ints:
        """Rows whose location lies within `km` of the point."""
        d_lat = km / 111.0
        d_lon = km / (111.0 * max(math.cos(math.radians(point.lat)), 0.2))
        cells = _cells((point.lon - d_lon, point.lat - d_lat, point.lon + d_lon, point.lat + d_lat))
        parts = [a for cell in cells if len(a := self.located.array(cell))]
        if not parts:
            return NONE
        rows = np.concatenate(parts)
        rows.sort()
        found: Ints = rows[haversine_km_many(c.lon[rows], c.lat[rows], point.lon, point.lat) <= km]
        return found


def sorted_once(parts: list[Ints]) -> Ints:
    """The rows of these arrays, sorted, each once (np.unique's hashing is several times slower at these sizes)."""
    rows = np.concatenate(parts)
    if not len(rows):
        return rows
    rows.sort()
    keep = np.empty(len(rows), dtype=bool)
    keep[0] = True
    np.not_equal(rows[1:], rows[:-1], out=keep[1:])
    return rows[keep]
