"""Maps drawn by the server as SVG from stored geometries: no tiles and no external requests."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from html import escape

import shapely
from shapely.geometry.base import BaseGeometry

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
) -> str:
    """An accessible SVG: a title and description, the area outlines, shaded catchments, the origin, numbered
    markers. Longitude is scaled by the cosine of the mean latitude so that shapes keep their proportions."""
    points = [(m.lon, m.lat) for m in markers] + ([(origin.lon, origin.lat)] if origin else [])
    bounds = [g.bounds for g in [*areas, *shaded]] + [(x, y, x, y) for x, y in points]
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
