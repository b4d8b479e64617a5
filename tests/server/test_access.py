"""Who may read, edit and update capacity: every role against every endpoint, scopes, revocation, tokens,
rate limits and headers. Every rejection is checked to have written nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis
from litestar import Litestar
from litestar.security.jwt import Token
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import AREA, SERVICE, assert_problem, service, snapshot

Client = AsyncTestClient[Litestar]
T2_AREA = {
    **AREA,
    "name": "Other",
    "boundary": {"type": "Polygon", "coordinates": [[[1.0, 52.0], [2.0, 52.0], [2.0, 53.0], [1.0, 53.0], [1.0, 52.0]]]},
}


class World:
    """Two areas, a service in each, and a key for every role."""

    def __init__(self, client: Client, keys: dict[str, str], ids: dict[str, str]) -> None:
        self.client, self.keys, self.ids = client, keys, ids

    def auth(self, role: str) -> dict[str, str]:
        return {} if role == "anonymous" else {"Authorization": f"Bearer {self.keys[role]}"}


async def build_world(client: Client, conn: Connection) -> World:
    admin = (await create_key(conn, name="admin", role="admin", created_by="t")).key
    headers = {"Authorization": f"Bearer {admin}"}
    assert (await client.put("/v1/areas/T1", json=AREA, headers=headers)).status_code == 201
    assert (await client.put("/v1/areas/T2", json=T2_AREA, headers=headers)).status_code == 201
    a = (await client.post("/v1/services", json=service(slug="in-t1"), headers=headers)).json()
    b = (
        await client.post(
            "/v1/services", json=service(slug="in-t2", catchment={"type": "areas", "codes": ["T2"]}), headers=headers
        )
    ).json()
    keys = {
        "admin": admin,
        "reader": (await create_key(conn, name="reader", role="reader", created_by="t")).key,
        "editor_t1": (await create_key(conn, name="editor t1", role="editor", area_codes=("T1",), created_by="t")).key,
        "editor_t2": (await create_key(conn, name="editor t2", role="editor", area_codes=("T2",), created_by="t")).key,
        "provider_a": (
            await create_key(conn, name="provider a", role="provider", service_ids=(a["id"],), created_by="t")
        ).key,
    }
    return World(client, keys, {"a": a["id"], "b": b["id"]})


@pytest.fixture
async def world(settings: Settings, conn: Connection) -> AsyncIterator[World]:
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield await build_world(client, conn)


def SOON() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()


ROLES = ["anonymous", "reader", "provider_a", "editor_t1", "editor_t2", "admin"]
# endpoint: (method, path, body) and the expected status for each role, in ROLES order.
MATRIX: dict[str, tuple[str, str, Any, list[int]]] = {
    "list services": ("GET", "/v1/services", None, [200, 200, 200, 200, 200, 200]),
    "search": (
        "POST",
        "/v1/referral-options",
        {"origin": {"type": "point", "lat": 52.5, "lon": -0.5}, "context": "street", "person": {"age": 30}},
        [200, 200, 200, 200, 200, 200],
    ),
    "create a service in T1": ("POST", "/v1/services", service(slug="new-one"), [401, 403, 403, 201, 403, 201]),
    "change a service in T1": ("PATCH", "/v1/services/in-t1", {"name": "Renamed"}, [401, 403, 403, 200, 403, 200]),
    "close a service in T2": ("DELETE", "/v1/services/in-t2", None, [401, 403, 403, 403, 200, 200]),
    "move a service from T1 to T2": (
        "PATCH",
        "/v1/services/in-t1",
        {"catchment": {"type": "areas", "codes": ["T2"]}},
        [401, 403, 403, 403, 403, 200],
    ),
    "update capacity in T1": (
        "PUT",
        "/v1/services/in-t1/capacity",
        {"status": "full", "until": "SOON"},
        [401, 403, 200, 200, 403, 200],
    ),
    "update capacity in T2": (
        "PUT",
        "/v1/services/in-t2/capacity",
        {"status": "limited"},
        [401, 403, 403, 403, 200, 200],
    ),
    "mark verified": ("POST", "/v1/services/in-t1/verify", None, [401, 403, 403, 200, 403, 200]),
    "put an area": ("PUT", "/v1/areas/T9", AREA, [401, 403, 403, 403, 403, 201]),
    "create a site": (
        "POST",
        "/v1/sites",
        {"slug": "s", "name": "S", "kind": "court", "location": {"lon": -0.5, "lat": 52.5}},
        [401, 403, 403, 403, 403, 201],
    ),
    "import the directory": (
        "POST",
        "/v1/directory/import",
        {"format": "ld-pathways/directory", "format_version": 1},
        [401, 403, 403, 200, 200, 200],
    ),
    "list keys": ("GET", "/v1/keys", None, [401, 403, 403, 403, 403, 200]),
    "create a key": ("POST", "/v1/keys", {"name": "n", "role": "reader"}, [401, 403, 403, 403, 403, 201]),
}
CASES = [(name, role, expected[i]) for name, (_, _, _, expected) in MATRIX.items() for i, role in enumerate(ROLES)]


@pytest.mark.parametrize(("endpoint", "role", "status"), CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
async def test_each_role_gets_what_it_may_and_a_rejection_writes_nothing(
    world: World, endpoint: str, role: str, status: int
) -> None:
    method, path, body, _ = MATRIX[endpoint]
    if isinstance(body, dict) and body.get("until") == "SOON":
        body = {**body, "until": SOON()}
    before = await snapshot(world.client)
    response = await world.client.request(method, path, json=body, headers=world.auth(role))
    assert response.status_code == status, response.text
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json")
        assert await snapshot(world.client) == before
        if status == 401:
            assert response.headers["www-authenticate"].startswith("Bearer")


async def test_an_editor_scoped_to_one_force_area_cannot_change_a_service_in_another(world: World) -> None:
    before = await snapshot(world.client)
    r = await world.client.patch("/v1/services/in-t2", json={"name": "x"}, headers=world.auth("editor_t1"))
    problem = assert_problem(r, 403, "Authorization")
    assert "T2" in problem["detail"]
    assert await snapshot(world.client) == before


async def test_a_provider_can_update_capacity_but_cannot_change_eligibility(world: World) -> None:
    before = await snapshot(world.client)
    r = await world.client.patch(
        "/v1/services/in-t1", json={"eligibility": {"age": {"min": 10}}}, headers=world.auth("provider_a")
    )
    assert_problem(r, 403, "Authorization")
    assert await snapshot(world.client) == before
    ok = await world.client.put(
        "/v1/services/in-t1/capacity", json={"status": "limited", "note": "2 beds"}, headers=world.auth("provider_a")
    )
    assert ok.status_code == 200 and ok.json()["capacity"] == {"status": "limited", "until": None, "note": "2 beds"}
    history = (await world.client.get("/v1/services/in-t1/history")).json()
    assert history[-1]["actor"].startswith("key:provider a") and history[-1]["changes"][0]["field"] == "capacity.note"


@pytest.mark.parametrize("until", [dt.timedelta(hours=121), dt.timedelta(hours=-1)])
async def test_capacity_until_must_be_in_the_future_and_at_most_120_hours_away(
    world: World, until: dt.timedelta
) -> None:
    before = await snapshot(world.client)
    body = {"status": "full", "until": (dt.datetime.now(dt.UTC) + until).isoformat()}
    assert_problem(
        await world.client.put("/v1/services/in-t1/capacity", json=body, headers=world.auth("admin")), 422, "until"
    )
    assert await snapshot(world.client) == before


async def test_a_key_revoked_through_one_instance_is_refused_by_another_within_a_second(
    settings: Settings, conn: Connection
) -> None:
    async with AsyncTestClient(app=create_app(settings)) as a, AsyncTestClient(app=create_app(settings)) as b:
        w = await build_world(a, conn)
        editor = w.auth("editor_t1")
        assert (await b.patch("/v1/services/in-t1", json={"name": "One"}, headers=editor)).status_code == 200
        key_id = next(
            k["id"] for k in (await a.get("/v1/keys", headers=w.auth("admin"))).json() if k["name"] == "editor t1"
        )
        assert (await a.delete(f"/v1/keys/{key_id}", headers=w.auth("admin"))).status_code == 200
        started = time.monotonic()
        # The probe is a write that changes nothing, so the half-second cache window cannot change the data.
        while (await b.patch("/v1/services/in-t1", json={"name": "One"}, headers=editor)).status_code != 401:
            assert time.monotonic() - started < 1.0, "the revoked key still works on the other instance after 1 s"
            await asyncio.sleep(0.05)
        assert (await b.get("/v1/services/in-t1")).json()["version"] == 2  # created, renamed "One"; nothing since


async def test_an_identity_providers_jwt_can_edit_within_its_areas(settings: Settings, conn: Connection) -> None:
    secret = secrets.token_hex(32)
    jwt_settings = Settings(database_url=settings.database_url, load_demo=False, jwt_secret=secret)
    async with AsyncTestClient(app=create_app(jwt_settings)) as client:
        await build_world(client, conn)
        exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        token = Token(sub="alice@trust.nhs.uk", exp=exp, extras={"role": "editor", "areas": ["T1"]}).encode(
            secret, "HS256"
        )
        ok = await client.patch(
            "/v1/services/in-t1", json={"name": "By JWT"}, headers={"Authorization": f"Bearer {token}"}
        )
        assert ok.status_code == 200
        history = (await client.get("/v1/services/in-t1/history")).json()
        assert history[-1]["actor"] == "jwt:alice@trust.nhs.uk"
        forged = Token(sub="mallory", exp=exp, extras={"role": "admin"}).encode("not-the-secret" * 4, "HS256")
        before = await snapshot(client)
        assert_problem(
            await client.patch("/v1/services/in-t1", json={"name": "x"}, headers={"Authorization": f"Bearer {forged}"}),
            401,
            "Authorization",
        )
        assert await snapshot(client) == before


async def test_with_key_required_reads_an_anonymous_reader_is_refused(settings: Settings, conn: Connection) -> None:
    closed = Settings(database_url=settings.database_url, load_demo=False, read_access="key")
    async with AsyncTestClient(app=create_app(closed)) as client:
        w = await build_world(client, conn)
        assert_problem(await client.get("/v1/services"), 401, "Authorization")
        assert (await client.get("/v1/services", headers=w.auth("reader"))).status_code == 200
        assert (await client.get("/")).status_code == 401
        assert (await client.get("/health/ready")).status_code == 200


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379", socket_timeout=1).ping())
    except redis.RedisError:
        return False


async def test_too_many_requests_get_429_with_retry_after_and_nothing_is_written(
    settings: Settings, conn: Connection
) -> None:
    limited = Settings(database_url=settings.database_url, load_demo=False, rate_limit_per_minute=4)
    async with AsyncTestClient(app=create_app(limited)) as client:
        admin = {"Authorization": f"Bearer {(await create_key(conn, name='a', role='admin', created_by='t')).key}"}
        for _ in range(4):
            assert (await client.get("/v1/services", headers=admin)).status_code == 200
        r = await client.post("/v1/services", json=SERVICE, headers=admin)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert r.headers["content-type"].startswith("application/problem+json")
        assert await conn.fetchval("select count(*) from services") == 0


@pytest.mark.skipif(not _redis_available(), reason="no Redis on 127.0.0.1:6379 (this machine kind runs one)")
async def test_two_instances_using_redis_share_one_rate_limit(settings: Settings, conn: Connection) -> None:
    shared = Settings(
        database_url=settings.database_url,
        load_demo=False,
        rate_limit_per_minute=6,
        redis_url="redis://127.0.0.1:6379",
        redis_namespace=f"ld-pathways-test-{secrets.token_hex(4)}",
    )
    async with AsyncTestClient(app=create_app(shared)) as a, AsyncTestClient(app=create_app(shared)) as b:
        statuses = [(await (a if i % 2 else b).get("/v1/services")).status_code for i in range(8)]
        assert statuses == [200] * 6 + [429, 429]


async def test_security_headers_let_only_the_embed_be_framed(world: World) -> None:
    page = await world.client.get("/")
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    embed = await world.client.get("/embed")
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    api = await world.client.get("/v1/services")
    assert api.headers["x-content-type-options"] == "nosniff"


async def test_cors_allows_only_the_configured_origins(settings: Settings, conn: Connection) -> None:
    configured = Settings(database_url=settings.database_url, load_demo=False, cors_origins="https://partner.example")
    async with AsyncTestClient(app=create_app(configured)) as client:
        allowed = await client.get("/v1/services", headers={"Origin": "https://partner.example"})
        assert allowed.headers.get("access-control-allow-origin") == "https://partner.example"
        other = await client.get("/v1/services", headers={"Origin": "https://elsewhere.example"})
        assert "access-control-allow-origin" not in other.headers
