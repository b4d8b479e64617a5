"""A point in no area takes the nearest area of each kind within 5 km on the ground, off every coast.

On the real open boundaries in ../shared/geodata (skipped where it is absent). Which area is nearest, and how far,
is worked out here independently of service/index/places.py: geopy's geodesic (WGS84 ellipsoid) to every point of
each boundary densified to 0.0003 degrees (20 to 33 m apart), so never more than about 17 m out.
"""

from __future__ import annotations

import json
import math
from typing import Any

import msgspec
import pytest
import shapely
from geopy.distance import geodesic
from shapely.geometry.base import BaseGeometry

from service.domain.geometry import to_shape
from service.domain.model import Area
from service.index.places import NEAREST_AREA_KM, Places
from tests.conftest import SHARED_GEODATA, needs_shared

FORCE, DISTRICT = "police_force_area", "local_authority"
DENSIFY_DEGREES = 0.0003
MARGIN_KM = 0.1
"""Each assertion below is unambiguous: the nearest area wins, and sits inside or outside 5 km, by at least this."""


def _real_areas() -> list[Area]:
    found = []
    for name, code, label, kind in (
        ("police_force_areas.geojson", "PFA23CD", "PFA23NM", FORCE),
        ("local_authority_districts.geojson", "LAD25CD", "LAD25NM", DISTRICT),
    ):
        for f in json.loads((SHARED_GEODATA / name).read_text())["features"]:
            props: dict[str, Any] = f["properties"]
            record = {"code": props[code], "name": props[label], "kind": kind, "boundary": f["geometry"]}
            found.append(msgspec.convert(record, Area))
    return found


@pytest.fixture(scope="module")
def areas() -> list[Area]:
    return _real_areas()


@pytest.fixture(scope="module")
def places(areas: list[Area]) -> Places:
    return Places(areas, [], {})


def ground_km(shape: BaseGeometry, lon: float, lat: float) -> float:
    """Geodesic kilometres from a point outside an area to the nearest point of its densified boundary, looking
    only within about 6 km (0.1 degrees of longitude, 0.06 of latitude); infinity where nothing is that near."""
    piece = shapely.clip_by_rect(shape.boundary, lon - 0.1, lat - 0.06, lon + 0.1, lat + 0.06)
    if piece.is_empty:
        return math.inf
    coords = shapely.get_coordinates(shapely.segmentize(piece, DENSIFY_DEGREES))
    return min(float(geodesic((lat, lon), (float(y), float(x))).km) for x, y in coords)


def ranked(areas: list[Area], kind: str, lon: float, lat: float) -> list[tuple[float, str]]:
    """The areas of a kind within about 6 km of the point, nearest first, by geodesic distance."""
    found = [(ground_km(to_shape(a.boundary), lon, lat), a.code) for a in areas if a.kind == kind]
    return sorted(f for f in found if f[0] < math.inf)


def degrees_away(areas: list[Area], code: str, lon: float, lat: float) -> float:
    """The distance the old rule measured: planar, in degrees, with a degree of longitude as long as one of latitude."""
    area = next(a for a in areas if a.code == code)
    return float(shapely.distance(to_shape(area.boundary), shapely.Point(lon, lat)))


def assert_in_no_area(areas: list[Area], lon: float, lat: float) -> None:
    assert not [a.code for a in areas if shapely.contains_xy(to_shape(a.boundary), lon, lat)]


OFF_EACH_COAST = {
    "north west, 3.5 km off Walney Island": (-3.328469, 54.135547, "E23000002", "E06000064"),  # Cumbria
    "north east, off Northumberland": (-1.49, 55.33, "E23000007", "E06000057"),  # Northumbria
    "east, off Great Yarmouth in Norfolk": (1.77, 52.72, "E23000024", "E07000145"),
    "east, off Skegness in Lincolnshire": (0.40, 53.14, "E23000020", "E07000137"),  # East Lindsey
    "south east, off Deal in Kent": (1.46, 51.22, "E23000032", "E07000108"),  # Dover
    "south, off Swanage in Dorset": (-1.885, 50.61, "E23000039", "E06000059"),
    "south west, off Land's End in Cornwall": (-5.77, 50.07, "E23000035", "E06000052"),  # Devon & Cornwall
    "Bristol Channel, off Weston-super-Mare": (-3.03, 51.36, "E23000036", "E06000024"),  # Avon and Somerset
    "west Wales, off Strumble Head in Pembrokeshire": (-5.145, 52.03, "W15000004", "W06000009"),  # Dyfed-Powys
    "north Wales, off Holyhead in Anglesey": (-4.765, 53.31, "W15000001", "W06000001"),  # North Wales
}


@needs_shared()
@pytest.mark.parametrize(("lon", "lat", "force", "district"), OFF_EACH_COAST.values(), ids=OFF_EACH_COAST.keys())
def test_a_point_a_few_km_off_each_coast_takes_the_force_and_district_nearest_on_the_ground(
    areas: list[Area], places: Places, lon: float, lat: float, force: str, district: str
) -> None:
    assert_in_no_area(areas, lon, lat)
    for kind, expected in ((FORCE, force), (DISTRICT, district)):
        (km, nearest), *others = ranked(areas, kind, lon, lat)
        assert nearest == expected, (kind, km, nearest)
        assert km <= NEAREST_AREA_KM - MARGIN_KM, (kind, km)
        assert not others or others[0][0] - km >= MARGIN_KM, (kind, km, others[0])
    resolution = places.resolve_point(lon, lat)
    assert {(a.kind, a.code) for a in resolution.areas} == {(FORCE, force), (DISTRICT, district)}
    assert resolution.force is not None and resolution.force.code == force


@needs_shared()
def test_the_point_off_walney_island_keeps_cumbrias_force_that_reckoning_in_degrees_lost(
    areas: list[Area], places: Places
) -> None:
    lon, lat = -3.328469, 54.135547
    assert_in_no_area(areas, lon, lat)
    [(km, cumbria)] = ranked(areas, FORCE, lon, lat)
    assert cumbria == "E23000002" and 3.3 < km < 3.7
    assert degrees_away(areas, cumbria, lon, lat) > 0.05  # the old 0.05-degree rule left it with no force at all
    resolution = places.resolve_point(lon, lat)
    assert resolution.force is not None and resolution.force.code == "E23000002"
    assert "E06000064" in resolution.codes  # Westmorland and Furness, with Barrow-in-Furness


@needs_shared()
def test_off_weston_super_mare_the_nearer_district_wins_not_the_one_nearer_in_degrees(
    areas: list[Area], places: Places
) -> None:
    lon, lat = -3.03, 51.36
    north_somerset, somerset = "E06000024", "E06000066"
    on_the_ground = dict((code, km) for km, code in ranked(areas, DISTRICT, lon, lat))
    assert on_the_ground[somerset] - on_the_ground[north_somerset] > 0.8  # about 2.5 km against 3.5 km
    assert degrees_away(areas, somerset, lon, lat) < degrees_away(areas, north_somerset, lon, lat)
    districts = [a.code for a in places.resolve_point(lon, lat).areas if a.kind == DISTRICT]
    assert districts == [north_somerset]


@needs_shared()
def test_a_point_over_5_km_from_land_resolves_to_nothing_though_degrees_put_it_within_reach(
    areas: list[Area], places: Places
) -> None:
    """5.4 km due south of St Catherine's Point on the Isle of Wight: 0.049 degrees of latitude, inside the old
    0.05-degree rule, but a degree of latitude is 111 km, not 100."""
    lon, lat = -1.30, 50.527
    assert_in_no_area(areas, lon, lat)
    nearest = ranked(areas, FORCE, lon, lat) + ranked(areas, DISTRICT, lon, lat)
    assert nearest and min(km for km, _ in nearest) >= NEAREST_AREA_KM + MARGIN_KM
    assert degrees_away(areas, "E23000030", lon, lat) < 0.05  # Hampshire, which the old rule gave it
    resolution = places.resolve_point(lon, lat)
    assert resolution.areas == () and resolution.force is None
