"""Abuse resistance and protocol hygiene: rate limits that made-up keys cannot dodge, bounded memory, believed
proxies only when named, a deadline for request bodies, imports that never deadlock, writes that give up on held
locks, an export that matches its version, huge geometry refused, and headers and documentation that are complete
on every response."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import socket
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.server.hardening import BoundedMemoryStore
from service.server.outage import Outage
from service.settings import PROJECT_ROOT, Settings
from service.store.db import Connection, connect
from service.store.keys import create_key
from tests.api.helpers import AREA, PROBLEM_JSON, assert_problem, captured_logs, seed, service, snapshot
from tests.conftest import authorised, serving

Client = AsyncTestClient[Litestar]
SEARCH = {"origin": {"type": "point", "lat": 52.5, "lon": -0.5}, "context": "street", "person": {"age": 30}}


def made_up_key() -> dict[str, str]:
    return {"X-API-Key": "ldp_" + secrets.token_urlsafe(32)}


# --- rate limits -----------------------------------------------------------------------------------------


async def test_made_up_keys_share_their_addresses_rate_limit(settings: Settings, conn: Connection) -> None:
    limited = Settings(
        database_url=settings.database_url, load_demo=False, rate_limit_per_minute=10, auth_failures_per_minute=0
    )
    async with AsyncTestClient(app=create_app(limited)) as client:
        statuses = [(await client.get("/v1/services", headers=made_up_key())).status_code for _ in range(14)]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}


async def test_after_too_many_failed_attempts_an_address_gets_429_without_a_database_look_up(
    settings: Settings, conn: Connection
) -> None:
    limited = Settings(database_url=settings.database_url, load_demo=False, auth_failures_per_minute=5)
    async with AsyncTestClient(app=create_app(limited)) as client:
        good = (await create_key(conn, name="suite", role="reader", created_by="t")).key
        assert (await client.get("/v1/services", headers={"X-API-Key": good})).status_code == 200
        calls_before = await _key_lookups(conn)
        statuses = [(await client.get("/v1/services", headers=made_up_key())).status_code for _ in range(12)]
        assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
        refused = await client.get("/v1/services", headers=made_up_key())
        assert_problem(refused, 429, "Authorization")
        assert int(refused.headers["retry-after"]) > 0
        assert await _key_lookups(conn) - calls_before <= 5 + 1, "a locked-out address must not reach the database"
        # A key the replica already knows keeps working from the same address.
        assert (await client.get("/v1/services", headers={"X-API-Key": good})).status_code == 200


async def _key_lookups(conn: Connection) -> int:
    """How often keys were looked up by hash (pg_stat_user_tables counts index scans of api_keys)."""
    await conn.execute("select pg_stat_clear_snapshot()")
    value = await conn.fetchval(
        "select coalesce(idx_scan, 0) + coalesce(seq_scan, 0) from pg_stat_user_tables where relname = 'api_keys'"
    )
    return int(value or 0)


async def test_a_checked_key_has_its_own_allowance_apart_from_its_address(settings: Settings, conn: Connection) -> None:
    limited = Settings(database_url=settings.database_url, load_demo=False, rate_limit_per_minute=5)
    async with AsyncTestClient(app=create_app(limited)) as client:
        key = {"X-API-Key": (await create_key(conn, name="k", role="reader", created_by="t")).key}
        assert [(await client.get("/v1/services")).status_code for _ in range(6)][-1] == 429
        assert (await client.get("/v1/services", headers=key)).status_code == 200


async def test_the_rate_limiters_memory_is_bounded() -> None:
    store = BoundedMemoryStore(max_entries=100)
    for i in range(5_000):
        await store.set(f"MemoryStore::ip:10.0.{i // 256}.{i % 256}", b"x" * 50, expires_in=60)
    assert store.entries <= 100
    assert await store.get("MemoryStore::ip:10.0.19.135") == b"x" * 50, "the newest entries stay"


async def test_x_forwarded_for_is_believed_only_from_a_named_proxy(settings: Settings, conn: Connection) -> None:
    def with_proxies(trusted: str) -> Settings:
        return Settings(
            database_url=settings.database_url, load_demo=False, rate_limit_per_minute=2, trusted_proxies=trusted
        )

    async def statuses(client: Client) -> list[int]:
        return [
            (await client.get("/v1/services", headers={"X-Forwarded-For": f"203.0.113.{i}"})).status_code
            for i in range(4)
        ]

    async with AsyncTestClient(app=create_app(with_proxies(""))) as client:
        assert await statuses(client) == [200, 200, 429, 429], "by default nobody's X-Forwarded-For is believed"
    async with AsyncTestClient(app=create_app(with_proxies("testclient"))) as client:
        assert await statuses(client) == [200, 200, 200, 200], "a named proxy's is: each client counts apart"


# --- a real server: the body deadline ---------------------------------------------------------------------


@pytest.fixture
async def slow_body_server(admin_dsn: str) -> AsyncIterator[str]:
    """`pathways serve` whose bodies must arrive within a second."""
    async with serving(admin_dsn, PATHWAYS_LOAD_DEMO="false", PATHWAYS_BODY_TIMEOUT_SECONDS="1") as server:
        yield server.base.removeprefix("http://")


async def test_a_body_that_trickles_in_gets_408_at_the_deadline(slow_body_server: str) -> None:
    host, port = slow_body_server.split(":")

    def trickle() -> tuple[bytes, float]:
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(
                b"POST /v1/referral-options HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 200\r\n\r\n{"
            )
            reply = b""
            for _ in range(40):  # one byte every 0.1 s would take 20 s to send the body
                try:
                    s.sendall(b" ")
                except OSError:
                    break
                s.settimeout(0.1)
                try:
                    chunk = s.recv(4096)
                except TimeoutError:
                    continue
                if not chunk:
                    break
                reply += chunk
                if b"\r\n\r\n" in reply:
                    break
            return reply, time.monotonic() - started

    reply, took = await asyncio.to_thread(trickle)
    assert reply.startswith(b"HTTP/1.1 408"), reply[:200]
    assert b"application/problem+json" in reply and took < 4


# --- imports, locks and the export ------------------------------------------------------------------------


async def test_concurrent_imports_of_the_same_services_never_deadlock_and_the_loser_gets_409(
    settings: Settings, conn: Connection, demo_document: bytes
) -> None:
    async with AsyncTestClient(app=create_app(settings)) as a, AsyncTestClient(app=create_app(settings)) as b:
        await authorised(a, conn)
        await authorised(b, conn)
        document = json.loads(demo_document)
        assert (await a.post("/v1/directory/import", json=document)).status_code == 200
        forwards = {**document, "services": [{**s, "description": "forwards"} for s in document["services"]]}
        backwards = {**document, "services": [{**s, "description": "backwards"} for s in document["services"][::-1]]}
        for _ in range(6):
            first, second = await asyncio.gather(
                a.post("/v1/directory/import", json=forwards), b.post("/v1/directory/import", json=backwards)
            )
            statuses = sorted((first.status_code, second.status_code))
            assert statuses in ([200, 200], [200, 409]), (first.text, second.text)
            for loser in (r for r in (first, second) if r.status_code == 409):
                assert_problem(loser, 409, "body")
                assert int(loser.headers["retry-after"]) > 0
            # All or nothing: every service carries one import's description.
            described = {s["description"] for s in (await a.get("/v1/directory/export")).json()["services"]}
            assert len(described) == 1


async def test_a_write_waiting_on_a_held_lock_gives_up_with_503_and_reads_stay_quick(
    settings: Settings, conn: Connection
) -> None:
    quick = Settings(database_url=settings.database_url, load_demo=False, db_lock_timeout=1)
    async with AsyncTestClient(app=create_app(quick)) as client:
        await authorised(client, conn)
        created = await seed(client)
        holder = await connect(quick.database_url or "")
        try:
            tx = holder.transaction()
            await tx.start()
            await holder.execute("select id from services where id = $1 for update", created["id"])
            started = time.monotonic()
            r = await client.patch(f"/v1/services/{created['id']}", json={"name": "Blocked"})
            assert_problem(r, 503, "database")
            assert int(r.headers["retry-after"]) > 0 and time.monotonic() - started < 4
            started = time.monotonic()
            assert (await client.get("/v1/services")).status_code == 200
            assert time.monotonic() - started < 1
            await tx.rollback()
        finally:
            await holder.close()
        assert (await client.get(f"/v1/services/{created['id']}")).json()["name"] == "Test street triage"


async def test_the_exports_version_is_never_newer_than_its_body(client: Client) -> None:
    created = await seed(client)
    renamed: dict[int, str] = {}

    async def rename() -> None:
        for i in range(25):
            r = await client.patch(f"/v1/services/{created['id']}", json={"name": f"Name {i}"})
            assert r.status_code == 200

    async def export() -> list[tuple[int, str]]:
        seen = []
        for _ in range(25):
            r = await client.get("/v1/directory/export")
            seen.append((int(r.headers["x-directory-version"]), r.json()["services"][0]["name"]))
        return seen

    _, seen = await asyncio.gather(rename(), export())
    for change in (await client.get("/v1/changes", params={"limit": 1000})).json():
        for field in change["changes"]:
            if change["entity"] == "service" and field["field"] == "name":
                renamed[change["id"]] = field["new"]
            if change["entity"] == "service" and field["field"] == "slug" and field["old"] is None:
                renamed[change["id"]] = "Test street triage"
    for version, name in seen:
        expected = renamed[max(i for i in renamed if i <= version)]
        assert name == expected, (version, name, expected)


# --- huge geometry ----------------------------------------------------------------------------------------


def ring(vertices: int, lon: float = -0.5, lat: float = 52.5, r: float = 0.2) -> list[list[float]]:
    import math

    points = [
        [lon + r * math.cos(2 * math.pi * i / vertices), lat + r * math.sin(2 * math.pi * i / vertices)]
        for i in range(vertices)
    ]
    return [*points, points[0]]


async def test_a_catchment_of_more_than_5000_vertices_is_refused_and_one_of_5000_is_fine(client: Client) -> None:
    await seed(client)
    before = await snapshot(client)
    big = {"type": "polygon", "geometry": {"type": "Polygon", "coordinates": [ring(6_000)]}}
    r = await client.post("/v1/services", json=service(slug="big", catchment=big))
    assert "6,001 vertices" in assert_problem(r, 422, "catchment.geometry")["detail"]
    assert await snapshot(client) == before
    fine = {"type": "polygon", "geometry": {"type": "Polygon", "coordinates": [ring(4_999)]}}
    created = await client.post("/v1/services", json=service(slug="fine", catchment=fine))
    assert created.status_code == 201, created.text
    page = await client.get("/services/fine")
    assert page.status_code == 200 and page.text.count(" L") < 5_000, "the map is simplified for display"


async def test_an_area_of_more_than_200000_vertices_is_refused(client: Client) -> None:
    before = await snapshot(client)
    huge = {**AREA, "boundary": {"type": "Polygon", "coordinates": [ring(200_001)]}}
    assert_problem(await client.put("/v1/areas/HUGE", json=huge), 422, "boundary")
    assert await snapshot(client) == before


async def test_a_service_of_more_than_256_kib_is_refused(client: Client) -> None:
    await seed(client)
    before = await snapshot(client)
    exceptions = [{"date": f"2027-{1 + i // 28:02d}-{1 + i % 28:02d}", "note": "n" * 200} for i in range(336)]
    shape = {"type": "polygon", "geometry": {"type": "Polygon", "coordinates": [ring(4_999, r=0.123456789012345)]}}
    body = service(slug="heavy", catchment=shape, schedule={"exceptions": exceptions})
    r = await client.post("/v1/services", json=body)
    assert r.status_code == 422, r.status_code
    assert "at most 262,144" in assert_problem(r, 422, "body")["detail"]
    assert await snapshot(client) == before


# --- every response, documented --------------------------------------------------------------------------


async def test_litestars_own_404_405_and_options_answers_carry_the_security_headers(client: Client) -> None:
    for response in (
        await client.get("/nope/%0aforged"),
        await client.request("PATCH", "/v1/directory/export"),
        await client.options("/v1/services"),
        await client.options("/v1/keys"),
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    missing = await client.get("/nope/%0aforged")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith(PROBLEM_JSON)
    assert "forged" not in missing.text and "nope" not in missing.text, "a path that matched nothing is not echoed"


async def test_a_cors_preflight_carries_the_security_headers(settings: Settings, conn: Connection) -> None:
    cors = Settings(database_url=settings.database_url, load_demo=False, cors_origins="https://partner.example")
    async with AsyncTestClient(app=create_app(cors)) as client:
        preflight = {"Origin": "https://partner.example", "Access-Control-Request-Method": "POST"}
        r = await client.options("/v1/referral-options", headers=preflight)
        assert r.status_code == 204 and r.headers["access-control-allow-origin"] == "https://partner.example"
        assert (
            r.headers["x-content-type-options"] == "nosniff"
            and "frame-ancestors" in r.headers["content-security-policy"]
        )


async def test_options_lists_every_method_a_path_allows_without_a_key(client: Client) -> None:
    document = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text())
    client.headers.pop("Authorization")
    for path, item in document["paths"].items():
        documented = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        concrete = path.replace("{key}", "x").replace("{code}", "T1").replace("{key_id}", str(secrets.token_hex(16)))
        for name in ("{referral_id}", "{report_id}", "{proposal_id}"):
            concrete = concrete.replace(name, str(uuid.uuid4()))
        r = await client.options(concrete)
        assert r.status_code == 204, (path, r.status_code)
        assert {m.strip() for m in r.headers["allow"].split(",")} == documented | {"OPTIONS"}, path


def test_every_error_response_is_documented_as_problem_json_and_rings_have_four_positions() -> None:
    document = json.loads((PROJECT_ROOT / "openapi" / "openapi.json").read_text())
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                if status.startswith(("4", "5")):
                    # FHIR's own errors are OperationOutcomes (400, 404, and 422 for a day that never was); the rest
                    # are problem details everywhere
                    fhir = path.startswith("/fhir") and status in ("400", "404", "422")
                    expected = ["application/fhir+json"] if fhir else [PROBLEM_JSON]
                    assert list(response.get("content", {})) == expected, (path, method, status)
    ring_schema = document["components"]["schemas"]["Polygon"]["properties"]["coordinates"]["items"]
    assert ring_schema["minItems"] == 4 and ring_schema["items"]["minItems"] == 2


def test_a_bug_is_logged_with_its_traceback_once_and_its_path_escaped(caplog: pytest.LogCaptureFixture) -> None:
    outage = Outage()

    def fail() -> None:
        raise ValueError("boom")

    with captured_logs(caplog):
        for _ in range(50):
            try:
                fail()
            except ValueError as e:
                outage.bug(e, "GET /v1/x%0Aforged")
    records = [r for r in caplog.records if r.name == "service.http"]
    assert len(records) == 1 and "Traceback" in records[0].getMessage() and "boom" in records[0].getMessage()
    first_line = records[0].getMessage().splitlines()[0]
    assert first_line == "unhandled error on GET /v1/x%0Aforged"


def test_a_logged_database_error_never_quotes_the_failing_row(caplog: pytest.LogCaptureFixture) -> None:
    import asyncpg

    error = asyncpg.CheckViolationError("new row violates check constraint")
    error.detail = "Failing row contains (hash 903efe88f242, ldp_Xce1HlVH)."
    with captured_logs(caplog):
        try:
            raise error
        except asyncpg.CheckViolationError as e:
            Outage().bug(e, "POST /v1/keys")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "check constraint" in logged and "903efe88f242" not in logged and "ldp_" not in logged


async def test_a_4xx_never_logs_the_path_raw(client: Client, caplog: pytest.LogCaptureFixture) -> None:
    with captured_logs(caplog, logging.DEBUG):
        await client.get("/v1/services/%0aINFO%20forged")
        await client.get("/nope%0aWARNING%20forged")
    assert not [r for r in caplog.records if "\nINFO forged" in r.getMessage() or "\nWARNING forged" in r.getMessage()]
