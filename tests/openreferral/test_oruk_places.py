"""The importer takes a feed as it comes: into a directory with no areas, the areas its services name are made from the
boundaries the feed gives (or the refusal says, in one line, what to load first), and the custody suites, courts and
police stations its locations name become sites (or are matched to stored ones)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.openreferral.places import area_kind, areas_named, site_kind, sites_named
from service.settings import Settings
from service.store.db import Connection
from tests.conftest import DEMO_SERVICES, authorised
from tests.openreferral.oruk_schemas import OPENREFERRAL
from tests.openreferral.test_oruk_api import Client, attributes, public
from tests.openreferral.test_oruk_import import IMPORT, staff_feed

__all__ = ["public"]
GSS = "http://statistics.data.gov.uk/id/statistical-geography/"
needs_openreferral = pytest.mark.skipif(
    not OPENREFERRAL.is_dir(), reason="../shared/openreferral is absent (a user's own clone); CI always has it"
)


# --- the rules, pure ------------------------------------------------------------------------------------------------


def test_an_area_is_a_force_a_district_or_custom_by_its_gss_code() -> None:
    assert area_kind("E23000012") == "police_force_area" and area_kind("W15000003") == "police_force_area"
    assert area_kind("E06000010") == "local_authority" and area_kind("W06000013") == "local_authority"
    assert area_kind("E08000035") == "local_authority" and area_kind("E07000180") == "local_authority"
    assert area_kind("E12000003") == "custom" and area_kind("hull-north") == "custom"


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Hull Custody Suite", "custody_suite"),
        ("Clifton Lane Police Investigation Centre", "custody_suite"),
        ("Bedford Magistrates' Court", "court"),
        ("Cardiff Crown Court", "court"),
        ("Nottingham Justice Centre", "court"),
        ("Clough Road Police Station", "police_station"),
        ("Humber Liaison and Diversion", None),
        ("Custody L&D team", None),  # a team's name says who it serves, not where it is
        ("Hull Royal Infirmary", None),
    ],
)
def test_a_location_is_a_site_only_when_its_name_says_what_kind(name: str, kind: str | None) -> None:
    assert site_kind(name) == kind


def test_the_copy_of_an_area_with_a_boundary_is_kept_and_a_uri_that_names_no_area_is_passed_over() -> None:
    square = json.dumps({"type": "Polygon", "coordinates": [[[0, 52], [1, 52], [1, 53], [0, 53], [0, 52]]]})
    records = [
        {"service_areas": [{"id": "a", "uri": GSS + "E23000012", "name": "Humberside"}]},
        {"service_areas": [{"id": "b", "uri": GSS + "E23000012", "name": "Humberside", "extent": square}]},
        {"service_areas": [{"id": "c", "uri": "https://example.org/somewhere"}, "not an object"]},
        "not a record",
    ]
    offers = areas_named(records)
    assert list(offers) == ["E23000012"]
    assert offers["E23000012"].boundary is not None and offers["E23000012"].name == "Humberside"


def test_locations_with_a_point_and_a_telling_name_are_offered_once() -> None:
    location = {"name": "Hull Custody Suite", "latitude": 53.76, "longitude": -0.34}
    records = [
        {"service_at_locations": [{"location": location}, {"location": {**location, "latitude": "53.76"}}]},
        {"service_at_locations": [{"location": dict(location)}, {"location": {"name": "A clinic", "latitude": 1}}]},
    ]
    assert [(s.name, s.kind) for s in sites_named(records)] == [("Hull Custody Suite", "custody_suite")]


# --- the importer -----------------------------------------------------------------------------------------------


@needs_openreferral
async def test_our_export_into_an_instance_with_no_areas_makes_them_from_the_feeds_boundaries(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed = await staff_feed(staff)
    demo_codes = {r["code"] for r in await conn.fetch("select code from areas")}
    await conn.execute("truncate services, sites, areas, changes restart identity cascade")
    r = await staff.post(IMPORT, content=json.dumps(feed))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["imported"]["services"]["created"] == DEMO_SERVICES
    named = set(report["places"]["areas_created"])
    assert named and named <= demo_codes
    kinds = {r["code"]: r["kind"] for r in await conn.fetch("select code, kind from areas")}
    assert kinds["E23000012"] == "police_force_area" and kinds["E06000010"] == "local_authority"

    again = (await staff.post(IMPORT, content=json.dumps(feed))).json()
    assert again["places"]["areas_created"] == [] and set(again["places"]["areas_matched"]) == named


@needs_openreferral
async def test_a_feed_naming_areas_with_no_boundary_is_refused_in_one_line_saying_what_to_load_first(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed = await staff_feed(staff)
    for service in feed["contents"]:
        for sa in [sa for sa in service.get("service_areas") or [] if sa.get("uri")]:
            sa.pop("extent", None)
            sa.pop("extent_type", None)
    await conn.execute("truncate services, sites, areas, changes restart identity cascade")
    r = await staff.post(IMPORT, content=json.dumps(feed))
    assert r.status_code == 422, r.text
    records = r.json()["records"]
    assert len(records) == 1, records
    assert records[0]["field"] == "uri" and "service(s) name" in records[0]["reason"]
    assert "pathways setup-geography DIR" in records[0]["reason"] and "E23000012" in records[0]["reason"]
    assert await conn.fetchval("select count(*) from services") == 0


@needs_openreferral
def test_the_command_says_the_refusal_once_and_the_summary_line_once(
    settings: Settings, conn: Connection, tmp_path: Path
) -> None:
    service: dict[str, Any] = {
        "id": "a2f0c1a4-3b1b-4c1e-9d0e-000000000001",
        "name": "A service somewhere we have no boundary for",
        "status": "active",
        "service_areas": [{"id": "x", "uri": GSS + "E23000029", "name": "Thames Valley"}],
    }
    feed = tmp_path / "feed.json"
    feed.write_text(json.dumps([service, {**copy.deepcopy(service), "id": "a2f0c1a4-3b1b-4c1e-9d0e-000000000002"}]))
    env = {"DATABASE_URL": settings.database_url or "", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "service.cli", "import-openreferral", str(feed)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    # Progress ("reading", "mapped", "writing to") and any warning about a server running elsewhere aside:
    said = [line for line in run.stderr.splitlines() if line.startswith(("service_areas", "rejected"))]
    assert len(said) == 2, run.stderr
    assert said[0].startswith("service_areas[0]: uri: 2 service(s) name 1 area(s) this directory does not have")
    assert "E23000029" in said[0] and "pathways setup-geography DIR" in said[0]
    assert said[1] == "rejected: 1 bad record(s); nothing was imported"
    assert run.stderr.count("nothing was imported") == 1


@needs_openreferral
async def test_custody_suites_and_courts_in_the_feeds_locations_become_sites_or_are_matched(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed = await staff_feed(staff)
    hull = (await staff.get("/v1/sites/hull-custody-suite")).json()
    services = [s for s in feed["contents"] if s.get("service_at_locations")][:2]
    services[0]["service_at_locations"][0]["location"] |= {
        "name": "Hull Custody Suite",
        "latitude": hull["location"]["lat"] + 0.0005,  # about 55 m away: the stored site
        "longitude": hull["location"]["lon"],
    }
    services[1]["service_at_locations"][0]["location"] |= {
        "name": "Grimsby Magistrates' Court",
        "latitude": 53.5656,
        "longitude": -0.0815,
    }
    r = await staff.post(IMPORT, content=json.dumps(services))
    assert r.status_code == 200, r.text
    places = r.json()["places"]
    assert places["sites_matched"] == ["hull-custody-suite"]
    assert places["sites_created"] == ["grimsby-magistrates-court"]
    court = (await staff.get("/v1/sites/grimsby-magistrates-court")).json()
    assert court["kind"] == "court" and court["name"] == "Grimsby Magistrates' Court"

    again = (await staff.post(IMPORT, content=json.dumps(services))).json()["places"]
    assert again["sites_created"] == [] and set(again["sites_matched"]) == {
        "hull-custody-suite",
        "grimsby-magistrates-court",
    }


def test_a_location_or_area_name_the_directory_could_not_hold_is_not_taken_for_a_site_or_an_area_name() -> None:
    square = json.dumps({"type": "Polygon", "coordinates": [[[0, 52], [1, 52], [1, 53], [0, 53], [0, 52]]]})
    records = [
        {
            "service_at_locations": [
                {"location": {"name": "Derby\u0001 Custody Suite", "latitude": 52.9, "longitude": -1.5}},
                {"location": {"name": "Custody Suite " + "x" * 300, "latitude": 52.9, "longitude": -1.5}},
            ],
            "service_areas": [{"id": "a", "uri": GSS + "E23000014", "name": "Derby\u0001shire", "extent": square}],
        }
    ]
    assert sites_named(records) == []
    assert areas_named(records)["E23000014"].name == "E23000014"  # the code, when the name cannot be held


@needs_openreferral
async def test_an_unusable_boundary_is_refused_naming_it_not_said_to_be_missing(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed = await staff_feed(staff)
    service = next(s for s in feed["contents"] if attributes(s, "catchment") == ['{"type":"areas"}'])
    area = {
        "id": "x",
        "uri": GSS + "E23000014",
        "name": "Derbyshire",
        "extent": json.dumps({"type": "Polygon", "coordinates": [[["-2.0", "53.0"], [-1, 53], [-1, 52], [-2, 53]]]}),
    }
    r = await staff.post(IMPORT, content=json.dumps([{**service, "service_areas": [area]}]))
    assert r.status_code == 422, r.text
    (record,) = r.json()["records"]
    assert record["field"] == "extent" and "no boundary" not in record["reason"]
