"""Hostile and malformed input never gives a 500: NUL bytes, JSON nested 1,000 deep, invalid UTF-8, dates at the
ends of the calendar, wrong JSON types, GeoJSON of the wrong shape, over-long key names and odd token claims. Each
is a 4xx problem naming the field, nothing is written, and nothing secret is logged."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.security.jwt import Token
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from tests.api.helpers import AREA, assert_problem, body_kwargs, captured_logs, seed, server_side, service, snapshot
from tests.conftest import authorised

Client = AsyncTestClient[Litestar]
DEEP = b"[" * 1000 + b"]" * 1000
SEARCH = {"origin": {"type": "point", "lat": 52.5, "lon": -0.5}, "context": "street", "person": {"age": 30}}


def deep_in(field: str) -> bytes:
    return b'{"' + field.encode() + b'": ' + DEEP + b"}"


async def eventually(probe: Callable[[], Awaitable[Any]], ok: Callable[[Any], bool], seconds: float = 3.0) -> Any:
    """Probe until `ok` holds (the index follows the change feed within a second)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        value = await probe()
        if ok(value):
            return value
        assert asyncio.get_running_loop().time() < deadline, f"still {value!r} after {seconds} s"
        await asyncio.sleep(0.05)


def soon() -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)).isoformat()


# (case, method, path, raw body or JSON or None, status, field)
CASES: list[tuple[str, str, str, Any, int, str]] = [
    # NUL in a path key or a text filter: PostgreSQL text cannot hold it, so it must never get that far.
    ("NUL in a service key", "GET", "/v1/services/a%00b", None, 400, "key"),
    ("NUL in a service key on PATCH", "PATCH", "/v1/services/a%00b", {"name": "x"}, 400, "key"),
    ("NUL in a service key on DELETE", "DELETE", "/v1/services/a%00b", None, 400, "key"),
    ("NUL in history's key", "GET", "/v1/services/a%00b/history", None, 400, "key"),
    ("NUL in an area code", "GET", "/v1/areas/a%00b", None, 400, "code"),
    ("NUL in a site key", "GET", "/v1/sites/a%00b", None, 400, "key"),
    ("NUL in the text filter", "GET", "/v1/services?q=%00", None, 400, "q"),
    ("NUL in the area filter", "GET", "/v1/services?area=%00", None, 400, "area"),
    ("NUL in the sites' area filter", "GET", "/v1/sites?area=a%00", None, 400, "area"),
    ("NUL in a search's site", "GET", "/v1/referral-options?context=street&age=30&site=a%00", None, 400, "site"),
    ("newline in a slug", "GET", "/v1/services/abc%0A", None, 400, "key"),
    ("NUL in a name", "POST", "/v1/services", service(slug="nul", name="a\x00b"), 400, "name"),
    ("NUL in a description", "POST", "/v1/services", service(slug="nul", description="a\x00b"), 400, "description"),
    ("a line break in a name", "POST", "/v1/services", service(slug="nl", name="a\nb"), 400, "name"),
    ("a trailing newline in a slug", "POST", "/v1/services", service(slug="nl\n"), 400, "slug"),
    (
        "NUL in an email",
        "POST",
        "/v1/services",
        service(slug="e", contacts={"email": "a\x00@b.uk"}),
        400,
        "contacts.email",
    ),
    # JSON nested 1,000 deep, in any body.
    ("deep JSON in a search", "POST", "/v1/referral-options", deep_in("origin"), 400, "origin"),
    ("deep JSON in an unknown field", "POST", "/v1/referral-options", deep_in("colour"), 400, "colour"),
    ("deep JSON as the whole body", "POST", "/v1/referral-options", DEEP, 400, "body"),
    ("deep JSON in a service", "POST", "/v1/services", deep_in("eligibility"), 400, "eligibility"),
    ("deep JSON in a patch", "PATCH", "/v1/services/{id}", deep_in("schedule"), 400, "schedule"),
    ("deep JSON in an import", "POST", "/v1/directory/import", deep_in("services"), 400, "services"),
    ("deep JSON in an area import", "POST", "/v1/areas/import", deep_in("areas"), 400, "areas"),
    ("deep JSON in a key", "POST", "/v1/keys", deep_in("name"), 400, "name"),
    # Invalid UTF-8 inside a JSON string.
    (
        "invalid UTF-8 in a search",
        "POST",
        "/v1/referral-options",
        b'{"origin": {"type": "site", "site": "\xff\xfe"}, "context": "custody", "person": {"age": 30}}',
        400,
        "origin.site",
    ),
    ("invalid UTF-8 in a service", "POST", "/v1/services", b'{"slug": "x", "name": "\xc3\x28"}', 400, "name"),
    (
        "invalid UTF-8 in an imported record",
        "POST",
        "/v1/directory/import",
        b'{"format": "ld-pathways/directory", "format_version": 1, "services": [{"slug": "x", "name": "\xe2\x82"}]}',
        400,
        "name",
    ),
    # Dates at the ends of the calendar.
    ("the first instant there is", "POST", "/v1/referral-options", {**SEARCH, "at": "0001-01-01T00:00:00Z"}, 422, "at"),
    (
        "the last instant there is",
        "POST",
        "/v1/referral-options",
        {**SEARCH, "at": "9999-12-31T23:59:59-23:59"},
        422,
        "at",
    ),
    (
        "the first instant, by query",
        "GET",
        "/v1/referral-options?context=street&age=30&lat=52.5&lon=-0.5&at=0001-01-01T00:00:00Z",
        None,
        422,
        "at",
    ),
    (
        "a capacity until at the end of time",
        "POST",
        "/v1/services",
        service(slug="late", capacity={"status": "full", "until": "9999-12-31T23:59:59-23:59"}),
        422,
        "capacity.until",
    ),
    (
        "a verification in the future",
        "POST",
        "/v1/services",
        service(slug="v", verification={"verified_at": "2999-01-01T00:00:00Z", "verified_by": "x"}),
        422,
        "verification.verified_at",
    ),
    (
        "a dated exception in year 1",
        "POST",
        "/v1/services",
        service(slug="x", schedule={"exceptions": [{"date": "0001-01-01"}]}),
        422,
        "schedule.exceptions[0].date",
    ),
    # Wrong JSON types are refused, not converted.
    ("an age as a string", "POST", "/v1/referral-options", {**SEARCH, "person": {"age": "30"}}, 400, "person.age"),
    ("a limit as a string", "POST", "/v1/referral-options", {**SEARCH, "limit": "5"}, 400, "limit"),
    ("a priority as a string", "PATCH", "/v1/services/{id}", {"pathway_priority": "2"}, 400, "pathway_priority"),
    ("a boolean as a number", "PATCH", "/v1/services/{id}", {"police_station": 1}, 400, "police_station"),
    ("an until as a number", "PUT", "/v1/services/{id}/capacity", {"status": "full", "until": 0}, 400, "until"),
    # GeoJSON of the wrong shape.
    (
        "feature properties that are a list",
        "POST",
        "/v1/areas/import",
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": [1], "geometry": None}]},
        400,
        "properties",
    ),
    (
        "feature properties that are a string",
        "POST",
        "/v1/areas/import",
        {"type": "FeatureCollection", "features": [{"type": "Feature", "properties": "x", "geometry": None}]},
        400,
        "properties",
    ),
    (
        "features that are not an array",
        "POST",
        "/v1/areas/import",
        {"type": "FeatureCollection", "features": {"a": 1}},
        400,
        "features",
    ),
    # Key names the database could not hold.
    ("a key name of 150 characters", "POST", "/v1/keys", {"name": "n" * 150, "role": "reader"}, 400, "name"),
    ("a key name with NUL", "POST", "/v1/keys", {"name": "a\x00b", "role": "reader"}, 400, "name"),
]


@pytest.fixture
async def world(client: Client) -> AsyncIterator[tuple[Client, dict[str, Any]]]:
    yield client, await seed(client)


@pytest.mark.parametrize(("case", "method", "path", "body", "status", "field"), CASES, ids=[c[0] for c in CASES])
async def test_hostile_input_gets_a_problem_naming_the_field_and_writes_nothing(
    world: tuple[Client, dict[str, Any]],
    case: str,
    method: str,
    path: str,
    body: Any,
    status: int,
    field: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client, created = world
    before = await snapshot(client)
    keys_before = len((await client.get("/v1/keys")).json())
    kwargs = body_kwargs(body)
    with captured_logs(caplog, logging.INFO):
        response = await client.request(method, path.format(id=created["id"]), **kwargs)
    problem = assert_problem(response, status, field)
    assert "\x00" not in response.text and "\n" not in (problem.get("instance") or "")
    assert await snapshot(client) == before
    assert len((await client.get("/v1/keys")).json()) == keys_before
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], "a 4xx must not log an error"


async def test_a_capacity_until_without_a_time_zone_is_refused_on_every_write_path(
    world: tuple[Client, dict[str, Any]],
) -> None:
    client, created = world
    naive = (dt.datetime.now() + dt.timedelta(hours=2)).replace(tzinfo=None).isoformat()
    capacity = {"status": "full", "until": naive}
    before = await snapshot(client)
    paths = [
        ("PUT", f"/v1/services/{created['id']}/capacity", capacity, "until"),
        ("POST", "/v1/services", service(slug="naive", capacity=capacity), "capacity.until"),
        ("PATCH", f"/v1/services/{created['id']}", {"capacity": capacity}, "capacity.until"),
        ("PUT", f"/v1/services/{created['id']}", service(capacity=capacity), "capacity.until"),
        (
            "POST",
            "/v1/directory/import",
            {"format": "ld-pathways/directory", "format_version": 1, "services": [service(capacity=capacity)]},
            "capacity.until",
        ),
    ]
    for method, path, body, field in paths:
        problem = assert_problem(await client.request(method, path, json=body), 400, field)
        assert "timezone" in str(problem).lower()
    assert await snapshot(client) == before
    # With its offset, the same moment is fine.
    ok = await client.put(f"/v1/services/{created['id']}/capacity", json={"status": "full", "until": soon()})
    assert ok.status_code == 200, ok.text


async def test_an_editor_cannot_store_a_capacity_until_without_a_time_zone_either(
    settings: Settings, conn: Connection
) -> None:
    from service.store.keys import create_key

    async with AsyncTestClient(app=create_app(settings)) as client:
        await authorised(client, conn)
        created = await seed(client)
        editor = (await create_key(conn, name="ed", role="editor", area_codes=("T1",), created_by="t")).key
        naive = (dt.datetime.now() + dt.timedelta(hours=2)).replace(tzinfo=None).isoformat()
        r = await client.put(
            f"/v1/services/{created['id']}/capacity",
            json={"status": "full", "until": naive},
            headers={"Authorization": f"Bearer {editor}"},
        )
        assert_problem(r, 400, "until")


async def test_a_damaged_stored_service_never_takes_searches_down(
    settings: Settings, conn: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    """A record written before the API refused zone-less times (or by hand) is left out of search, logged once,
    and every other service is still found, explained searches included."""
    async with AsyncTestClient(app=create_app(settings)) as client:
        await authorised(client, conn)
        created = await seed(client)
        other = await client.post("/v1/services", json=service(slug="still-here", schedule={"open_24_7": True}))
        assert other.status_code == 201
        body = {**SEARCH, "explain": True, "person": {"age": 30, "needs": ["mental_health_crisis"]}}

        async def offered() -> list[str]:
            r = await client.post("/v1/referral-options", json=body)
            assert r.status_code == 200, r.text
            return [o["service"]["slug"] for o in r.json()["options"]]

        await eventually(lambda: offered(), lambda found: "still-here" in found)
        with captured_logs(caplog, logging.ERROR):
            await conn.execute(
                """update services set body = jsonb_set(body, '{capacity}',
                       '{"status": "full", "until": "2026-12-01T10:00:00", "note": ""}') where id = $1""",
                created["id"],
            )
            await conn.execute(
                "insert into changes (actor, entity, entity_key, operation, version, fields) "
                "values ('hand', 'service', $1, 'update', 9, '[]')",
                str(created["id"]),
            )
            await eventually(
                lambda: asyncio.sleep(0), lambda _: any(created["id"] in r.getMessage() for r in caplog.records)
            )
        assert "still-here" in await offered()


async def test_a_token_whose_subject_or_areas_are_not_plain_text_is_refused(
    settings: Settings, conn: Connection
) -> None:
    secret = secrets.token_hex(32)
    jwt_settings = Settings(database_url=settings.database_url, load_demo=False, jwt_secret=secret)
    exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
    async with AsyncTestClient(app=create_app(jwt_settings)) as client:
        await authorised(client, conn)
        await client.put("/v1/areas/T1", json=AREA)
        before = await snapshot(client)
        for sub, extras in (
            ("ali\x00ce", {"role": "editor", "areas": ["T1"]}),
            ("x" * 300, {"role": "editor", "areas": ["T1"]}),
            ("alice", {"role": "editor", "areas": ["T\x001"]}),
            ("alice", {"role": "overlord", "areas": ["T1"]}),
            ("alice", {"role": "editor", "areas": "T1"}),
        ):
            token = Token(sub=sub, exp=exp, extras=extras).encode(secret, "HS256")
            r = await client.post(
                "/v1/services", json=service(slug="by-jwt"), headers={"Authorization": f"Bearer {token}"}
            )
            assert_problem(r, 401, "Authorization")
        assert await snapshot(client) == before


async def test_a_rejected_key_leaves_no_secret_in_the_logs(
    client: Client, conn: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    with captured_logs(caplog):
        for body in ({"name": "n" * 150, "role": "reader"}, {"name": "a\x00b", "role": "admin"}):
            assert (await client.post("/v1/keys", json=body)).status_code == 400
    logged = server_side(caplog)
    assert "ldp_" not in logged and "Failing row" not in logged
    assert await conn.fetchval("select count(*) from api_keys where name <> 'test admin'") == 0
