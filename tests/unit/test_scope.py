"""An editor's reach is judged by what a catchment covers (service.domain.scope), on made-up areas and, where
../shared/geodata is present, on the real police force areas and districts."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from service.domain.access import Forbidden, Identity, may_write_service
from service.domain.model import Area, AreaCatchment, Catchment, NationalCatchment, Point, RadiusCatchment
from service.domain.scope import BORDER_KM, Territory
from tests.conftest import SHARED_GEODATA, needs_shared


def box(x0: float, y0: float, x1: float, y1: float) -> list[list[float]]:
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]


def area(code: str, *rings: list[list[float]], kind: str = "police_force_area") -> Area:
    return msgspec.convert(
        {"code": code, "name": code, "kind": kind, "boundary": {"type": "Polygon", "coordinates": list(rings)}}, Area
    )


CITY = box(-0.52, 52.78, -0.48, 52.80)  # about 2.7 by 2.2 km
AREAS = [
    area("A", box(-1.0, 52.0, 0.0, 53.0), CITY),  # a force with a hole where a small force sits
    area("B", box(0.0, 52.0, 1.0, 53.0)),  # its neighbour to the east
    area("C", CITY),  # the small force in the hole
    area("D", box(-0.8, 52.2, -0.5, 52.5), kind="local_authority"),  # a district inside A
    area("E", box(0.2, 52.2, 0.5, 52.5), kind="local_authority"),  # a district inside B
    area("R", box(-1.2, 51.8, 1.2, 53.2), kind="custom"),  # a region holding A and B
]
TERRITORY = Territory(AREAS)
EDITOR_A = frozenset({"A"})


def polygon(*rings: list[list[float]]) -> Catchment:
    found: Catchment = msgspec.convert(
        {"type": "polygon", "geometry": {"type": "Polygon", "coordinates": list(rings)}}, Catchment
    )
    return found


def judge(catchment: Catchment, location: Point | None = None, codes: frozenset[str] = EDITOR_A) -> tuple[str, ...]:
    verdict = TERRITORY.judge(codes, catchment, location)
    return ("national",) if verdict.national else verdict.outside


def test_a_small_radius_inside_the_force_is_within_its_editors_reach() -> None:
    assert judge(RadiusCatchment(km=10), Point(lon=-0.5, lat=52.5)) == ()


def test_a_500_km_radius_reaches_every_other_force_and_is_refused() -> None:
    reached = judge(RadiusCatchment(km=500), Point(lon=-0.5, lat=52.5))
    assert {"B (B)", "C (C)", "E (E)"} <= set(reached)


def test_a_polygon_over_the_neighbouring_force_is_refused_whatever_the_service_location() -> None:
    assert "B (B)" in judge(polygon(box(0.2, 52.2, 0.8, 52.8)), Point(lon=-0.5, lat=52.5))


def test_a_district_lying_inside_the_force_counts_as_the_editors_own() -> None:
    assert judge(AreaCatchment(codes=("D",))) == ()


def test_a_district_of_another_force_does_not() -> None:
    assert "E (E)" in judge(AreaCatchment(codes=("A", "E")))


def test_crossing_the_border_by_a_sliver_is_tolerated() -> None:
    # 1 km over the border into B, along 20 km of it: 20 km², under 1 % of B and within the border band.
    over = 1.0 / (111.32 * 0.61)
    assert judge(polygon(box(-0.3, 52.4, over, 52.58))) == ()


def test_a_thin_corridor_deep_into_another_force_is_refused_though_its_area_is_small() -> None:
    corridor = box(-0.3, 52.5, 0.9, 52.5015)  # 160 m wide, 60 km into B
    assert "B (B)" in judge(polygon(corridor))


def test_a_small_whole_force_cannot_be_swallowed_by_the_border_tolerance() -> None:
    """Every point of C lies within 2 km of A, but C is someone else's: covering it is refused."""
    assert "C (C)" in judge(polygon(box(-0.56, 52.76, -0.44, 52.82)))


def test_a_region_holding_the_force_is_not_someone_elses_land_where_it_overlaps_the_force() -> None:
    assert judge(RadiusCatchment(km=25), Point(lon=-0.5, lat=52.5)) == ()


def test_reaching_far_beyond_every_stored_area_is_refused_and_a_little_is_not() -> None:
    west_coast = Point(lon=-1.0, lat=52.5)  # A's western edge; R ends 0.2 degrees (13.5 km) further west
    assert judge(RadiusCatchment(km=BORDER_KM), west_coast) == ()
    far = judge(polygon(box(-1.6, 52.4, -0.9, 52.6)))  # 40 km out beyond A, past the region too
    assert any("beyond the key's areas" in reason for reason in far)


def test_a_national_catchment_is_for_admins_only() -> None:
    assert judge(NationalCatchment()) == ("national",)
    editor = Identity(kind="key", id="k", name="e", role="editor", areas=EDITOR_A)
    with pytest.raises(Forbidden, match="only an admin"):
        may_write_service(editor, TERRITORY.judge(EDITOR_A, NationalCatchment(), None))
    may_write_service(Identity(kind="key", id="a", name="a", role="admin"), None)


def test_the_refusal_names_the_areas_reached() -> None:
    editor = Identity(kind="key", id="k", name="e", role="editor", areas=EDITOR_A)
    with pytest.raises(Forbidden, match=r"reaches .*B \(B\)"):
        may_write_service(editor, TERRITORY.judge(EDITOR_A, polygon(box(0.2, 52.2, 0.8, 52.8)), None))


# --- the real boundaries ----------------------------------------------------------------------------------


def _real_areas() -> list[Area]:
    found = []
    for name, code, label, kind in (
        ("police_force_areas.geojson", "PFA23CD", "PFA23NM", "police_force_area"),
        ("local_authority_districts.geojson", "LAD25CD", "LAD25NM", "local_authority"),
    ):
        for f in json.loads((SHARED_GEODATA / name).read_text())["features"]:
            props: dict[str, Any] = f["properties"]
            record = {"code": props[code], "name": props[label], "kind": kind, "boundary": f["geometry"]}
            found.append(msgspec.convert(record, Area))
    return found


@pytest.fixture(scope="module")
def england_and_wales() -> Territory:
    return Territory(_real_areas())


HUMBERSIDE = frozenset({"E23000012"})
SCUNTHORPE = Point(lon=-0.654, lat=53.588)


@needs_shared()
def test_on_the_real_boundaries_the_issues_humberside_escapes_are_refused(england_and_wales: Territory) -> None:
    big = england_and_wales.judge(HUMBERSIDE, RadiusCatchment(km=500), SCUNTHORPE).outside
    assert {"E23000001 (Metropolitan Police)", "E23000026 (Bedfordshire)", "E23000005 (Greater Manchester)"} <= set(big)
    south = polygon(box(-3.5, 51.4, 0.2, 52.3))
    assert "W15000003 (South Wales)" in england_and_wales.judge(HUMBERSIDE, south, SCUNTHORPE).outside


@needs_shared()
def test_on_the_real_boundaries_humberside_keeps_what_is_its_own(england_and_wales: Territory) -> None:
    assert england_and_wales.judge(HUMBERSIDE, RadiusCatchment(km=8), SCUNTHORPE).within
    hull_and_east_riding = AreaCatchment(codes=("E06000010", "E06000011"))
    assert england_and_wales.judge(HUMBERSIDE, hull_and_east_riding, None).within
    assert not england_and_wales.judge(HUMBERSIDE, AreaCatchment(codes=("E08000035",)), None).within  # Leeds


@needs_shared()
def test_on_the_real_boundaries_every_district_is_its_own_forces_and_no_other(england_and_wales: Territory) -> None:
    """The districts (super-generalised) and forces (ultra-generalised) come from different products, so their
    coasts and borders disagree; each district still counts as its own force's, and as no other force's."""
    lookup = {
        f["properties"]["LAD25CD"]: f["properties"]["PFA23CD"]
        for f in json.loads((SHARED_GEODATA / "local_authority_districts.geojson").read_text())["features"]
    }
    forces = sorted(set(lookup.values()))
    for district, force in lookup.items():
        assert england_and_wales.judge({force}, AreaCatchment(codes=(district,)), None).within, district
    neighbours = {"E23000012": ["E23000020", "E23000009", "E23000011"]}  # Lincolnshire, North Yorks, S Yorks
    for force, others in neighbours.items():
        for district in (d for d, f in lookup.items() if f in others):
            assert not england_and_wales.judge({force}, AreaCatchment(codes=(district,)), None).within
    assert len(forces) == 43
