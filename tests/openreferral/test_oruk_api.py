"""The Open Referral UK 3.0 read API (/openreferral) on the demo directory: every response is checked against the
compiled HSDS 3.0 schemas with the UK profile applied, and a known service's key fields are checked by value (an
empty pass proves nothing)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.openreferral.terms import NAMESPACE
from service.settings import Settings
from service.store.db import Connection
from tests.conftest import DEMO_SERVICES, authorised
from tests.openreferral.oruk_schemas import OPENREFERRAL, problems

pytestmark = pytest.mark.skipif(
    not OPENREFERRAL.is_dir(), reason="../shared/openreferral is absent (a user's own clone); CI always has it"
)
Client = AsyncTestClient[Litestar]
HULL = "hull-womens-custody-triage"


@pytest.fixture
async def public(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    """The demo directory, read without a key."""
    async with AsyncTestClient(app=create_app(Settings(database_url=settings.database_url, load_demo=True))) as c:
        yield c


async def ok(client: Client, url: str, **params: Any) -> Any:
    r = await client.get(url, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    return r.json()


def conforms(document: Any, compiled: str, entity: str) -> None:
    found = problems(document, compiled, entity)
    assert not found, "\n".join(found[:20])


def page_conforms(page: dict[str, Any], compiled: str, entity: str) -> None:
    for key in ("total_items", "total_pages", "page_number", "size", "first_page", "last_page", "empty", "contents"):
        assert key in page, key
    assert page["size"] == len(page["contents"])
    for item in page["contents"]:
        conforms(item, compiled, entity)


def attributes(service: dict[str, Any], link_type: str) -> list[str]:
    return [a["taxonomy_term"]["term"] for a in service.get("attributes", []) if a["link_type"] == link_type]


async def by_slug(client: Client, slug: str) -> dict[str, Any]:
    found = await ok(client, f"/v1/services/{slug}")
    service: dict[str, Any] = await ok(client, f"/openreferral/services/{found['id']}")
    return service


async def test_the_root_names_hsds_3_and_the_uk_profile(public: Client) -> None:
    about = await ok(public, "/openreferral/")
    assert about["version"] == "3.0" and "uk-profile" in about["profile"] and about["openapi_url"].endswith(".json")


async def test_every_demo_service_conforms_to_the_oruk_service_schema_and_pages_conform_to_the_list(
    public: Client,
) -> None:
    listed = await ok(public, "/openreferral/services", per_page=1000)
    page_conforms(listed, "service_list.json", "service")
    assert listed["total_items"] == len(listed["contents"]) == DEMO_SERVICES
    full = await ok(public, "/openreferral/services", per_page=1000, full="true")
    page_conforms(full, "service.json", "service")
    for item in listed["contents"][:10]:
        conforms(await ok(public, f"/openreferral/services/{item['id']}"), "service.json", "service")


async def test_a_known_service_has_its_fields_at_their_hsds_places(public: Client) -> None:
    hull = await by_slug(public, HULL)
    assert hull["name"] == "Hull Women's Custody Triage" and hull["status"] == "active"
    assert hull["organization"]["name"] == "Humberside Police with Together Women Project"
    assert hull["minimum_age"] == 18 and "maximum_age" not in hull
    assert hull["assured_date"] == "2026-11-01"
    weekly = [s for s in hull["schedules"] if s.get("freq") == "WEEKLY"]
    assert [(s["byday"], s["opens_at"], s["closes_at"]) for s in weekly] == [("MO,TU,WE,TH,FR", "09:00:00", "17:00:00")]
    bank_holidays = [s for s in hull["schedules"] if "freq" not in s]
    assert bank_holidays and all(s["valid_from"] == s["valid_to"] and "opens_at" not in s for s in bank_holidays)
    assert any(s["notes"] == "Bank holiday: Christmas Day" for s in bank_holidays)
    (area,) = hull["service_areas"]
    assert area["uri"].endswith("/E06000010") and area["extent_type"] == "geojson"
    assert json.loads(area["extent"])["type"] in ("Polygon", "MultiPolygon")
    (sal,) = hull["service_at_locations"]
    assert (sal["location"]["latitude"], sal["location"]["longitude"]) == (53.766, -0.362)
    assert attributes(hull, "gender") == ["female"]
    assert "mental_health" in attributes(hull, "need")
    assert attributes(hull, "circumstance_required") == ["admits_offence"]
    assert attributes(hull, "kind") == ["diversion_scheme"] and attributes(hull, "capacity") == ["available"]
    assert attributes(hull, "slug") == [HULL]
    assert attributes(hull, "open_referral_id") == ["demo-hull-womens-triage"]


async def test_professionals_only_numbers_are_left_out_for_anonymous_readers_and_shown_to_key_holders(
    public: Client, conn: Connection
) -> None:
    hull = await by_slug(public, HULL)
    assert attributes(hull, "phone") == []
    staff = await authorised(public, conn)
    hull = await by_slug(staff, HULL)
    (phone,) = attributes(hull, "phone")
    assert json.loads(phone) == {
        "label": "Triage coordinator (professionals)",
        "number": "01632 960101",
        "professionals_only": True,
        "twenty_four_hour": False,
    }


async def test_service_at_locations_conform_and_filter_by_postcode_and_proximity(public: Client) -> None:
    everything = await ok(public, "/openreferral/service_at_locations", per_page=1000)
    page_conforms(everything, "service_at_location_list.json", "service_at_location")
    assert 0 < everything["total_items"] < DEMO_SERVICES  # phone lines have no location
    one = everything["contents"][0]
    conforms(
        await ok(public, f"/openreferral/service_at_locations/{one['id']}"),
        "service_at_location.json",
        "service_at_location",
    )
    hull = await ok(public, "/openreferral/service_at_locations", postcode="HU1 2AA", per_page=1000)
    names = {c["service"]["name"] for c in hull["contents"]}
    assert "Hull Women's Custody Triage" in names and hull["total_items"] < everything["total_items"]
    near = await ok(public, "/openreferral/service_at_locations", postcode="HU1 2AA", proximity=3000, per_page=1000)
    assert near["total_items"] >= 1 and all(c["location"]["latitude"] > 53.6 for c in near["contents"])


async def test_taxonomies_and_terms_have_stable_ids_and_filter_services(public: Client) -> None:
    page = await ok(public, "/openreferral/taxonomies")
    names = {t["name"]: t["id"] for t in page["contents"]}
    assert {"ld-pathways-needs", "ld-pathways-circumstances", "ld-pathways-pathway-roles"} <= set(names)
    assert names["ld-pathways-needs"] == str(uuid.uuid5(NAMESPACE, "taxonomy/ld-pathways-needs"))
    needs = await ok(public, f"/openreferral/taxonomies/{names['ld-pathways-needs']}")
    mental_health = next(t for t in needs["taxonomy_terms"] if t["term"] == "mental_health")
    assert mental_health["id"] == str(uuid.uuid5(NAMESPACE, "term/ld-pathways-needs/mental_health"))
    assert mental_health["name"] == "Mental health" and mental_health["taxonomy_id"] == names["ld-pathways-needs"]
    conforms(
        {
            "id": str(uuid.uuid4()),
            "name": "x",
            "status": "active",
            "attributes": [{"id": str(uuid.uuid4()), "taxonomy_term": mental_health}],
        },
        "service.json",
        "service",
    )
    terms = await ok(public, "/openreferral/taxonomy_terms", per_page=1000)
    assert mental_health["id"] in {t["id"] for t in terms["contents"]}
    assert (await ok(public, f"/openreferral/taxonomy_terms/{mental_health['id']}"))["name"] == mental_health["name"]
    with_need = await ok(public, "/openreferral/services", taxonomy_term_id=mental_health["id"], per_page=1000)
    assert 0 < with_need["total_items"] < DEMO_SERVICES
    hull = await by_slug(public, HULL)
    assert hull["id"] in {s["id"] for s in with_need["contents"]}


async def test_paging_text_and_modified_after_filter_as_the_profile_says(public: Client) -> None:
    pages = -(-DEMO_SERVICES // 10)
    first = await ok(public, "/openreferral/services", per_page=10)
    assert (first["total_items"], first["total_pages"], first["size"]) == (DEMO_SERVICES, pages, 10)
    assert first["first_page"] and not first["last_page"] and not first["empty"]
    last = await ok(public, "/openreferral/services", per_page=10, page=pages)
    assert last["size"] == DEMO_SERVICES - 10 * (pages - 1) and last["last_page"]
    beyond = await ok(public, "/openreferral/services", per_page=10, page=pages + 1)
    assert beyond["empty"] and beyond["contents"] == []
    named = await ok(public, "/openreferral/services", text="women's custody")
    assert [s["name"] for s in named["contents"]] == ["Hull Women's Custody Triage"]
    latest = max(s["last_modified"] for s in first["contents"])
    assert (await ok(public, "/openreferral/services", modified_after="2099-01-01T00:00:00Z"))["total_items"] == 0
    recent = await ok(public, "/openreferral/services", modified_after=latest, per_page=1000)
    assert all(s["last_modified"] >= latest for s in recent["contents"]) and recent["total_items"] >= 1
    for bad in ({"page": "0"}, {"per_page": "100000"}, {"modified_after": "yesterday"}, {"day": "someday"}):
        r = await public.get("/openreferral/services", params=bad)
        assert r.status_code in (400, 422), bad
        assert r.headers["content-type"].startswith("application/problem+json") and r.json()["field"] in bad


async def test_a_service_edit_shows_in_modified_after_and_in_the_record(public: Client, conn: Connection) -> None:
    staff = await authorised(public, conn)
    found = await ok(staff, f"/v1/services/{HULL}")
    before = await ok(public, f"/openreferral/services/{found['id']}")
    r = await staff.patch(
        f"/v1/services/{found['id']}",
        json={"name": "Hull Women's Triage"},
        headers={"If-Match": f'"{found["version"]}"'},
    )
    assert r.status_code == 200, r.text
    for _ in range(40):
        after = await ok(public, f"/openreferral/services/{found['id']}")
        if after["name"] == "Hull Women's Triage":
            break
        await asyncio.sleep(0.05)
    assert after["name"] == "Hull Women's Triage" and after["last_modified"] > before["last_modified"]
    changed = await ok(public, "/openreferral/services", modified_after=after["last_modified"])
    assert [s["id"] for s in changed["contents"]] == [found["id"]]


async def test_reads_are_open_to_any_origin_even_when_cors_is_closed_elsewhere(public: Client) -> None:
    r = await public.get("/openreferral/services", headers={"Origin": "https://council.example"})
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == "*"
    pre = await public.options(
        "/openreferral/services",
        headers={"Origin": "https://council.example", "Access-Control-Request-Method": "GET"},
    )
    assert pre.status_code == 204 and pre.headers["access-control-allow-origin"] == "*"
    native = await public.get("/v1/services", headers={"Origin": "https://council.example"})
    assert "access-control-allow-origin" not in native.headers
