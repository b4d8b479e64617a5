"""One command sets up England and Wales from the official open files (../shared/geodata): the 43 force areas, the
318 districts checked against their forces, the postcode district and sector centroids, and the MoJ's custody
suites; a second run changes nothing, a newer file updates in place; then real searches from a custody suite chosen
by its name, and from a postcode district."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.domain.errors import ImportRejected, InvalidInput
from service.settings import PROJECT_ROOT, Settings
from service.store.db import Connection
from service.store.geography import GeographyReport, setup_geography
from service.store.taxonomy import current_taxonomies
from tests.api.test_referral_options import options_once
from tests.conftest import DEMO_FILE, SHARED_GEODATA, authorised, needs_shared

pytestmark = needs_shared()


def part(report: GeographyReport, name: str) -> dict[str, Any]:
    found = [msgspec_dict(p) for p in report.parts if p.part == name]
    assert len(found) == 1, [p.part for p in report.parts]
    return found[0]


def msgspec_dict(value: Any) -> dict[str, Any]:
    import msgspec

    out: dict[str, Any] = msgspec.json.decode(msgspec.json.encode(value))
    return out


async def setup(conn: Connection, folder: Path) -> GeographyReport:
    async with conn.transaction():
        return await setup_geography(conn, folder, actor="tests", vocab=await current_taxonomies(conn))


def run_command(settings: Settings, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": settings.database_url or ""}
    return subprocess.run(
        [sys.executable, "-m", "service.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        cwd=cwd or PROJECT_ROOT,
    )


def test_the_command_sets_up_england_and_wales_from_the_shared_files_and_says_where_it_writes(
    settings: Settings, conn: Connection
) -> None:
    run = run_command(settings, "setup-geography", str(SHARED_GEODATA))
    assert run.returncode == 0, run.stderr
    assert f"writing to the PostgreSQL at {settings.database_url} (DATABASE_URL)" in run.stderr
    out = run.stdout
    assert "police force areas (police_force_areas.geojson): 43 created" in out
    assert "local authority districts (local_authority_districts.geojson): 318 created" in out
    assert "318 of 318 district(s) lie in the force the lookup names" in out
    assert "postcode districts (outcodes) (outcodes.csv): 2864 created" in out
    assert "postcode sectors (postcode_sectors.csv): 10847 created" in out
    assert "custody suites (custody_suites_moj_pecs.csv): 250 created" in out
    assert "Warning" not in run.stderr  # no third-party warnings on ordinary use

    again = run_command(settings, "setup-geography", str(SHARED_GEODATA))
    assert again.returncode == 0, again.stderr
    assert again.stdout.rstrip().endswith("nothing changed"), again.stdout
    assert "43 unchanged" in again.stdout and "250 unchanged" in again.stdout


async def test_newer_files_update_in_place_and_report_what_changed_and_what_they_no_longer_hold(
    conn: Connection, tmp_path: Path
) -> None:
    folder = tmp_path / "geo"
    folder.mkdir()
    for name in ("police_force_areas.geojson", "outcodes.csv", "custody_suites_moj_pecs.csv"):
        shutil.copy(SHARED_GEODATA / name, folder / name)
    first = await setup(conn, folder)
    assert part(first, "police force areas")["created"] == 43
    assert any("local authority districts" in m for m in first.missing)  # says what is not there, and where to get it
    assert any(p.part == "postcode sectors" for p in first.parts) is False

    forces = json.loads((folder / "police_force_areas.geojson").read_text())
    renamed = next(f for f in forces["features"] if f["properties"]["PFA23CD"] == "E23000012")
    renamed["properties"]["PFA23NM"] = "Humberside Police"
    forces["features"] = [f for f in forces["features"] if f["properties"]["PFA23CD"] != "W15000004"]
    (folder / "police_force_areas.geojson").write_text(json.dumps(forces))
    second = await setup(conn, folder)
    assert part(second, "police force areas") | {"notes": []} == {
        "part": "police force areas",
        "files": ["police_force_areas.geojson"],
        "created": 0,
        "updated": 1,
        "unchanged": 41,
        "not_in_files": 1,
        "notes": [],
    }
    assert await conn.fetchval("select name from areas where code = 'E23000012'") == "Humberside Police"
    assert await conn.fetchval("select count(*) from areas where code = 'W15000004'") == 1  # kept: services may name it
    suites = part(second, "custody suites")
    humberside = (SHARED_GEODATA / "custody_suites_moj_pecs.csv").read_text().count(",E23000012,Humberside,")
    assert humberside >= 3
    assert suites["updated"] == humberside  # the Humberside suites' made names carry their force's new name
    assert suites["unchanged"] == 250 - humberside


async def test_a_folder_without_force_areas_is_refused_saying_what_to_download_and_nothing_is_written(
    conn: Connection, tmp_path: Path
) -> None:
    shutil.copy(SHARED_GEODATA / "outcodes.csv", tmp_path / "outcodes.csv")
    with pytest.raises(InvalidInput, match=r"no police force areas .* PFAyyCD and PFAyyNM.*Police Force Areas"):
        await setup(conn, tmp_path)
    assert await conn.fetchval("select count(*) from postcode_centroids") == 0


async def test_scottish_and_northern_irish_districts_are_left_out_and_a_broken_ring_is_repaired_and_said(
    conn: Connection, tmp_path: Path
) -> None:
    shutil.copy(SHARED_GEODATA / "police_force_areas.geojson", tmp_path / "forces.geojson")
    square = [[-1.0, 52.0], [-0.9, 52.0], [-0.9, 52.1], [-1.0, 52.1], [-1.0, 52.0]]
    bow_tie = [[-1.0, 52.0], [-0.9, 52.1], [-0.9, 52.0], [-1.0, 52.1], [-1.0, 52.0]]
    features = [
        {"type": "Feature", "properties": {"LAD25CD": code, "LAD25NM": name}, "geometry": geometry}
        for code, name, geometry in (
            ("E06000099", "Square", {"type": "Polygon", "coordinates": [square]}),
            ("E07000999", "Bow tie", {"type": "Polygon", "coordinates": [bow_tie]}),
            ("S12000033", "Aberdeen City", {"type": "Polygon", "coordinates": [square]}),
            ("N09000003", "Belfast", {"type": "Polygon", "coordinates": [square]}),
        )
    ]
    (tmp_path / "Local_Authority_Districts_May_2025_UK_BUC.geojson").write_text(
        json.dumps({"type": "FeatureCollection", "features": features})
    )
    report = await setup(conn, tmp_path)
    districts = part(report, "local authority districts")
    assert districts["created"] == 2
    assert "2 area(s) outside England and Wales left out" in districts["notes"]
    assert any("1 boundary(ies) repaired" in n for n in districts["notes"])
    assert await conn.fetchval("select count(*) from areas where kind = 'local_authority'") == 2


async def test_a_search_from_a_real_custody_suite_chosen_by_its_name_and_from_a_postcode_district(
    settings: Settings, conn: Connection
) -> None:
    await setup(conn, SHARED_GEODATA)
    boundary = await conn.fetchval("select boundary::text from areas where code = 'E23000012'")
    # The README's walk, without a feed of one's own: the demo's services on the official boundaries.
    imported = run_command(settings, "import", str(DEMO_FILE), "--keep-areas")
    assert imported.returncode == 0, imported.stderr
    assert "kept 7 stored area(s) as they are" in imported.stderr
    assert await conn.fetchval("select boundary::text from areas where code = 'E23000012'") == boundary
    async with AsyncTestClient(app=create_app(settings)) as client:
        client = await authorised(client, conn)

        page = await client.get("/v1/sites", params={"kind": "custody_suite", "limit": 1})
        demo_suites = sum(1 for s in json.loads(DEMO_FILE.read_text())["sites"] if s["kind"] == "custody_suite")
        assert page.json()["total"] == 250 + demo_suites  # the MoJ's and the demo's
        # MoJ HMB2 has no name in the list: it is named from its force and postcode, and chosen by that name.
        lookup = (await client.get("/")).text
        match = re.search(r'<option value="([a-z0-9-]+)">Humberside custody suite, HU5 1SW</option>', lookup)
        assert match is not None, lookup[:2000]
        assert match.group(1) == "hmb2"

        for origin in ({"type": "site", "site": match.group(1)}, {"type": "postcode", "postcode": "HU1"}):
            body = {"origin": origin, "context": "custody", "at": "2026-11-23T10:00:00Z", "person": {"age": 30}}
            answer = await options_once(client, body, lambda a: any(step["options"] for step in a["steps"]))
            assert answer["origin"]["force"]["name"] == "Humberside"
            assert any(a["kind"] == "local_authority" for a in answer["origin"]["areas"])
            offered = [o["service"]["slug"] for step in answer["steps"] for o in step["options"]]
            assert "humber-liaison-and-diversion" in offered


async def test_code_point_open_unzipped_into_the_folder_gives_the_outcode_and_sector_centroids(
    conn: Connection, tmp_path: Path
) -> None:
    shutil.copy(SHARED_GEODATA / "police_force_areas.geojson", tmp_path / "forces.geojson")
    data = tmp_path / "codepo_gb" / "Data" / "CSV"
    data.mkdir(parents=True)
    (tmp_path / "codepo_gb" / "Doc").mkdir()
    (tmp_path / "codepo_gb" / "Doc" / "Code-Point_Open_Column_Headers.csv").write_text(
        "PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\nPostcode,Positional_quality_indicator,Eastings,Northings,Country_code,"
        "NHS_regional_HA_code,NHS_HA_code,Admin_county_code,Admin_district_code,Admin_ward_code\n"
    )
    (data / "hu.csv").write_text(
        '"HU1 1AA",10,509000,428000,"E92000001","E19000001","E18000002","","E06000010","E05001234"\n'
        '"HU1 1AB",10,509200,428400,"E92000001","E19000001","E18000002","","E06000010","E05001234"\n'
        '"HU1 2AA",10,509600,428800,"E92000001","E19000001","E18000002","","E06000010","E05001234"\n'
        '"HU1 9ZZ",90,0,0,"E92000001","","","","",""\n'
    )
    report = await setup(conn, tmp_path)
    assert part(report, "postcode districts (outcodes)")["created"] == 1
    assert part(report, "postcode sectors")["created"] == 2
    rows = {r["code"]: (r["lon"], r["lat"]) for r in await conn.fetch("select code, lon, lat from postcode_centroids")}
    assert set(rows) == {"HU1", "HU1 1", "HU1 2"}
    lon, lat = rows["HU1 1"]  # easting 509100, northing 428200: central Hull
    assert abs(lon - (-0.3383)) < 0.01 and abs(lat - 53.7405) < 0.01


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("outcodes.csv", b"outcode,latitude,longitude\nLS2,\xff,-1.5\n", "not UTF-8 text"),
        ("lookup.csv", b"LAD23CD,PFA23CD\nE06000010,\xffE23000012\n", "not UTF-8 text"),
        ("codepoint.csv", b'"LS1 4HZ",10,430000,433000\n"LS1 4JA",10,\xff,433000\n', "not UTF-8 text"),
        ("sectors.csv", b"sector,latitude,longitude\n" + b"x" * 200_000 + b",53.8,-1.5\n", "not a CSV table"),
    ],
)
async def test_a_broken_table_in_the_folder_is_refused_naming_it_and_nothing_is_written(
    conn: Connection, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    shutil.copy(SHARED_GEODATA / "police_force_areas.geojson", tmp_path / "forces.geojson")
    if name == "lookup.csv":  # the lookup is read to check the districts
        shutil.copy(SHARED_GEODATA / "local_authority_districts.geojson", tmp_path / "districts.geojson")
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ImportRejected) as refused:
        await setup(conn, tmp_path)
    (problem,) = refused.value.problems
    assert (problem.section, problem.field) == (name, "file") and reason in problem.reason
    assert await conn.fetchval("select count(*) from areas") == 0


async def test_files_that_hold_no_part_are_named_with_why_and_odd_properties_are_no_crash(
    conn: Connection, tmp_path: Path
) -> None:
    forces = json.loads((SHARED_GEODATA / "police_force_areas.geojson").read_text())
    forces["features"][1]["properties"] = [1, 2]  # not an object: that feature is refused, naming it
    (tmp_path / "forces.geojson").write_text(json.dumps(forces))
    (tmp_path / "notes.csv").write_text("what,why\n")
    (tmp_path / "broken.geojson").write_text("{not json")
    with pytest.raises(ImportRejected) as refused:
        await setup(conn, tmp_path)
    assert {p.index for p in refused.value.problems} == {1}
    forces["features"] = forces["features"][2:]
    (tmp_path / "forces.geojson").write_text(json.dumps(forces))
    report = await setup(conn, tmp_path)
    assert sorted(report.not_recognised) == [
        "broken.geojson: not a GeoJSON FeatureCollection (" + report.not_recognised[0].split("(", 1)[1],
        "notes.csv: its first row is no header (or Code-Point Open row) we know",
    ]
