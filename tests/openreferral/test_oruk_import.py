"""The Open Referral importer: our own ORUK export reads back as the same directory; the profile's example responses
and broken feeds get a clear report and write nothing."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from service.settings import Settings
from service.store.db import Connection
from tests.conftest import DEMO_SERVICES, authorised
from tests.openreferral.oruk_schemas import EXAMPLES, OPENREFERRAL
from tests.openreferral.test_oruk_api import Client, attributes, ok, public

pytestmark = pytest.mark.skipif(
    not OPENREFERRAL.is_dir(), reason="../shared/openreferral is absent (a user's own clone); CI always has it"
)
__all__ = ["public"]
IMPORT = "/v1/directory/import-openreferral"


async def staff_feed(client: Client) -> dict[str, Any]:
    feed: dict[str, Any] = await ok(client, "/openreferral/services", per_page=1000, full="true")
    return feed


async def directory(client: Client) -> list[dict[str, Any]]:
    exported = await ok(client, "/v1/directory/export")
    return sorted(exported["services"], key=lambda s: s["id"])


async def service_count(conn: Connection) -> int:
    count: int = await conn.fetchval("select count(*) from services")
    return count


async def test_importing_our_own_export_changes_nothing_and_into_an_empty_directory_gives_it_back(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed, before = await staff_feed(staff), await directory(staff)
    again = await staff.post(IMPORT, content=json.dumps(feed))
    assert again.status_code == 200, again.text
    report = again.json()
    assert report["imported"]["services"] == {"created": 0, "updated": 0, "unchanged": DEMO_SERVICES}
    assert report["left_behind"] == [] and report["assumed"] == [] and report["skipped"] == []

    await conn.execute("truncate services, changes restart identity cascade")
    into_empty = await staff.post(IMPORT, content=json.dumps(feed["contents"]))  # a plain array of full services
    assert into_empty.status_code == 200, into_empty.text
    assert into_empty.json()["imported"]["services"]["created"] == DEMO_SERVICES
    assert await directory(staff) == before


async def test_the_profiles_example_responses_are_reported_record_by_record_and_nothing_is_written(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    before = await service_count(conn)
    for name in ("service_full.json", "service_list.json", "service_at_location_full.json"):
        r = await staff.post(IMPORT, content=(EXAMPLES / name).read_bytes())
        assert r.status_code == 422, r.text
        reasons = {p["field"]: p["reason"] for p in r.json()["records"]}
        assert any("service_areas" in f for f in reasons), reasons  # "extent" is not GeoJSON, or no area at all
    full = (await staff.post(IMPORT, content=(EXAMPLES / "service_full.json").read_bytes())).json()["records"]
    assert {p["key"] for p in full} == {"ac148810-d857-441c-9679-408f346de14b"}
    assert any(p["field"] == "service_at_locations[0].location.latitude" for p in full)  # latitude 100
    assert await service_count(conn) == before


async def test_a_mappable_foreign_service_is_imported_with_what_was_left_behind_and_assumed(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    example = json.loads((EXAMPLES / "service_full.json").read_text())
    example["id"] = "council-feed-0001"  # not a UUID: kept as the source's id
    location = example["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = 53.75, -0.34
    example["service_areas"][0]["uri"] = "http://statistics.data.gov.uk/id/statistical-geography/E06000010"
    example["schedules"][0]["valid_from"] = example["schedules"][0]["valid_to"] = None
    example["schedules"][0]["bymonthday"] = None
    r = await staff.post(IMPORT, content=json.dumps([example]))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["imported"]["services"]["created"] == 1
    behind = {n["field"] for n in report["left_behind"]}
    assert {"fees", "funding", "cost_options", "languages", "accreditations"} <= behind
    assert {"contacts[0].name", "contacts[0].title"} <= behind  # a contact's phones would be read; these are not held
    assert "service_at_locations[0].location.accessibility" in behind
    assert {n["field"] for n in report["assumed"]} >= {"kind", "contexts", "access_modes"}
    stored = [s for s in await directory(staff) if s["name"] == "Community Counselling"]
    assert len(stored) == 1
    (s,) = stored
    assert s["external_ids"]["open_referral_id"] == "council-feed-0001"
    assert s["catchment"] == {"type": "areas", "codes": ["E06000010"]}
    assert s["eligibility"]["age"] == {"min": 12, "max": 101}
    assert s["contacts"]["address"] == {"lines": ["1-30 Main Street"], "town": "MyCity", "postcode": None}
    assert "service_at_locations[0].location.addresses[0].postal_code" in behind  # "ABC 1234" is not a UK postcode
    assert [(x["day"], x["opens"], x["closes"]) for x in s["schedule"]["weekly"]] == [
        ("thu", "10:00", "18:00"),
        ("fri", "10:00", "18:00"),
    ]


def broken_feeds(feed: dict[str, Any]) -> dict[str, tuple[dict[str, Any], str]]:
    """Each broken copy of a good feed, and the field its report must name."""

    def weekly(s: dict[str, Any]) -> list[int]:
        rules = enumerate(s.get("schedules", []))
        return [i for i, x in rules if x.get("freq") == "WEEKLY" and "24 hours" not in x["description"]]

    k = next(
        i
        for i, s in enumerate(feed["contents"])
        if attributes(s, "catchment") == ['{"type":"areas"}'] and weekly(s) and attributes(s, "need")
    )
    schedule = weekly(feed["contents"][k])[0]

    def changed(edit: Any) -> dict[str, Any]:
        copied = copy.deepcopy(feed)
        edit(copied["contents"][k])
        return copied

    return {
        "missing id": (changed(lambda s: s.pop("id")), "id"),
        "unknown need": (changed(lambda s: _set_term(s, "need", "not_a_need")), "eligibility.needs[0]"),
        "invalid schedule": (
            changed(lambda s: s["schedules"][schedule].update(opens_at="25:99", closes_at="nope")),
            f"schedules[{schedule}].opens_at",
        ),
        "area with no boundary we lack": (  # with its extent, the area would be made from it
            changed(lambda s: _set_uri(s, "urn:ld-pathways:area:NOWHERE", extent=False)),
            "uri",
        ),
        "bad status": (changed(lambda s: s.update(status="open")), "status"),
    }


def _set_term(service: dict[str, Any], link_type: str, code: str) -> None:
    for a in service["attributes"]:
        if a["link_type"] == link_type:
            a["taxonomy_term"]["term"] = code
            return
    raise AssertionError(f"no {link_type} attribute")


def _set_uri(service: dict[str, Any], uri: str, *, extent: bool = True) -> None:
    service["service_areas"][0]["uri"] = uri
    if not extent:
        service["service_areas"][0].pop("extent", None)
        service["service_areas"][0].pop("extent_type", None)


async def test_bad_feeds_name_the_record_and_field_and_write_nothing(public: Client, conn: Connection) -> None:
    staff = await authorised(public, conn)
    feed = await staff_feed(staff)
    before = await directory(staff)
    for what, (bad, field) in broken_feeds(feed).items():
        r = await staff.post(IMPORT, content=json.dumps(bad))
        assert r.status_code in (400, 422), (what, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert field in {p["field"] for p in r.json()["records"]}, (what, r.json()["records"])
    assert (await staff.post(IMPORT, content=b"{not json")).status_code == 422
    assert await directory(staff) == before


async def test_a_dry_run_reports_but_writes_nothing_and_an_editor_may_not_import(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed = await staff_feed(staff)
    await conn.execute("truncate services, changes restart identity cascade")
    r = await staff.post(IMPORT, params={"dry_run": "true"}, content=json.dumps(feed))
    assert r.status_code == 200 and r.json()["imported"] is None
    assert await service_count(conn) == 0
    public.headers.pop("Authorization")
    assert (await public.post(IMPORT, content=json.dumps(feed))).status_code == 401


def test_the_command_imports_a_folder_of_saved_feed_files_and_reports_a_bad_one(
    settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "services.json").write_bytes((EXAMPLES / "service_full.json").read_bytes())
    (folder / "taxonomy.json").write_bytes((EXAMPLES / "taxonomy.json").read_bytes())
    env = {"DATABASE_URL": settings.database_url or "", "PATH": "/usr/bin:/bin"}
    run = subprocess.run(
        [sys.executable, "-m", "service.cli", "import-openreferral", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "ac148810-d857-441c-9679-408f346de14b" in run.stderr and "nothing was imported" in run.stderr


NOT_SERVICES = [
    (b"null", {"body"}),
    (b"42", {"body"}),
    (b'"a service"', {"body"}),
    (b'{"contents": {"a": 1}}', {"contents"}),
    (b'{"contents": [null, 7]}', {"contents[0]", "contents[1]"}),
    (b"[null, null]", {"[0]", "[1]"}),
    (b"[[]]", {"[0]"}),
    (b'{"a": 1}', {"id"}),
    (b'{"id": "t", "name": "A taxonomy", "description": ""}', {"body"}),
]


async def test_a_body_that_is_not_services_a_page_or_a_list_of_them_is_refused_naming_where_and_writes_nothing(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    before = await directory(staff)
    for body, fields in NOT_SERVICES:  # one app for them all: each refusal writes nothing, so none sees another's
        r = await staff.post(IMPORT, content=body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert fields <= {p["field"] for p in r.json()["records"]}, (body, r.json()["records"])
    assert await directory(staff) == before


def _foreign(example: dict[str, Any]) -> dict[str, Any]:
    """The profile's example service, made importable: a place in Hull, an area URI, a plain weekly rule."""
    example = copy.deepcopy(example)
    example["id"] = "council-feed-0002"
    location = example["service_at_locations"][0]["location"]
    location["latitude"], location["longitude"] = 53.75, -0.34
    example["service_areas"][0]["uri"] = "http://statistics.data.gov.uk/id/statistical-geography/E06000010"
    example["schedules"][0]["valid_from"] = example["schedules"][0]["valid_to"] = None
    example["schedules"][0]["bymonthday"] = None
    return example


@pytest.mark.parametrize("extent", ["not GeoJSON", '{"type": "Point", "coordinates": [0, 0]}', '{"type": "Polygon"}'])
async def test_an_unusable_extent_beside_an_area_uri_is_reported_as_left_behind(
    public: Client, conn: Connection, extent: str
) -> None:
    staff = await authorised(public, conn)
    example = _foreign(json.loads((EXAMPLES / "service_full.json").read_text()))
    example["service_areas"][0]["extent"] = extent
    r = await staff.post(IMPORT, content=json.dumps([example]))
    assert r.status_code == 200, r.text
    behind = {n["field"]: n["reason"] for n in r.json()["left_behind"]}
    assert "service_areas[0].extent" in behind, behind
    assert "uri" in behind["service_areas[0].extent"]


async def test_a_feed_id_longer_than_200_characters_is_refused_naming_id_and_not_echoed_whole(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    before = await directory(staff)
    example = _foreign(json.loads((EXAMPLES / "service_full.json").read_text()))
    example["id"] = "x" * 10_000
    r = await staff.post(IMPORT, content=json.dumps([example]))
    assert r.status_code == 422, r.text
    assert "id" in {p["field"] for p in r.json()["records"]}
    assert len(r.text) < 5_000
    example["id"] = "x" * 200
    r = await staff.post(IMPORT, content=json.dumps([example]))
    assert r.status_code == 200, r.text
    stored = [s for s in await directory(staff) if s["name"] == "Community Counselling"]
    assert [s["external_ids"]["open_referral_id"] for s in stored] == ["x" * 200]
    assert len(before) + 1 == len(await directory(staff))


def _not_ours(service: dict[str, Any]) -> dict[str, Any]:
    """A service of our export with our own attributes removed, as another system would pass it on."""
    return {**service, "attributes": []}


async def test_a_24_7_service_of_our_export_without_our_attributes_imports_as_24_7(
    public: Client, conn: Connection
) -> None:
    staff = await authorised(public, conn)
    feed = await staff_feed(staff)
    around_the_clock = [s for s in feed["contents"] if attributes(s, "open_24_7") == ["true"]]
    assert around_the_clock
    stripped = [_not_ours(s) for s in around_the_clock]
    renamed = copy.deepcopy(stripped)  # and the schedules' ids of another system, not ours
    for s in renamed:
        for i, schedule in enumerate(s["schedules"]):
            schedule["id"] = f"elsewhere-{i}"
    for feed_copy in (stripped, renamed):
        r = await staff.post(IMPORT, content=json.dumps(feed_copy))
        assert r.status_code == 200, r.text
        for s in around_the_clock:
            schedule = (await ok(staff, f"/v1/services/{s['id']}"))["schedule"]
            assert schedule["open_24_7"] is True and schedule["weekly"] == [], (s["name"], schedule)


async def test_whole_days_in_a_foreign_feed_are_00_00_to_00_00_or_23_59(public: Client, conn: Connection) -> None:
    staff = await authorised(public, conn)
    example = _foreign(json.loads((EXAMPLES / "service_full.json").read_text()))
    rule = {"freq": "WEEKLY", "interval": 1, "description": ""}
    example["schedules"] = [
        {**rule, "id": "s1", "byday": "MO,TU", "opens_at": "00:00", "closes_at": "00:00"},
        {**rule, "id": "s2", "byday": "WE", "opens_at": "00:00:00", "closes_at": "23:59:00"},
        {**rule, "id": "s3", "byday": "TH", "opens_at": "09:00", "closes_at": "17:00"},
    ]
    r = await staff.post(IMPORT, content=json.dumps([example]))
    assert r.status_code == 200, r.text
    (s,) = [s for s in await directory(staff) if s["name"] == "Community Counselling"]
    assert s["schedule"]["open_24_7"] is False
    assert [(x["day"], x["opens"], x["closes"]) for x in s["schedule"]["weekly"]] == [
        ("mon", "00:00", "24:00"),
        ("tue", "00:00", "24:00"),
        ("wed", "00:00", "24:00"),
        ("thu", "09:00", "17:00"),
    ]
    example["schedules"] = [
        {**rule, "id": "s1", "byday": "MO,TU,WE,TH,FR,SA,SU", "opens_at": "00:00", "closes_at": "00:00"}
    ]
    r = await staff.post(IMPORT, content=json.dumps([example]))
    assert r.status_code == 200, r.text
    (s,) = [s for s in await directory(staff) if s["name"] == "Community Counselling"]
    assert s["schedule"]["open_24_7"] is True and s["schedule"]["weekly"] == []
