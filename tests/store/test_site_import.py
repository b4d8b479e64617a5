"""Sites as data: the MoJ custody-suite list as it is (a reference and a postcode, nothing else), any CSV with a place,
our own JSON, all or nothing; and the export back out, which imports again changing nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from service.domain.errors import ImportRejected, InvalidInput
from service.store.db import Connection
from service.store.site_import import SiteFileReport, export_sites, import_site_file
from service.store.taxonomy import current_taxonomies

FORCE = {  # a square round Hull, standing in for Humberside
    "code": "E23000012",
    "name": "Humberside",
    "kind": "police_force_area",
    "boundary": {
        "type": "Polygon",
        "coordinates": [[[-0.6, 53.6], [-0.1, 53.6], [-0.1, 53.9], [-0.6, 53.9], [-0.6, 53.6]]],
    },
}
CENTROIDS = [("HU5 1", "sector", -0.3418, 53.767), ("HU1", "outcode", -0.333, 53.744), ("LS1", "outcode", -1.55, 53.8)]


async def load(conn: Connection, data: str, **options: object) -> SiteFileReport:
    async with conn.transaction():
        vocab = await current_taxonomies(conn)
        return await import_site_file(conn, data.encode(), actor="tests", vocab=vocab, **options)  # type: ignore[arg-type]


@pytest.fixture
async def placed(conn: Connection) -> Connection:
    import msgspec

    from service.domain.model import Area
    from service.store.areas import write_area

    await write_area(conn, msgspec.convert(FORCE, type=Area), actor="tests")
    await conn.executemany(
        "insert into postcode_centroids (code, kind, lon, lat) values ($1, $2, $3, $4)",
        [(c, k, lon, lat) for c, k, lon, lat in CENTROIDS],
    )
    return conn


async def test_the_moj_list_as_it_is_becomes_custody_suites_named_from_force_and_postcode_placed_by_sector(
    placed: Connection,
) -> None:
    report = await load(placed, "nomis_agency_id,postcode\nHMB2,HU5 1SW\nHMB9,HU1 2AA\nWYP1,LS1 4AP\n")
    assert report.imported.sites.created == 3
    assert report.placed_by == {"sector": 1, "outcode": 2}
    assert report.named_from == {"made": 3}
    rows = {
        r["slug"]: (r["name"], r["kind"], list(r["area_codes"]))
        for r in await placed.fetch("select slug, name, kind, area_codes from sites")
    }
    assert rows == {
        "hmb2": ("Humberside custody suite, HU5 1SW", "custody_suite", ["E23000012"]),
        "hmb9": ("Humberside custody suite, HU1 2AA", "custody_suite", ["E23000012"]),
        "wyp1": ("Custody suite, LS1 4AP", "custody_suite", []),  # no force stored there yet: said, not guessed
    }
    assert report.without_area == 1


async def test_a_reference_listed_again_takes_its_last_row_as_the_moj_importer_does(placed: Connection) -> None:
    report = await load(placed, "nomis_agency_id,postcode\nHMB2,LS1 4AP\nHMB9,HU1 2AA\nHMB2,HU5 1SW\n")
    assert report.repeated == {"HMB2": 2}
    assert await placed.fetchval("select name from sites where slug = 'hmb2'") == "Humberside custody suite, HU5 1SW"


async def test_a_postcode_in_no_stored_sector_or_district_refuses_the_file_naming_its_line_or_is_left_out_when_asked(
    placed: Connection,
) -> None:
    data = "nomis_agency_id,postcode\nHMB2,HU5 1SW\nXX1,ZE1 0AA\nXX2,NOT A POSTCODE\n"
    with pytest.raises(ImportRejected) as refused:
        await load(placed, data)
    problems = {(p.index, p.key, p.field) for p in refused.value.problems}
    assert problems == {(3, "XX1", "postcode"), (4, "XX2", "postcode")}
    assert "setup-geography" in refused.value.problems[0].reason
    assert await placed.fetchval("select count(*) from sites") == 0

    with pytest.raises(ImportRejected):  # a malformed postcode is no missing centroid: refused even so
        await load(placed, data, skip_unplaced=True)
    report = await load(placed, data.replace("XX2,NOT A POSTCODE\n", ""), skip_unplaced=True)
    assert report.imported.sites.created == 1
    assert [p.key for p in report.left_out] == ["XX1"]


async def test_a_csv_with_names_kinds_and_coordinates_is_taken_as_written(placed: Connection) -> None:
    data = (
        "id,name,kind,latitude,longitude\n"
        "C1,Hull Magistrates' Court,court,53.744,-0.336\n"
        "P1,Clough Road Police Station,police station,53.77,-0.34\n"
    )
    report = await load(placed, data)
    assert report.placed_by == {"coordinates": 2} and report.named_from == {"file": 2}
    kinds = {r["slug"]: r["kind"] for r in await placed.fetch("select slug, kind from sites")}
    assert kinds == {"c1": "court", "p1": "police_station"}


async def test_rows_without_a_kind_need_one_for_the_file_and_an_unknown_kind_is_named(placed: Connection) -> None:
    with pytest.raises(ImportRejected) as refused:
        await load(placed, "name,postcode,kind\nA,HU1 1AA,\nB,HU1 1AB,prison\n")
    reasons = [p.reason for p in refused.value.problems]
    assert reasons[0].startswith("no kind: give a kind column, or --kind")
    assert reasons[1].startswith("unknown kind 'prison'")
    report = await load(placed, "name,postcode\nA,HU1 1AA\n", kind="court")
    assert report.imported.sites.created == 1


@pytest.mark.parametrize(
    "data",
    [b"\xff\xfenot utf-8", b"name,postcode\nA\x00,HU1 1AA\n", b"just,a,header\n", b""],
)
async def test_a_file_that_is_not_a_table_of_places_is_refused_and_nothing_is_written(
    placed: Connection, data: bytes
) -> None:
    with pytest.raises(InvalidInput):
        async with placed.transaction():
            await import_site_file(placed, data, actor="tests", vocab=await current_taxonomies(placed))
    assert await placed.fetchval("select count(*) from sites") == 0


async def test_the_export_as_csv_or_json_imports_again_changing_nothing(placed: Connection) -> None:
    await load(placed, "nomis_agency_id,postcode\nHMB2,HU5 1SW\nHMB9,HU1 2AA\n")
    as_csv = await export_sites(placed, "csv")
    assert as_csv.splitlines()[0] == "id,slug,name,kind,latitude,longitude,area_codes"
    again = await load(placed, as_csv)
    assert (again.imported.sites.created, again.imported.sites.unchanged) == (0, 2)

    from service.store.directory import import_sites

    as_json = await export_sites(placed, "json")
    assert {s["slug"] for s in json.loads(as_json)["sites"]} == {"hmb2", "hmb9"}
    async with placed.transaction():
        report = await import_sites(placed, as_json.encode(), actor="tests", vocab=await current_taxonomies(placed))
    assert (report.sites.created, report.sites.unchanged) == (0, 2)


async def test_over_the_api_an_admin_imports_the_moj_csv_and_anyone_who_reads_exports_it(
    placed: Connection, client: Any
) -> None:
    body = b"nomis_agency_id,postcode\nHMB2,HU5 1SW\n"
    r = await client.post("/v1/sites/import.csv", content=body, headers={"Content-Type": "text/csv"})
    assert r.status_code == 200, r.text
    assert r.json()["imported"]["sites"]["created"] == 1
    bad = await client.post("/v1/sites/import.csv", params={"kind": "prison"}, content=body)
    assert bad.status_code == 400 and "kind" in bad.text
    unplaced = await client.post("/v1/sites/import.csv", content=b"nomis_agency_id,postcode\nXX1,ZE1 0AA\n")
    assert unplaced.status_code == 422 and unplaced.json()["records"][0]["field"] == "postcode"
    exported = await client.get("/v1/sites/export.csv")
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert "hmb2,Humberside custody suite, HU5 1SW" in exported.text.replace('"', "")
    as_json = await client.get("/v1/sites/export")
    assert [s["slug"] for s in as_json.json()["sites"]] == ["hmb2"]
    client.headers.pop("Authorization")
    refused = await client.post("/v1/sites/import.csv", content=body)
    assert refused.status_code in (401, 403)


async def test_the_moj_list_whole_keeps_its_police_block_each_reference_taking_its_last_row_in_the_file(
    placed: Connection,
) -> None:
    data = (
        "nomis_agency_id,postcode\n"
        "HULLMC,HU1 2AD\n"  # a magistrates' court, before the police block
        "DP1,HU5 1SW\n"
        "HMB2,HU1 2AA\n"
        "GWN2,HU5 1SW\n"
        "ADDENH,LS1 4AP\n"  # a hospital, after it
        "HMB2,HU5 1SW\n"  # a correction at the end
    )
    report = await load(placed, data, block=("DP1", "GWN2"))
    assert report.imported.sites.created == 3 and report.repeated == {"HMB2": 2}
    assert {r["slug"] for r in await placed.fetch("select slug from sites")} == {"dp1", "hmb2", "gwn2"}
    assert await placed.fetchval("select name from sites where slug = 'hmb2'") == "Humberside custody suite, HU5 1SW"
    with pytest.raises(InvalidInput, match="block"):
        await load(placed, data, block=("GWN2", "DP1"))


@pytest.mark.parametrize(
    "data",
    [
        "id,name,kind,latitude,longitude\rA1,Foo,court,53.8,-1.5\r",  # old Mac line endings
        "id,name,kind,latitude,longitude\nA1,Foo,court,53.8,-1.5,\n",  # a trailing comma: a cell past the header's
    ],
)
async def test_any_line_endings_and_a_cell_past_the_header_are_read(placed: Connection, data: str) -> None:
    report = await load(placed, data)
    assert report.imported.sites.created == 1


async def test_a_field_longer_than_a_csv_may_hold_is_refused_naming_the_file_and_its_line(placed: Connection) -> None:
    with pytest.raises(InvalidInput, match="line 2: not a CSV table"):
        await load(placed, "name,kind,postcode\n" + "x" * 200_000 + ",court,HU1 1AA\n")
    with pytest.raises(ImportRejected) as refused:
        await load(placed, "name,kind,postcode\n" + "x" * 300 + ",court,HU1 1AA\n")  # a name too long: refused, not cut
    assert refused.value.problems[0].field == "name"


async def test_skipping_unplaced_rows_leaves_out_only_postcodes_with_no_centroid_and_refuses_malformed_rows(
    placed: Connection,
) -> None:
    good = "id,kind,latitude,longitude,postcode\nK1,court,53.8,-1.5,\nK6,court,,,ZE1 0AA\n"
    report = await load(placed, good, skip_unplaced=True)
    assert [p.key for p in report.left_out] == ["K6"] and report.imported.sites.created == 1
    for bad in ("K2,court,-1.5,53.8,", "K3,court,fifty,one,", "K4,court,,,NOTAPC", "K5,court,,,"):
        with pytest.raises(ImportRejected) as refused:
            await load(placed, good + bad + "\n", skip_unplaced=True)
        assert [p.key for p in refused.value.problems] == [bad[:2]]


async def test_a_row_naming_a_stored_site_by_its_id_keeps_its_slug_unless_the_file_gives_one(
    placed: Connection,
) -> None:
    await load(placed, "nomis_agency_id,postcode\nTVP1,HU5 1SW\n")
    site_id = await placed.fetchval("select id from sites where slug = 'tvp1'")
    report = await load(placed, f"id,name,kind,postcode\n{site_id},TVP renamed,custody_suite,HU5 1SW\n")
    assert report.imported.sites.updated == 1
    assert await placed.fetchval("select slug || ' ' || name from sites where id = $1", site_id) == "tvp1 TVP renamed"


async def test_a_row_may_not_change_what_a_stored_site_is_by_its_slug_alone(placed: Connection) -> None:
    await load(placed, "nomis_agency_id,postcode\nDP1,HU5 1SW\n")
    with pytest.raises(ImportRejected) as refused:
        await load(placed, "id,name,kind,postcode\nDP1,Aberystwyth Justice Centre,court,HU5 1SW\n")
    (problem,) = refused.value.problems
    assert problem.field == "kind" and "is a custody suite, not a court" in problem.reason
    assert await placed.fetchval("select kind from sites where slug = 'dp1'") == "custody_suite"
