"""An editor's reach is judged by what a catchment covers (service.domain.scope), on made-up areas and, where
../shared/geodata is present, on the real police force areas and districts."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import uuid
from typing import Any

import msgspec
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from service.domain.access import Forbidden, Identity, may_write_service
from service.domain.geometry import to_shape
from service.domain.model import (
    Area,
    AreaCatchment,
    Catchment,
    NationalCatchment,
    Point,
    PolygonCatchment,
    RadiusCatchment,
    Site,
)
from service.domain.scope import (
    BORDER_KM,
    EDGE_KM,
    REACH_KM,
    Drawn,
    Territory,
    Verdict,
    Writer,
    drawn_shape,
    recheck,
    to_km,
)
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


def names(verdict: Verdict) -> set[str]:
    """The places a refusal names, without the words on how far it reaches into each."""
    return {reason.split(": ")[0] for reason in verdict.outside}


def polygon(*rings: list[list[float]]) -> Catchment:
    found: Catchment = msgspec.convert(
        {"type": "polygon", "geometry": {"type": "Polygon", "coordinates": list(rings)}}, Catchment
    )
    return found


def judge(catchment: Catchment, location: Point | None = None, codes: frozenset[str] = EDITOR_A) -> tuple[str, ...]:
    """What the catchment reaches beyond the key's areas: each area by its name, as the refusal begins its words."""
    verdict = TERRITORY.judge(codes, catchment, location)
    return ("national",) if verdict.national else tuple(reason.split(": ")[0] for reason in verdict.outside)


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
    assert far == ("R (R)",)  # the region, someone else's, is named; what lies past it is refused with it
    coast = Territory([a for a in AREAS if a.code in {"A", "B"}])  # nothing stored west of A: the sea
    (words,) = coast.judge(EDITOR_A, polygon(box(-1.6, 52.4, -0.9, 52.6)), None).outside
    assert words.startswith("40.") and "beyond the key's areas (at most 15 km)" in words


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
    big = names(england_and_wales.judge(HUMBERSIDE, RadiusCatchment(km=500), SCUNTHORPE))
    assert {"E23000001 (Metropolitan Police)", "E23000026 (Bedfordshire)", "E23000005 (Greater Manchester)"} <= big
    south = polygon(box(-3.5, 51.4, 0.2, 52.3))
    assert "W15000003 (South Wales)" in names(england_and_wales.judge(HUMBERSIDE, south, SCUNTHORPE))


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


# --- every point a catchment can reach --------------------------------------------------------------------

KM_LON = 1 / (111.32 * math.cos(math.radians(52.5)))
"""Degrees of longitude to the kilometre on the judging plane (and, near enough, on the ground at 52.5° N)."""


def square(lon: float, lat: float, metres: float = 20.0) -> list[list[float]]:
    """A small square centred on a point, `metres` across, as someone would draw it over a custody suite."""
    half = metres / 2000
    return box(lon - half * KM_LON, lat - half / 110.574, lon + half * KM_LON, lat + half / 110.574)


def multipolygon(*parts: list[list[float]]) -> Catchment:
    found: Catchment = msgspec.convert(
        {"type": "polygon", "geometry": {"type": "MultiPolygon", "coordinates": [[p] for p in parts]}}, Catchment
    )
    return found


def site(slug: str, lon: float, lat: float, *codes: str) -> Site:
    return Site(
        id=uuid.uuid4(),
        slug=slug,
        name=slug.replace("-", " "),
        kind="custody_suite",
        location=Point(lon=lon, lat=lat),
        area_codes=codes,
        version=1,
        updated_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    )


B_SUITE = site("b-border-suite", 0.005, 52.65, "B")  # 340 m inside B, its force
A_SUITE_OVER = site("a-suite-over-the-line", 0.004, 52.45, "A")  # A's own suite, where B's boundary is drawn over it
WITH_SITES = TERRITORY.with_sites([B_SUITE, A_SUITE_OVER])
HOME = box(-0.5, 52.4, -0.3, 52.6)  # in A, far from every border


def test_a_tiny_square_deep_inside_another_force_is_refused_however_small() -> None:
    """The issue's escape: a square in the editor's force plus a 20 m square on another force's custody suite."""
    assert "B (B)" in judge(multipolygon(HOME, square(0.7, 52.7)))
    assert "B (B)" in judge(multipolygon(HOME, square(0.7, 52.7, metres=0.05)))  # 5 cm across: a point fits


def test_a_catchment_that_is_only_a_tiny_square_in_another_force_is_refused() -> None:
    assert "B (B)" in judge(polygon(square(0.7, 52.7)), Point(lon=-0.5, lat=52.5))


def test_a_tiny_square_on_the_small_forces_custody_suite_inside_the_hole_is_refused() -> None:
    """Every point of C lies within the border tolerance of A, so its custody suite is kept out by the site rule."""
    with_suite = TERRITORY.with_sites([site("c-suite", -0.5, 52.79, "C")])
    reached = with_suite.judge(EDITOR_A, multipolygon(HOME, square(-0.5, 52.79, metres=1)), None).outside
    assert any("c-suite" in reason for reason in reached)


def test_a_district_editor_cannot_reach_the_rest_of_its_force_by_a_tiny_square() -> None:
    district = frozenset({"D"})  # D lies inside A; the rest of A is someone else's to a key for D alone
    assert "A (A)" in judge(multipolygon(box(-0.7, 52.3, -0.6, 52.4), square(-0.2, 52.8)), codes=district)
    assert judge(polygon(box(-0.7, 52.3, -0.6, 52.4)), codes=district) == ()


def test_a_catchment_holding_another_forces_custody_suite_is_refused_however_near_the_border() -> None:
    sliver = box(-0.3, 52.4, 1.0 * KM_LON, 52.58)  # 1 km over the border along 20 km: tolerated on its own
    assert WITH_SITES.judge(EDITOR_A, polygon(sliver), None).within
    holding = box(-0.3, 52.6, 1.0 * KM_LON, 52.7)
    refused = WITH_SITES.judge(EDITOR_A, polygon(holding), None).outside
    assert any("b-border-suite" in reason for reason in refused)
    tiny = WITH_SITES.judge(EDITOR_A, multipolygon(HOME, square(0.005, 52.65, metres=0.5)), None).outside
    assert any("b-border-suite" in reason for reason in tiny)


def test_the_keys_own_site_drawn_just_over_the_line_is_still_the_keys() -> None:
    holding = box(-0.3, 52.40, 1.0 * KM_LON, 52.58)  # holds A's suite, which B's boundary happens to cover
    assert WITH_SITES.judge(EDITOR_A, polygon(holding), None).within


def test_a_tiny_square_beyond_the_reach_over_the_sea_is_refused_and_a_coast_is_not() -> None:
    coast = Territory([a for a in AREAS if a.code in {"A", "B"}])  # nothing stored west of A: the sea
    far_out = multipolygon(HOME, square(-1.0 - (REACH_KM + 1) * KM_LON, 52.5, metres=1))
    assert coast.judge(EDITOR_A, far_out, None).outside
    assert coast.judge(EDITOR_A, polygon(box(-1.0 - (REACH_KM - 1) * KM_LON, 52.3, -0.8, 52.7)), None).within


def test_a_key_whose_areas_are_not_stored_reaches_nothing_and_is_told_why() -> None:
    (words,) = TERRITORY.judge({"GONE"}, polygon(HOME), None).outside
    assert "none of this key's areas (GONE) is stored" in words


def test_the_refusal_says_how_far_the_catchment_reaches_into_the_other_area() -> None:
    words = judge_words(multipolygon(HOME, square(0.7, 52.7)))
    (reason,) = [w for w in words if w.startswith("B (B)")]
    assert reason.startswith("B (B): 47.") and "at most 2 km" in reason


def judge_words(catchment: Catchment) -> tuple[str, ...]:
    return TERRITORY.judge(EDITOR_A, catchment, None).outside


# --- the property: no point of an accepted catchment lies further inside another area than the tolerance -----

KM = {a.code: to_km(to_shape(a.boundary)) for a in AREAS}
A_KM = KM["A"]
OTHERS_OF_A = {code: shape for code, shape in KM.items() if code in {"B", "C", "E", "R"}}  # D lies inside A
ANYWHERE_KM = shapely.union_all([*OTHERS_OF_A.values(), A_KM])
# Where random shapes are drawn: along the A/B border, round the small force in A's hole, at A's outer edge (where
# the region is someone else's), inside A, and deep in B.
CENTRES = [(0.0, 52.5), (-0.5, 52.79), (-1.0, 52.5), (-0.5, 53.0), (-0.5, 52.5), (0.5, 52.5), (-1.2, 52.5)]


@st.composite
def drawn_catchments(draw: st.DrawFn) -> Catchment:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        lon0, lat0 = draw(st.sampled_from(CENTRES))
        km = draw(st.sampled_from([0.001, 0.02, 0.3, 1.5, 2.5, 8.0, 20.0]))
        dx = draw(st.floats(-1.0, 1.0)) * max(km, 3.0) * KM_LON
        dy = draw(st.floats(-1.0, 1.0)) * max(km, 3.0) / 110.574
        corners = [
            (lon0 + dx + draw(st.floats(-1, 1)) * km * KM_LON, lat0 + dy + draw(st.floats(-1, 1)) * km / 110.574)
            for _ in range(draw(st.integers(3, 7)))
        ]
        hull = shapely.convex_hull(shapely.MultiPoint(corners))
        if isinstance(hull, shapely.Polygon) and hull.area > 1e-16:  # not a sliver set_precision cannot scale
            parts.append(hull)
    shape = shapely.union_all(parts) if parts else shapely.Polygon(box(-0.5, 52.4, -0.4, 52.5))
    try:  # a union of slivers can still be one that set_precision cannot scale: then the test's home area instead
        with np.errstate(divide="raise", invalid="raise"):
            shape = shapely.set_precision(shape, 1e-9)
    except FloatingPointError:
        shape = shapely.Polygon(HOME)
    geometry = json.loads(shapely.to_geojson(shape if shape.area > 0 else shapely.Polygon(HOME)))
    found: Catchment = msgspec.convert({"type": "polygon", "geometry": geometry}, Catchment)
    return found


def sample_points(shape_km: Any, count: int = 300) -> list[Any]:
    """The shape's corners, a point inside each of its parts, and random points inside it."""
    rng = np.random.default_rng(7)
    corners = list(np.asarray(shapely.points(shapely.get_coordinates(shape_km)), dtype=object).reshape(-1))
    inner = [shapely.point_on_surface(p) for p in shapely.get_parts(shape_km)]
    x0, y0, x1, y1 = shape_km.bounds
    xy = np.column_stack([rng.uniform(x0, x1, count), rng.uniform(y0, y1, count)])
    candidates = np.asarray(shapely.points(xy), dtype=object).reshape(-1)
    inside = list(candidates[shapely.contains(shape_km, candidates)])
    return [*corners, *inner, *inside]


@settings(max_examples=300, deadline=None, derandomize=True)
@given(drawn_catchments())
def test_no_point_of_an_accepted_catchment_is_further_than_the_tolerance_inside_another_area(
    catchment: Catchment,
) -> None:
    if not TERRITORY.judge(EDITOR_A, catchment, None).within:
        return
    shape = drawn_shape(catchment, None)  # type: ignore[arg-type]
    assert shape is not None
    for point in sample_points(shape):
        depth = float(shapely.distance(A_KM, point))
        # Inside another area, not on its edge: a catchment that only touches an area's edge (no area in common,
        # as a corner snapped onto it can) serves none of it.
        if any(other.contains(point) for other in OTHERS_OF_A.values()) and not A_KM.contains(point):
            assert depth <= BORDER_KM + EDGE_KM + 1e-6, (point, depth)
        elif not ANYWHERE_KM.intersects(point):
            assert depth <= REACH_KM + EDGE_KM + 1e-6, (point, depth)


# --- re-checking stored services --------------------------------------------------------------------------


def test_a_stored_service_drawn_by_an_editor_beyond_its_areas_is_reported_with_its_writer() -> None:
    editor = Writer(actor="key:Humberside L&D (1f0c2a3b)", role="editor", areas=EDITOR_A)
    admin = Writer(actor="key:PCC office (99aa00bb)", role="admin", areas=frozenset())
    drawn = [
        Drawn(slug="escape", catchment=multipolygon(HOME, square(0.7, 52.7)), location=None, actor=editor.actor),
        Drawn(slug="home", catchment=polygon(HOME), location=None, actor=editor.actor),
        Drawn(slug="admins-own", catchment=polygon(box(0.2, 52.2, 0.8, 52.8)), location=None, actor=admin.actor),
        Drawn(slug="demo", catchment=polygon(box(0.2, 52.2, 0.8, 52.8)), location=None, actor="demo loader"),
        Drawn(slug="by-token", catchment=polygon(HOME), location=None, actor="jwt:someone@example.org"),
    ]
    found = {f.slug: f for f in recheck(TERRITORY, drawn, {w.actor: w for w in (editor, admin)})}
    assert set(found) == {"escape", "by-token"}
    assert found["escape"].areas == ("A",) and any(w.startswith("B (B)") for w in found["escape"].outside)
    assert found["by-token"].unjudged


# --- the issue's escapes, and the legitimate borders, on the real boundaries ------------------------------


def _suites() -> list[Site]:
    with (SHARED_GEODATA / "custody_suites_moj_pecs.csv").open() as f:
        rows = list(csv.DictReader(f))
    return [
        site(r["nomis_agency_id"].lower(), float(r["longitude"]), float(r["latitude"]), r["pfa23cd"], r["lad25cd"])
        for r in rows
    ]


@pytest.fixture(scope="module")
def with_suites(england_and_wales: Territory) -> tuple[Territory, list[Site]]:
    suites = _suites()
    return england_and_wales.with_sites(suites), suites


HULL = square(-0.34, 53.75, metres=1000)


def _suite_square(s: Site) -> list[list[float]]:
    """About 22 m by 14 m on a suite's published coordinates, as the issue's escape drew them."""
    lon, lat = s.location.lon, s.location.lat
    return box(lon - 0.00016, lat - 0.00006, lon + 0.00016, lat + 0.00006)


@needs_shared()
def test_on_the_real_boundaries_squares_on_four_other_forces_custody_suites_are_refused(
    england_and_wales: Territory,
) -> None:
    """The issue's escape, judged with no sites stored at all: how deep the squares lie is enough to refuse them."""
    forces = ["E23000001", "E23000026", "E23000005", "W15000003"]  # the Met, Bedfordshire, GM, South Wales
    suites = [next(s for s in _suites() if s.area_codes[0] == force) for force in forces]
    escape = multipolygon(HULL, *(_suite_square(s) for s in suites))
    reached = names(england_and_wales.judge(HUMBERSIDE, escape, None))
    assert {f"{f} ({england_and_wales.names[f]})" for f in forces} <= reached
    only_a_square = polygon(_suite_square(suites[0]))
    assert names(england_and_wales.judge({"E06000010"}, only_a_square, Point(lon=-0.34, lat=53.75)))  # Hull's key


@needs_shared()
def test_on_the_real_boundaries_no_custody_suite_near_a_border_can_be_reached_by_the_neighbouring_forces_editor(
    with_suites: tuple[Territory, list[Site]],
) -> None:
    territory, suites = with_suites
    forces = {c: territory.shapes[c] for c in territory.codes if c[:3] in {"E23", "W15"}}
    tried = 0
    for s in suites:
        point = to_km(shapely.Point(s.location.lon, s.location.lat))
        for code, shape in forces.items():
            if code == s.area_codes[0] or shape.distance(point) > BORDER_KM:
                continue
            home = shapely.point_on_surface(shape)  # in km; back to degrees for the catchment
            lon, lat = home.x * KM_LON, home.y / 110.574
            verdict = territory.judge({code}, multipolygon(square(lon, lat), _suite_square(s)), None)
            assert any(s.slug in reason for reason in verdict.outside), (s.slug, code, verdict)
            tried += 1
    assert tried >= 25  # 25 of the 251 suites lie within 2 km of another force


@needs_shared()
def test_on_the_real_boundaries_every_force_drawn_from_its_districts_is_within_its_own_editors_reach(
    with_suites: tuple[Territory, list[Site]],
) -> None:
    """A boundary drawn from another source (the forces dissolved from the super-generalised districts, coasts,
    estuaries and islands included) is the key's own, with every custody suite there is."""
    territory, _ = with_suites
    features = json.loads((SHARED_GEODATA / "police_force_areas_from_lad2025.geojson").read_text())["features"]
    for f in features:
        drawn: Catchment = msgspec.convert({"type": "polygon", "geometry": f["geometry"]}, Catchment)
        verdict = territory.judge({f["properties"]["PFA23CD"]}, drawn, None)
        assert verdict.within, (f["properties"]["PFA23NM"], verdict.outside)
    assert len(features) == 43


@settings(max_examples=200, deadline=None)
@given(
    lon=st.floats(-3.0, 3.0),
    lat=st.floats(50.5, 55.5),
    km=st.sampled_from([0.5, 2.0, 5.0, 20.0, 60.0, 150.0, 500.0]),
)
def test_listing_an_editors_services_answers_as_judging_each_write_would(lon: float, lat: float, km: float) -> None:
    scope = TERRITORY.scope(EDITOR_A)
    location = Point(lon=lon, lat=lat)
    catchment = RadiusCatchment(km=km)
    assert scope.covers(catchment, location) == scope.judge(catchment, location).within


@settings(max_examples=200, deadline=None)
@given(
    lon=st.floats(-3.0, 3.0),
    lat=st.floats(50.5, 55.5),
    size=st.sampled_from([0.001, 0.05, 0.3, 1.5]),
    twice=st.booleans(),
)
def test_listing_answers_as_judging_would_for_a_drawn_polygon_too(
    lon: float, lat: float, size: float, twice: bool
) -> None:
    ring = box(lon, lat, lon + size, lat + size)
    geometry: dict[str, Any] = {"type": "Polygon", "coordinates": [ring]}
    if twice:
        geometry = {"type": "MultiPolygon", "coordinates": [[ring], [box(-0.6, 52.6, -0.55, 52.65)]]}
    catchment = msgspec.convert({"type": "polygon", "geometry": geometry}, PolygonCatchment)
    scope = TERRITORY.scope(EDITOR_A)
    assert scope.covers(catchment, None) == scope.judge(catchment, None).within


def test_listing_counts_an_area_the_key_holds_beyond_its_reach_as_its_own_as_judging_does() -> None:
    territory = Territory(
        [area("K", box(-2.0, 52.0, -1.0, 53.0)), area("H", box(-2.0, 52.0, -0.333, 53.0), kind="custom")]
    )
    scope = territory.scope(frozenset({"K"}))
    inside_h = msgspec.convert(
        {"type": "polygon", "geometry": {"type": "Polygon", "coordinates": [box(-0.45, 52.4, -0.40, 52.45)]}}, Catchment
    )
    assert scope.holds("H")
    assert scope.covers(inside_h, None) == scope.judge(inside_h, None).within
    far = Point(lon=-0.42, lat=52.42)
    assert scope.covers(RadiusCatchment(km=1), far) == scope.judge(RadiusCatchment(km=1), far).within
