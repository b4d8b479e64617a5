"""Maps drawn by the server as SVG from stored geometries: no tiles and no external requests."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape
from typing import Any, Protocol

import shapely
from shapely.geometry.base import BaseGeometry

from service.domain.geometry import circle, to_shape
from service.domain.model import (
    AreaCatchment,
    Catchment,
    NationalCatchment,
    Point,
    PolygonCatchment,
    RadiusCatchment,
)

WIDTH = 480
PAD = 24


@dataclass(frozen=True)
class Marker:
    label: str
    """The number shown in the marker (matching the list), or empty for the origin."""
    lon: float
    lat: float
    title: str


def _polygons(shape: BaseGeometry) -> Iterable[shapely.Polygon]:
    if isinstance(shape, shapely.Polygon):
        yield shape
    elif hasattr(shape, "geoms"):
        for part in shape.geoms:
            yield from _polygons(part)


def draw(
    *,
    title: str,
    description: str,
    areas: Sequence[BaseGeometry],
    origin: Marker | None,
    markers: Sequence[Marker],
    shaded: Sequence[BaseGeometry] = (),
    filled: Sequence[tuple[BaseGeometry, str, str]] = (),
) -> str:
    """An accessible SVG: a title and description, the area outlines, shaded catchments, the origin, numbered
    markers. Longitude is scaled by the cosine of the mean latitude so that shapes keep their proportions."""
    points = [(m.lon, m.lat) for m in markers] + ([(origin.lon, origin.lat)] if origin else [])
    bounds = [g.bounds for g in [*areas, *shaded, *(f[0] for f in filled)]] + [(x, y, x, y) for x, y in points]
    if not bounds:
        return ""
    minx, miny = min(b[0] for b in bounds), min(b[1] for b in bounds)
    maxx, maxy = max(b[2] for b in bounds), max(b[3] for b in bounds)
    kx = math.cos(math.radians((miny + maxy) / 2))
    span_x, span_y = max((maxx - minx) * kx, 1e-3), max(maxy - miny, 1e-3)
    scale = (WIDTH - 2 * PAD) / max(span_x, span_y)
    height = round(span_y * scale + 2 * PAD)
    width = round(span_x * scale + 2 * PAD) if span_x < span_y else WIDTH

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (round(PAD + (lon - minx) * kx * scale, 1), round(PAD + (maxy - lat) * scale, 1))

    def path(shape: BaseGeometry) -> str:
        # Simplified to half a pixel, fast (not keeping topology: a map only has to look right), so that a
        # boundary of 200,000 vertices draws as a few thousand.
        simple = shape.simplify(0.4 / scale, preserve_topology=False)
        parts = []
        for polygon in _polygons(simple):
            for ring in (polygon.exterior, *polygon.interiors):
                coords = [xy(x, y) for x, y in ring.coords]
                parts.append("M" + " L".join(f"{x} {y}" for x, y in coords) + " Z")
        return " ".join(parts)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-map" role="img" viewBox="0 0 {width} {height}" '
        f'aria-labelledby="map-title map-desc">',
        f'<title id="map-title">{escape(title)}</title>',
        f'<desc id="map-desc">{escape(description)}</desc>',
    ]
    out += [f'<path class="app-map__catchment" d="{path(g)}" fill-rule="evenodd"/>' for g in shaded]
    out += [
        f'<path class="{escape(css)}" d="{path(g)}" fill-rule="evenodd"><title>{escape(label)}</title></path>'
        for g, css, label in filled
    ]
    out += [f'<path class="app-map__area" d="{path(g)}" fill-rule="evenodd"/>' for g in areas]
    # The origin first, so that numbered markers at the same place stay visible on top of it.
    if origin is not None:
        x, y = xy(origin.lon, origin.lat)
        out.append(
            f'<g class="app-map__origin"><title>{escape(origin.title)}</title>'
            f'<rect x="{x - 7}" y="{y - 7}" width="14" height="14" transform="rotate(45 {x} {y})"/></g>'
        )
    for m in markers:
        x, y = xy(m.lon, m.lat)
        out.append(
            f'<g class="app-map__marker" data-rank="{escape(m.label)}"><title>{escape(m.title)}</title>'
            f'<circle cx="{x}" cy="{y}" r="11"/>'
            f'<text x="{x}" y="{y + 4.5}" text-anchor="middle">{escape(m.label)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


BANDS = 5
"""Shades of a heat map or choropleth: none, then four quarters of the largest value."""


def band(value: int, most: int) -> int:
    """0 for nothing; 1 to 4 by quarters of `most`."""
    if value <= 0 or most <= 0:
        return 0
    return min(BANDS - 1, 1 + (value * 4 - 1) // most)


def heatmap(
    *,
    title: str,
    description: str,
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[int]],
    most: int,
) -> str:
    """A grid of shaded cells (rows x columns), each with its value as a tooltip; the page gives the same figures
    as a table beside it."""
    cell, left, top = 22, 340, 150
    width, height = left + cell * len(columns) + 10, top + cell * len(rows) + 10
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="app-heatmap" role="img" viewBox="0 0 {width} {height}" '
        'aria-labelledby="heat-title heat-desc">',
        f'<title id="heat-title">{escape(title)}</title>',
        f'<desc id="heat-desc">{escape(description)}</desc>',
    ]
    for j, name in enumerate(columns):
        x = left + j * cell + cell / 2
        out.append(
            f'<text class="app-heatmap__label" transform="translate({x + 4} {top - 6}) rotate(-60)">'
            f"{escape(name)}</text>"
        )
    for i, name in enumerate(rows):
        y = top + i * cell
        out.append(
            f'<text class="app-heatmap__label" x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(name)}</text>'
        )
        for j, value in enumerate(values[i]):
            shade = band(value, most)
            out.append(
                f'<rect class="app-heatmap__cell app-shade-{shade}" x="{left + j * cell}" y="{y}" width="{cell - 2}" '
                f'height="{cell - 2}"><title>{escape(name)}, {escape(columns[j])}: {value}</title></rect>'
            )
    out.append("</svg>")
    return "".join(out)


class AreaKind(Protocol):
    @property
    def code(self) -> str: ...
    @property
    def kind(self) -> str: ...


class Places(Protocol):
    """What a catchment map needs of the index's places (service/index/places.py), without importing it."""

    @property
    def areas(self) -> Sequence[AreaKind]: ...
    def area_shape(self, code: str) -> Any: ...


def catchment_map(places: Places, name: str, description: str, catchment: Catchment, location: Point | None) -> str:
    """A service's catchment shaded over its areas, with its location: on the service's page and on the editors'
    catchment page alike."""
    shaded: list[Any] = []
    match catchment:
        case AreaCatchment(codes=codes):
            shaded = [places.area_shape(c) for c in codes]
        case PolygonCatchment(geometry=geometry):
            shaded = [to_shape(geometry)]
        case RadiusCatchment(km=km) if location is not None:
            shaded = [circle(location.lon, location.lat, km)]
        case NationalCatchment():
            shaded = [places.area_shape(a.code) for a in places.areas if a.kind == "police_force_area"]
        case _:
            pass
    markers = []
    if location is not None:
        markers.append(Marker(label="S", lon=location.lon, lat=location.lat, title=f"{name} (its location)"))
    shaded = [s for s in shaded if s is not None]
    if not shaded and not markers:
        return ""
    return draw(
        title=f"Catchment of {name}", description=description, areas=[], origin=None, markers=markers, shaded=shaded
    )
