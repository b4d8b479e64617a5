"""Areas and sites, including bulk imports and the police force areas from the open data."""

from __future__ import annotations

import json

from litestar import Litestar
from litestar.testing import AsyncTestClient

from tests.api.helpers import AREA, assert_problem, snapshot
from tests.conftest import SHARED_GEODATA, needs_shared

Client = AsyncTestClient[Litestar]


@needs_shared()
async def test_importing_the_police_force_areas_geojson_gives_43_valid_areas(client: Client) -> None:
    data = (SHARED_GEODATA / "police_force_areas.geojson").read_bytes()
    r = await client.post(
        "/v1/areas/import?code_property=PFA23CD&name_property=PFA23NM&kind=police_force_area", content=data
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"created": 43, "updated": 0, "unchanged": 0}
    listed = (await client.get("/v1/areas?kind=police_force_area&limit=100")).json()
    assert listed["total"] == 43
    humberside = (await client.get("/v1/areas/E23000012")).json()
    assert humberside["name"] == "Humberside" and humberside["boundary"]["type"] in ("Polygon", "MultiPolygon")

    site = {"slug": "hull", "name": "Hull custody", "kind": "custody_suite", "location": {"lon": -0.362, "lat": 53.766}}
    created = await client.post("/v1/sites", json=site)
    assert created.status_code == 201 and created.json()["area_codes"] == ["E23000012"]

    again = await client.post(
        "/v1/areas/import?code_property=PFA23CD&name_property=PFA23NM&kind=police_force_area", content=data
    )
    assert again.json() == {"created": 0, "updated": 0, "unchanged": 43}


async def test_a_feature_collection_with_bad_features_names_each_and_writes_nothing(client: Client) -> None:
    square = AREA["boundary"]
    collection = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"CD": "A1", "NM": "Good"}, "geometry": square},
            {"type": "Feature", "properties": {"CD": "A2"}, "geometry": square},
            {
                "type": "Feature",
                "properties": {"CD": "A3", "NM": "Bow"},
                "geometry": {"type": "Polygon", "coordinates": [[[-1, 52], [0, 53], [0, 52], [-1, 53], [-1, 52]]]},
            },
            {"type": "Feature", "properties": {"CD": "A1", "NM": "Again"}, "geometry": square},
        ],
    }
    before = await snapshot(client)
    r = await client.post("/v1/areas/import?code_property=CD&name_property=NM", json=collection)
    body = assert_problem(r, 422, "properties.NM")
    assert {(p["index"], p["key"], p["field"]) for p in body["records"]} == {
        (1, "A2", "properties.NM"),
        (2, "A3", "boundary"),
        (3, "A1", "code"),
    }
    assert await snapshot(client) == before


async def test_an_area_is_created_then_replaced_with_a_new_version(client: Client) -> None:
    first = await client.put("/v1/areas/T9", json=AREA)
    assert first.status_code == 201 and first.json()["version"] == 1
    second = await client.put("/v1/areas/T9", json={**AREA, "name": "Renamed"})
    assert second.status_code == 200 and second.json()["version"] == 2


async def test_sites_are_listed_by_area_and_bulk_imported_all_or_nothing(client: Client) -> None:
    assert (await client.put("/v1/areas/T1", json=AREA)).status_code == 201
    sites = [
        {"slug": "inside", "name": "Inside", "kind": "custody_suite", "location": {"lon": -0.5, "lat": 52.5}},
        {"slug": "outside", "name": "Outside", "kind": "court", "location": {"lon": -2.5, "lat": 52.5}},
    ]
    r = await client.post("/v1/sites/import", content=json.dumps({"sites": sites}))
    assert r.status_code == 200, r.text
    assert r.json()["sites"] == {"created": 2, "updated": 0, "unchanged": 0}
    in_t1 = (await client.get("/v1/sites?area=T1")).json()
    assert [s["slug"] for s in in_t1["items"]] == ["inside"]

    before = await snapshot(client)
    bad = [*sites, {"slug": "inside", "name": "Twice", "kind": "court", "location": {"lon": -0.5, "lat": 52.5}}]
    body = assert_problem(await client.post("/v1/sites/import", json={"sites": bad}), 422, "slug")
    assert body["records"][0]["index"] == 2 and body["records"][0]["key"] == "inside"
    assert await snapshot(client) == before

    site = (await client.get("/v1/sites/inside")).json()
    stale = await client.put("/v1/sites/inside", json={**sites[0], "name": "New"}, headers={"If-Match": '"7"'})
    assert_problem(stale, 412, "If-Match")
    fresh = await client.put(
        "/v1/sites/inside", json={**sites[0], "name": "New"}, headers={"If-Match": f'"{site["version"]}"'}
    )
    assert fresh.status_code == 200 and fresh.json()["version"] == site["version"] + 1


async def test_an_area_write_with_a_stale_if_match_gets_412_and_writes_nothing(client: Client) -> None:
    created = await client.put("/v1/areas/T9", json=AREA)
    assert created.headers["etag"] == '"1"'
    assert (
        await client.put("/v1/areas/T9", json={**AREA, "name": "Two"}, headers={"If-Match": '"1"'})
    ).status_code == 200
    before = await snapshot(client)
    assert_problem(
        await client.put("/v1/areas/T9", json={**AREA, "name": "Three"}, headers={"If-Match": '"1"'}), 412, "If-Match"
    )
    assert_problem(await client.put("/v1/areas/T8", json=AREA, headers={"If-Match": '"1"'}), 412, "If-Match")
    assert await snapshot(client) == before
    assert (await client.get("/v1/areas/T9")).headers["etag"] == '"2"'
