"""The official open files are recognised by what they hold, not by their names (ONS renames its downloads with every
vintage); Code-Point Open becomes outcode and sector centroids; rows of a sites CSV are read as written."""

from __future__ import annotations

import pytest

from service.domain.geofiles import (
    GridMeans,
    district_forces,
    is_codepoint_row,
    keeps_area,
    last_row_each,
    made_site_name,
    postcode_keys,
    recognise_boundaries,
    recognise_table,
    rows_in_block,
    site_rows,
    slug_of,
)


def test_a_layer_with_pfa_code_and_name_properties_is_the_force_areas_whatever_its_year() -> None:
    layer = recognise_boundaries(["OBJECTID", "PFA23CD", "PFA23NM", "BNG_E", "GlobalID"])
    assert layer is not None and (layer.layer, layer.code_property, layer.name_property, layer.year) == (
        "police_force_area",
        "PFA23CD",
        "PFA23NM",
        23,
    )
    older = recognise_boundaries(["PFA20CD", "PFA20NM", "PFA23CD", "PFA23NM"])
    assert older is not None and older.code_property == "PFA23CD"  # the latest codes the file carries


def test_a_district_layer_carrying_its_force_is_still_the_districts() -> None:
    layer = recognise_boundaries(["LAD25CD", "LAD25NM", "LAD23CD", "PFA23CD", "PFA23NM"])
    assert layer is not None and (layer.layer, layer.code_property) == ("local_authority", "LAD25CD")


def test_a_layer_with_a_code_but_no_name_or_neither_is_not_recognised() -> None:
    assert recognise_boundaries(["PFA23CD"]) is None
    assert recognise_boundaries(["code", "name"]) is None


def test_only_england_and_wales_are_kept_and_an_odd_code_is_left_for_the_import_to_report() -> None:
    assert keeps_area("local_authority", "E06000010") and keeps_area("local_authority", "W06000013")
    assert not keeps_area("local_authority", "S12000033") and not keeps_area("local_authority", "N09000003")
    assert keeps_area("local_authority", None) and keeps_area("police_force_area", "E23000012")


@pytest.mark.parametrize(
    ("header", "kind"),
    [
        (["outcode", "latitude", "longitude", "easting"], "outcodes"),
        (["sector", "latitude", "longitude"], "sectors"),
        (["\ufeffLAD23CD", "LAD23NM", "CSP23CD", "CSP23NM", "PFA23CD", "PFA23NM", "ObjectId"], "district_lookup"),
        (["nomis_agency_id", "postcode"], "moj_custody_suites"),
        (["nomis_agency_id", "id_prefix", "postcode_raw", "postcode", "latitude", "longitude"], "moj_custody_suites"),
        (
            ["AB101AA", "10", "394251", "806376", "S92000003", "", "S08000020", "", "S12000033", "S13002842"],
            "codepoint",
        ),
        (["name", "kind", "postcode"], "sites"),
        (["Name", "Lat", "Lng"], "sites"),
        (["just", "a", "header"], None),
        ([], None),
    ],
)
def test_a_table_is_known_by_its_first_row(header: list[str], kind: str | None) -> None:
    assert recognise_table(header) == kind


def test_code_point_rows_start_with_a_postcode_a_quality_and_a_grid_position() -> None:
    assert is_codepoint_row(["HU1 2AA", "10", "509000", "428000"])
    assert not is_codepoint_row(["Postcode", "Positional_quality_indicator", "Eastings", "Northings"])
    assert not is_codepoint_row(["HU1 2AA", "10"])


def test_code_point_centroids_are_the_mean_grid_positions_of_each_outcode_and_sector_without_unplaced_postcodes() -> (
    None
):
    means = GridMeans()
    for row in (
        ["HU1 2AA", "10", "509000", "428000"],
        ["HU12AB", "10", "509100", "428200"],  # Code-Point writes some postcodes without their space
        ["HU1 3AA", "10", "509300", "428600"],
        ["HU1 9ZZ", "90", "0", "0"],  # quality 90: no position
    ):
        means.add(row)
    assert means.skipped == 1
    assert means.means() == [
        ("outcode", "HU1", 509133.3333333333, 428266.6666666667),
        ("sector", "HU1 2", 509050.0, 428100.0),
        ("sector", "HU1 3", 509300.0, 428600.0),
    ]


def test_the_lookup_gives_each_district_its_force_from_the_latest_columns() -> None:
    rows = [
        {"LAD23CD": "E06000010", "PFA23CD": "E23000012", "CSP23CD": "E22000001"},
        {"LAD23CD": "E06000010", "PFA23CD": "E23000012", "CSP23CD": "E22000002"},
        {"LAD25CD": "E08000038", "LAD23CD": "E08000016", "PFA23CD": "E23000011"},
    ]
    assert district_forces(rows) == {"E06000010": "E23000012", "E08000038": "E23000011"}


def test_a_reference_listed_again_takes_its_last_row_in_the_order_of_its_last_appearance() -> None:
    rows = site_rows(
        [
            {"nomis_agency_id": "A1", "postcode": "HU1 1AA"},
            {"nomis_agency_id": "B1", "postcode": "HU2 2AA"},
            {"nomis_agency_id": "A1", "postcode": "hu5  1sw"},
            {"postcode": "LS1 4AP"},
        ]
    )
    kept, repeated = last_row_each(rows)
    assert [(r.ref, r.postcode, r.line) for r in kept] == [
        ("B1", "HU2 2AA", 3),
        ("A1", "HU5 1SW", 4),
        ("", "LS1 4AP", 5),
    ]
    assert repeated == {"A1": 2}


def test_columns_are_matched_without_case_and_the_first_with_a_value_wins() -> None:
    [row] = site_rows(
        [{"ID": "", "Code": "C1", "Site Name": "x", "NAME": " Hull  Magistrates' Court ", "Type": "Court"}]
    )
    assert (row.ref, row.name, row.kind) == ("C1", "Hull Magistrates' Court", "court")


def test_a_site_with_no_name_is_named_from_its_force_what_it_is_and_its_postcode() -> None:
    assert made_site_name("custody_suite", "HU5 1SW", "Humberside") == "Humberside custody suite, HU5 1SW"
    assert made_site_name("court", "HU1 2AA", None) == "Court, HU1 2AA"
    assert made_site_name("custody_suite", "", "Humberside") == "Humberside custody suite"


def test_slugs_are_lower_case_words_joined_by_hyphens() -> None:
    assert slug_of("HMB2") == "hmb2"
    assert slug_of("Hull Magistrates' Court") == "hull-magistrates-court"
    assert slug_of("!!!") == ""


@pytest.mark.parametrize(
    ("postcode", "keys"),
    [
        ("HU5 1SW", [("sector", "HU5 1"), ("outcode", "HU5")]),
        ("FY44 FG", [("sector", "FY4 4"), ("outcode", "FY4")]),  # mis-spaced in the MoJ list: read by its shape
        ("SW1A1AA", [("sector", "SW1A 1"), ("outcode", "SW1A")]),
        ("HU5", []),
        ("NOT A POSTCODE", []),
    ],
)
def test_a_postcode_is_placed_by_its_sector_then_its_district(postcode: str, keys: list[tuple[str, str]]) -> None:
    assert postcode_keys(postcode) == keys


def test_the_moj_police_block_is_the_references_from_its_first_to_its_last_with_their_later_corrections() -> None:
    refs = ["CT1", "DP1", "X1", "GWN2", "H1", "X1", "CT1"]
    rows = site_rows([{"nomis_agency_id": r, "postcode": "HU1 1AA"} for r in refs])
    block = rows_in_block(rows, "DP1", "GWN2")
    assert block is not None and [(r.ref, r.line) for r in block] == [
        ("DP1", 3),
        ("X1", 4),
        ("GWN2", 5),
        ("X1", 7),
    ]
    assert rows_in_block(rows, "GWN2", "DP1") is None
    assert rows_in_block(rows, "DP1", "NOPE") is None


def test_code_point_writes_short_postcodes_with_two_spaces_and_they_are_read() -> None:
    assert is_codepoint_row(["B1  5AP", "10", "406800", "286900"])
    assert recognise_table(["M1  1AE", "10", "384000", "398000", "E92000001"]) == "codepoint"
    assert not is_codepoint_row(["LS1 4HZ", "10", "²", "433000"])  # a digit to str.isdigit, not to int
    means = GridMeans()
    means.add(["B1  5AP", "10", "406800", "286900"])
    assert [(kind, code) for kind, code, _, _ in means.means()] == [("outcode", "B1"), ("sector", "B1 5")]


def test_an_unreferenced_row_belongs_to_the_block_only_where_it_stands_in_it() -> None:
    rows = site_rows([{"nomis_agency_id": r, "postcode": "HU1 1AA"} for r in ["C1", "A", "", "B", "", "H1"]])
    block = rows_in_block(rows, "A", "B")
    assert block is not None and [(r.ref, r.line) for r in block] == [("A", 3), ("", 4), ("B", 5)]
