"""Editors reach only their own areas, judged by what a write's catchment covers: for create, replace, patch,
capacity, verify and import alike. Every refusal writes nothing, and an admin can see who wrote what."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.domain.model import ServiceBody
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key
from service.store.services import insert_service
from tests.api.helpers import AREA, assert_problem, service, snapshot
from tests.project.test_cli_and_serve import run

Client = AsyncTestClient[Litestar]
EAST = {
    **AREA,
    "name": "East",
    "boundary": {"type": "Polygon", "coordinates": [[[0.0, 52.0], [1.0, 52.0], [1.0, 53.0], [0.0, 53.0], [0.0, 52.0]]]},
}
INSIDE = {"lon": -0.5, "lat": 52.5}
OVER_THE_BORDER = {
    "type": "polygon",
    "geometry": {
        "type": "Polygon",
        "coordinates": [[[-0.5, 52.4], [0.6, 52.4], [0.6, 52.6], [-0.5, 52.6], [-0.5, 52.4]]],
    },
}


class World:
    def __init__(self, client: Client, keys: dict[str, str], ids: dict[str, str]) -> None:
        self.client, self.keys, self.ids = client, keys, ids

    def auth(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[who]}"}


@pytest.fixture
async def world(settings: Settings, conn: Connection) -> AsyncIterator[World]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        admin = await create_key(conn, name="admin", role="admin", created_by="t")
        keys = {"admin": admin.key}
        headers = {"Authorization": f"Bearer {admin.key}"}
        assert (await client.put("/v1/areas/T1", json=AREA, headers=headers)).status_code == 201
        assert (await client.put("/v1/areas/T2", json=EAST, headers=headers)).status_code == 201
        east = service(slug="in-east", catchment={"type": "areas", "codes": ["T2"]})
        west = (await client.post("/v1/services", json=service(slug="in-west"), headers=headers)).json()
        east_id = (await client.post("/v1/services", json=east, headers=headers)).json()["id"]
        for name, area in (("west", "T1"), ("east", "T2")):
            created = await create_key(conn, name=f"editor {name}", role="editor", area_codes=(area,), created_by="t")
            keys[name], keys[f"{name}_id"] = created.key, str(created.details.id)
        yield World(client, keys, {"west": west["id"], "east": east_id})


def radius(slug: str, km: float, location: dict[str, float] = INSIDE) -> dict[str, Any]:
    return service(slug=slug, location=location, access_modes=["outreach"], catchment={"type": "radius", "km": km})


async def test_an_editor_cannot_create_a_radius_catchment_that_reaches_another_area(world: World) -> None:
    before = await snapshot(world.client)
    r = await world.client.post("/v1/services", json=radius("wide", 500), headers=world.auth("west"))
    problem = assert_problem(r, 403, "Authorization")
    assert "T2" in problem["detail"]
    assert await snapshot(world.client) == before
    ok = await world.client.post("/v1/services", json=radius("local", 10), headers=world.auth("west"))
    assert ok.status_code == 201, ok.text


async def test_an_editor_cannot_create_a_polygon_over_another_area_whatever_the_location(world: World) -> None:
    before = await snapshot(world.client)
    body = service(slug="poly", location=INSIDE, catchment=OVER_THE_BORDER)
    assert_problem(await world.client.post("/v1/services", json=body, headers=world.auth("west")), 403, "Authorization")
    assert await snapshot(world.client) == before


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
async def test_an_editor_cannot_widen_its_own_service_into_another_area(world: World, method: str) -> None:
    before = await snapshot(world.client)
    path = f"/v1/services/{world.ids['west']}"
    body = (
        radius("in-west", 500) if method == "PUT" else {"location": INSIDE, "catchment": {"type": "radius", "km": 500}}
    )
    assert_problem(
        await world.client.request(method, path, json=body, headers=world.auth("west")), 403, "Authorization"
    )
    assert await snapshot(world.client) == before


async def test_a_national_catchment_needs_an_admin(world: World) -> None:
    before = await snapshot(world.client)
    body = service(slug="national", catchment={"type": "national"}, access_modes=["phone"])
    r = await world.client.post("/v1/services", json=body, headers=world.auth("west"))
    assert "only an admin" in assert_problem(r, 403, "Authorization")["detail"]
    assert await snapshot(world.client) == before


async def test_the_other_areas_searches_never_see_a_refused_write(world: World) -> None:
    rogue = radius("rogue", 500) | {"pathway_priority": 1, "general_entry_for": ["street"]}
    assert (await world.client.post("/v1/services", json=rogue, headers=world.auth("west"))).status_code == 403
    search = {"origin": {"type": "point", "lat": 52.5, "lon": 0.5}, "context": "street", "person": {"age": 30}}
    answer = (await world.client.post("/v1/referral-options", json={**search, "explain": True})).json()
    seen = {o["service"]["slug"] for o in answer["options"]} | {e["service"]["slug"] for e in answer["excluded"]}
    assert "rogue" not in seen


async def test_an_editors_import_is_checked_record_by_record_and_all_or_nothing(world: World) -> None:
    before = await snapshot(world.client)
    document = {
        "format": "ld-pathways/directory",
        "format_version": 1,
        "services": [radius("fine", 5), radius("too-wide", 300)],
    }
    r = await world.client.post("/v1/directory/import", json=document, headers=world.auth("west"))
    problem = assert_problem(r, 403, "catchment")
    assert [(p["index"], p["key"]) for p in problem["records"]] == [(1, "too-wide")]
    assert await snapshot(world.client) == before
    document["services"] = [radius("fine", 5)]
    ok = await world.client.post("/v1/directory/import", json=document, headers=world.auth("west"))
    assert ok.status_code == 200 and ok.json()["services"]["created"] == 1


async def test_an_editors_import_cannot_overwrite_another_areas_service_even_to_move_it_home(world: World) -> None:
    before = await snapshot(world.client)
    moved = {**copy.deepcopy(radius("in-east", 5)), "id": world.ids["east"]}
    document = {"format": "ld-pathways/directory", "format_version": 1, "services": [moved]}
    r = await world.client.post("/v1/directory/import", json=document, headers=world.auth("west"))
    assert_problem(r, 403, "catchment (as stored)")
    assert await snapshot(world.client) == before


async def test_an_editors_import_cannot_hold_areas_or_sites(world: World) -> None:
    before = await snapshot(world.client)
    document = {"format": "ld-pathways/directory", "format_version": 1, "areas": [{**AREA, "code": "T9"}]}
    r = await world.client.post("/v1/directory/import", json=document, headers=world.auth("west"))
    assert "only an admin" in assert_problem(r, 403, "Authorization")["detail"]
    assert await snapshot(world.client) == before


async def test_an_editor_may_update_capacity_and_verify_only_within_its_areas(world: World) -> None:
    before = await snapshot(world.client)
    east = f"/v1/services/{world.ids['east']}"
    for method, path, body in (("PUT", f"{east}/capacity", {"status": "limited"}), ("POST", f"{east}/verify", None)):
        r = await world.client.request(method, path, json=body, headers=world.auth("west"))
        assert_problem(r, 403, "Authorization")
    assert await snapshot(world.client) == before
    r = await world.client.put(f"{east}/capacity", json={"status": "limited"}, headers=world.auth("east"))
    assert r.status_code == 200


async def test_an_admin_sees_who_wrote_what(world: World) -> None:
    west = world.auth("west")
    assert (await world.client.post("/v1/services", json=radius("by-west", 5), headers=west)).status_code == 201
    assert (await world.client.patch("/v1/services/by-west", json={"name": "Renamed"}, headers=west)).status_code == 200
    r = await world.client.get("/v1/changes", params={"key_id": world.keys["west_id"]}, headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    written = r.json()
    assert [(c["entity"], c["operation"]) for c in written] == [("service", "create"), ("service", "update")]
    assert {c["actor"] for c in written} == {f"key:editor west ({world.keys['west_id'][:8]})"}
    by_actor = await world.client.get("/v1/changes", params={"actor": written[0]["actor"]}, headers=world.auth("admin"))
    assert by_actor.json() == written
    later = await world.client.get(
        "/v1/changes", params={"after": written[0]["id"], "limit": 1}, headers=world.auth("admin")
    )
    assert [c["id"] for c in later.json()] == [written[1]["id"]]
    assert_problem(await world.client.get("/v1/changes", headers=west), 403, "Authorization")


def tiny_square(lon: float, lat: float) -> list[list[float]]:
    """About 20 m by 14 m round a point: a search from that point falls inside it."""
    return [[lon - 0.00015, lat - 0.00006], [lon + 0.00015, lat - 0.00006], [lon + 0.00015, lat + 0.00006],
            [lon - 0.00015, lat + 0.00006], [lon - 0.00015, lat - 0.00006]]  # fmt: skip


HOME = [[-0.6, 52.4], [-0.4, 52.4], [-0.4, 52.6], [-0.6, 52.6], [-0.6, 52.4]]


def with_squares(*points: tuple[float, float]) -> dict[str, Any]:
    parts = [[HOME], *([tiny_square(lon, lat)] for lon, lat in points)]
    return {"type": "polygon", "geometry": {"type": "MultiPolygon", "coordinates": parts}}


async def test_an_editor_cannot_add_a_tiny_square_deep_in_another_area_by_create_or_patch(world: World) -> None:
    """The issue's escape: the editor's own square plus a few metres on a point in the other area, whose searches
    would then see the service first."""
    before = await snapshot(world.client)
    rogue = service(slug="rogue", location=INSIDE, catchment=with_squares((0.5, 52.5)), pathway_priority=1)
    r = await world.client.post("/v1/services", json=rogue, headers=world.auth("west"))
    assert "T2" in assert_problem(r, 403, "Authorization")["detail"]
    path = f"/v1/services/{world.ids['west']}"
    r = await world.client.patch(path, json={"catchment": with_squares((0.5, 52.5))}, headers=world.auth("west"))
    assert_problem(r, 403, "Authorization")
    assert await snapshot(world.client) == before
    search = {"origin": {"type": "point", "lat": 52.5, "lon": 0.5}, "context": "street", "person": {"age": 30}}
    answer = (await world.client.post("/v1/referral-options", json={**search, "explain": True})).json()
    seen = {o["service"]["slug"] for o in answer["options"]} | {e["service"]["slug"] for e in answer["excluded"]}
    assert "rogue" not in seen


async def test_an_editor_cannot_reach_another_areas_custody_suite_however_near_the_border(world: World) -> None:
    suite = {
        "slug": "east-suite",
        "name": "East custody",
        "kind": "custody_suite",
        "location": {"lon": 0.004, "lat": 52.5},
    }
    assert (await world.client.post("/v1/sites", json=suite, headers=world.auth("admin"))).status_code == 201
    before = await snapshot(world.client)
    rogue = service(slug="near", location=INSIDE, catchment=with_squares((0.004, 52.5)))  # 270 m into the east
    r = await world.client.post("/v1/services", json=rogue, headers=world.auth("west"))
    assert "east-suite" in assert_problem(r, 403, "Authorization")["detail"]
    assert await snapshot(world.client) == before
    elsewhere = service(slug="near", location=INSIDE, catchment=with_squares((-0.004, 52.5)))  # 270 m inside its own
    assert (await world.client.post("/v1/services", json=elsewhere, headers=world.auth("west"))).status_code == 201


async def test_the_reach_check_reports_a_service_an_editor_stored_under_the_old_rule(
    world: World, conn: Connection, database_url: str
) -> None:
    """A service written before the rule changed is found, with the key that drew it and what it reaches; the
    command exits 1 so that a deployment script notices."""
    clean = await asyncio.to_thread(run, database_url, "check-reach")
    assert clean.returncode == 0 and "none would now be refused" in clean.stdout, clean.stdout + clean.stderr
    escape = msgspec.convert(service(slug="old-escape", catchment=with_squares((0.5, 52.5))), ServiceBody)
    drawn_by = f"key:editor west ({world.keys['west_id'][:8]})"
    async with conn.transaction():
        await insert_service(conn, escape, actor=drawn_by)  # as the old rule let it through
    found = await asyncio.to_thread(run, database_url, "check-reach")
    assert found.returncode == 1, found.stdout + found.stderr
    assert "1 would now be refused" in found.stdout
    assert f"old-escape: drawn by {drawn_by}, an editor for T1" in found.stdout
    assert "T2 (East):" in found.stdout
