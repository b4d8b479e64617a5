"""Origins at realistic scale, on the real open data in ../shared/geodata (skipped where it is absent)."""

from __future__ import annotations

import csv
import datetime as dt

import pytest

from service.domain.model import Taxonomies, Taxonomy
from service.index.engine import DirectoryIndex, IndexConfig
from service.search.entry import make_geocoder
from service.store.area_import import areas_from_document
from service.store.postcodes import parse_centroids
from tests.conftest import SHARED_GEODATA, needs_shared

EMPTY = Taxonomy(name="x", version=1, terms=())


@pytest.fixture(scope="module")
def forces() -> DirectoryIndex:
    data = (SHARED_GEODATA / "police_force_areas.geojson").read_bytes()
    _, areas, problems = areas_from_document(
        data, code_property="PFA23CD", name_property="PFA23NM", kind="police_force_area"
    )
    assert not problems.items
    return DirectoryIndex.build(
        services=[],
        areas=[a for _, a in areas],
        sites=[],
        postcodes={},
        vocab=Taxonomies(needs=EMPTY, circumstances=EMPTY),
        version=0,
        config=IndexConfig(),
        now=dt.datetime.now(dt.UTC),
    )


@needs_shared()
def test_every_custody_suite_resolves_to_the_force_in_its_pfa23cd_column(forces: DirectoryIndex) -> None:
    with (SHARED_GEODATA / "custody_suites_moj_pecs.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 251
    wrong = [
        (r["nomis_agency_id"], r["pfa23cd"], force.code if force else None)
        for r in rows
        if (force := forces.resolve_point(float(r["longitude"]), float(r["latitude"])).force) is None
        or force.code != r["pfa23cd"]
    ]
    assert wrong == []


@needs_shared()
def test_outcode_centroids_resolve_to_their_force_except_those_straddling_a_boundary(forces: DirectoryIndex) -> None:
    with (SHARED_GEODATA / "outcodes.csv").open() as f:
        rows = [r for r in csv.DictReader(f) if r["pfa23cd"] and float(r["pfa_share"]) >= 1]
    assert len(rows) > 1800
    wrong = [
        (r["outcode"], r["pfa23cd"])
        for r in rows
        if (force := forces.resolve_point(float(r["longitude"]), float(r["latitude"])).force) is None
        or force.code != r["pfa23cd"]
    ]
    assert wrong == []


@needs_shared()
def test_the_public_outcode_and_sector_tables_parse_in_full() -> None:
    outcodes = parse_centroids((SHARED_GEODATA / "outcodes.csv").read_text(encoding="utf-8"))
    sectors = parse_centroids((SHARED_GEODATA / "postcode_sectors.csv").read_text(encoding="utf-8"))
    assert len(outcodes) == 2864 and len(sectors) == 10847
    assert {kind for _, kind, _, _ in outcodes} == {"outcode"} and {kind for _, kind, _, _ in sectors} == {"sector"}


def test_the_online_geocoder_is_off_unless_configured() -> None:
    assert make_geocoder("", "ld-pathways") is None
    assert make_geocoder("nominatim", "ld-pathways") is not None
    with pytest.raises(ValueError, match="nominatim"):
        make_geocoder("google", "ld-pathways")
