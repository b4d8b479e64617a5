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
from tests.conftest import authorised
from tests.interop.oruk_schemas import EXAMPLES, OPENREFERRAL
from tests.interop.test_oruk_api import Client, attributes, ok, public

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
    assert report["imported"]["services"] == {"created": 0, "updated": 0, "unchanged": 47}
    assert report["left_behind"] == [] and report["assumed"] == [] and report["skipped"] == []

    await conn.execute("truncate services, changes restart identity")
    into_empty = await staff.post(IMPORT, content=json.dumps(feed["contents"]))  # a plain array of full services
    assert into_empty.status_code == 200, into_empty.text
    assert into_empty.json()["imported"]["services"]["created"] == 47
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
    assert {"fees", "funding", "cost_options", "languages", "contacts", "accreditations"} <= behind
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
        "broken area reference": (
            changed(lambda s: _set_uri(s, "urn:ld-pathways:area:NOWHERE")),
            "catchment.codes[0]",
        ),
        "bad status": (changed(lambda s: s.update(status="open")), "status"),
    }


def _set_term(service: dict[str, Any], link_type: str, code: str) -> None:
    for a in service["attributes"]:
        if a["link_type"] == link_type:
            a["taxonomy_term"]["term"] = code
            return
    raise AssertionError(f"no {link_type} attribute")


def _set_uri(service: dict[str, Any], uri: str) -> None:
    service["service_areas"][0]["uri"] = uri


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
    await conn.execute("truncate services, changes restart identity")
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
