"""Signing in with an API key, the session it becomes, and the provider's capacity page: on a real PostgreSQL,
through the app. The pages can do no more than the API allows, and nothing is written by a form without its token."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.stewardship.sessions import COOKIE, SIGN_IN_COOKIE
from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import AREA, SERVICE, service
from tests.conftest import admin_key

Client = AsyncTestClient[Litestar]
BASE = "https://testserver.local"


@pytest.fixture
async def app_client(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    """A browser-like client on HTTPS (the session cookie is Secure), with no key of its own."""
    async with AsyncTestClient(app=create_app(settings), base_url=BASE) as client:
        client.follow_redirects = False  # each redirect is asserted
        yield client


async def seeded(client: Client, conn: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    """Area T1 and two services in it, written with an admin key."""
    admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
    assert (await client.put("/v1/areas/T1", json=AREA, headers=admin)).status_code == 201
    first = await client.post("/v1/services", json=SERVICE, headers=admin)
    other = await client.post("/v1/services", json=service(slug="other-triage", name="Other triage"), headers=admin)
    assert first.status_code == other.status_code == 201
    return first.json(), other.json()


async def provider_key(conn: Connection, service_id: str) -> str:
    created = await create_key(
        conn, name="s136 suite nurse", role="provider", service_ids=(uuid.UUID(service_id),), created_by="t"
    )
    return created.key


def token_in(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, html
    return found.group(1)


async def sign_in(client: Client, key: str) -> Any:
    form = await client.get("/sign-in")
    assert form.status_code == 200
    return await client.post("/sign-in", data={"key": key, "csrf_token": token_in(form.text)})


async def capacity_of(client: Client, conn: Connection, slug: str) -> dict[str, Any]:
    r = await client.get(f"/v1/services/{slug}", headers={"Authorization": f"Bearer {await admin_key(conn)}"})
    capacity: dict[str, Any] = r.json()["capacity"]
    return capacity


async def test_a_provider_signs_in_with_its_key_sets_full_for_two_hours_and_the_search_sees_it(
    app_client: Client, conn: Connection
) -> None:
    mine, _ = await seeded(app_client, conn)
    signed = await sign_in(app_client, await provider_key(conn, mine["id"]))
    assert signed.status_code == 303 and signed.headers["location"] == "/account"
    cookie = next(h for h in signed.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}="))
    assert {"HttpOnly", "Secure", "SameSite=lax"} <= {part.strip() for part in cookie.split(";")}

    account = await app_client.get("/account")
    assert account.status_code == 200
    assert "Signed in as <strong>s136 suite nurse</strong> (provider)" in account.text
    assert "Test street triage" in account.text and "Other triage" not in account.text

    page = await app_client.get(f"/account/services/{mine['slug']}/capacity")
    assert page.status_code == 200 and "Capacity now: Not known" in page.text
    saved = await app_client.post(
        f"/account/services/{mine['slug']}/capacity",
        data={"csrf_token": token_in(page.text), "status": "full", "full_for": "2", "note": "both beds taken"},
    )
    assert saved.status_code == 303
    after = await app_client.get(saved.headers["location"])
    assert "Saved: Full until" in after.text and "both beds taken" in after.text
    assert "Set by key:s136 suite nurse" in after.text and "Reads as unknown after" in after.text
    capacity = await capacity_of(app_client, conn, mine["slug"])
    until = dt.datetime.fromisoformat(capacity["until"])
    assert capacity["status"] == "full" and capacity["note"] == "both beds taken"
    assert dt.timedelta(hours=1, minutes=59) < until - dt.datetime.now(dt.UTC) <= dt.timedelta(hours=2)

    runtime = app_client.app.state.runtime
    for _ in range(100):  # the change feed reaches this replica's index
        indexed = runtime.index.by_slug.get(mine["slug"])
        if indexed is not None and indexed.capacity.status == "full":
            break
        await asyncio.sleep(0.05)
    assert runtime.index.by_slug[mine["slug"]].capacity.status == "full"


async def test_a_wrong_key_is_refused_on_the_page_and_no_session_is_made(app_client: Client, conn: Connection) -> None:
    r = await sign_in(app_client, "ldp_" + "x" * 43)
    assert r.status_code == 401 and "This key is not known, or it has been revoked" in r.text
    assert COOKIE not in app_client.cookies
    assert await conn.fetchval("select count(*) from sessions") == 0


async def test_a_sign_in_posted_without_the_forms_own_token_is_refused(app_client: Client, conn: Connection) -> None:
    mine, _ = await seeded(app_client, conn)
    key = await provider_key(conn, mine["id"])
    r = await app_client.post("/sign-in", data={"key": key, "csrf_token": "forged"})
    assert r.status_code == 403 and "This form has expired" in r.text
    assert await conn.fetchval("select count(*) from sessions") == 0


async def test_a_capacity_form_with_a_forged_token_writes_nothing(app_client: Client, conn: Connection) -> None:
    mine, _ = await seeded(app_client, conn)
    await sign_in(app_client, await provider_key(conn, mine["id"]))
    for token in ("forged", ""):
        r = await app_client.post(
            f"/account/services/{mine['slug']}/capacity", data={"csrf_token": token, "status": "full", "full_for": "1"}
        )
        assert r.status_code == 403
    assert (await capacity_of(app_client, conn, mine["slug"]))["status"] == "unknown"


async def test_a_session_cookie_replayed_after_sign_out_is_refused(app_client: Client, conn: Connection) -> None:
    mine, _ = await seeded(app_client, conn)
    await sign_in(app_client, await provider_key(conn, mine["id"]))
    stolen = app_client.cookies[COOKIE]
    page = await app_client.get("/account")
    out = await app_client.post("/sign-out", data={"csrf_token": token_in(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/sign-in?signed_out=1"
    assert "You have signed out" in (await app_client.get(out.headers["location"])).text
    app_client.cookies.set(COOKIE, stolen, domain="testserver.local")
    replayed = await app_client.get("/account")
    assert replayed.status_code == 303 and replayed.headers["location"] == "/sign-in"
    assert await conn.fetchval("select count(*) from sessions") == 0


async def test_revoking_the_key_ends_its_sessions(app_client: Client, conn: Connection) -> None:
    mine, _ = await seeded(app_client, conn)
    created = await create_key(
        conn, name="to revoke", role="provider", service_ids=(uuid.UUID(mine["id"]),), created_by="t"
    )
    await sign_in(app_client, created.key)
    assert (await app_client.get("/account")).status_code == 200
    admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
    assert (await app_client.delete(f"/v1/keys/{created.details.id}", headers=admin)).status_code in (200, 204)
    r = await app_client.get("/account")
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"


@pytest.mark.parametrize(
    "ended", ["seen_at = now() - interval '31 minutes'", "expires_at = now() - interval '1 second'"]
)
async def test_an_idle_or_expired_session_ends(app_client: Client, conn: Connection, ended: str) -> None:
    mine, _ = await seeded(app_client, conn)
    await sign_in(app_client, await provider_key(conn, mine["id"]))
    await conn.execute(f"update sessions set {ended}")
    r = await app_client.get("/account")
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    assert await conn.fetchval("select count(*) from sessions") == 0


async def test_a_provider_cannot_set_the_capacity_of_a_service_not_its_own(
    app_client: Client, conn: Connection
) -> None:
    mine, other = await seeded(app_client, conn)
    await sign_in(app_client, await provider_key(conn, mine["id"]))
    page = await app_client.get(f"/account/services/{other['slug']}/capacity")
    r = await app_client.post(
        f"/account/services/{other['slug']}/capacity",
        data={"csrf_token": token_in(page.text), "status": "available"},
    )
    assert r.status_code == 403 and "not linked to this service" in r.text
    assert (await capacity_of(app_client, conn, other["slug"]))["status"] == "unknown"


async def test_the_pages_that_write_send_anyone_not_signed_in_to_sign_in(app_client: Client, conn: Connection) -> None:
    mine, _ = await seeded(app_client, conn)
    for path in ("/account", f"/account/services/{mine['slug']}/capacity"):
        r = await app_client.get(path)
        assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    r = await app_client.post(f"/account/services/{mine['slug']}/capacity", data={"status": "full", "full_for": "1"})
    assert r.status_code == 303 and r.headers["location"] == "/sign-in"
    assert (await capacity_of(app_client, conn, mine["slug"]))["status"] == "unknown"


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"status": "available", "note": "x" * 10_000}, "note"),
        ({"status": "available", "note": "nul\x00here"}, "note"),
        ({"status": "full", "full_for": "time", "full_until": "99:99"}, "full_until"),
        ({"status": "sideways"}, "status"),
    ],
)
async def test_hostile_input_through_the_capacity_form_gets_the_forms_own_error_and_writes_nothing(
    app_client: Client, conn: Connection, fields: dict[str, str], named: str
) -> None:
    mine, _ = await seeded(app_client, conn)
    await sign_in(app_client, await provider_key(conn, mine["id"]))
    page = await app_client.get(f"/account/services/{mine['slug']}/capacity")
    r = await app_client.post(
        f"/account/services/{mine['slug']}/capacity", data={"csrf_token": token_in(page.text), **fields}
    )
    assert r.status_code == 400 and f'href="#{named}"' in r.text
    assert (await capacity_of(app_client, conn, mine["slug"]))["status"] == "unknown"


async def test_the_sign_in_form_sets_its_own_token_only_for_itself(app_client: Client) -> None:
    r = await app_client.get("/sign-in")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(f"{SIGN_IN_COOKIE}="))
    assert {"HttpOnly", "Secure", "SameSite=strict", "Path=/sign-in"} <= {p.strip() for p in cookie.split(";")}


async def test_signing_in_again_ends_the_session_the_browser_had(app_client: Client, conn: Connection) -> None:
    mine, _ = await seeded(app_client, conn)
    key = await provider_key(conn, mine["id"])
    await sign_in(app_client, key)
    first = app_client.cookies[COOKIE]
    await sign_in(app_client, key)
    assert app_client.cookies[COOKIE] != first
    assert await conn.fetchval("select count(*) from sessions") == 1


async def test_a_locked_out_address_is_told_when_to_try_again(settings: Settings, conn: Connection) -> None:
    locked = msgspec.structs.replace(settings, auth_failures_per_minute=2)
    async with AsyncTestClient(app=create_app(locked), base_url=BASE) as client:
        statuses = [(await sign_in(client, f"ldp_{'x' * 40}{i}")).status_code for i in range(4)]
        assert statuses[:2] == [401, 401] and statuses[-1] == 429
        r = await sign_in(client, "ldp_" + "y" * 43)
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "Too many attempts" in r.text


async def test_a_first_demo_start_logs_keys_a_person_signs_in_with(
    settings: Settings, conn: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    demo = msgspec.structs.replace(settings, load_demo=True, demo_keys=True)
    service_log = logging.getLogger("service")  # the app's start replaces the root's handlers, not this logger's
    service_log.addHandler(caplog.handler)
    try:
        async with AsyncTestClient(app=create_app(demo), base_url=BASE) as client:
            client.follow_redirects = False
            lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("demo key, ")]
            said = {line.split(": ")[0]: line.split(": ")[1].split()[0] for line in lines}
            assert set(said) == {
                "demo key, Demo admin (admin)",
                "demo key, Demo Humberside editor (editor)",
                "demo key, Demo Hull s136 suite (provider)",
            }
            assert (await sign_in(client, said["demo key, Demo Hull s136 suite (provider)"])).status_code == 303
            assert "Hull health-based place of safety" in (await client.get("/account")).text
    finally:
        service_log.removeHandler(caplog.handler)


async def editor_key(conn: Connection, area: str = "T1") -> str:
    return (await create_key(conn, name="Humber L&D lead", role="editor", area_codes=(area,), created_by="t")).key


async def test_an_editor_marks_a_service_checked_today_and_its_changes_read_field_by_field(
    app_client: Client, conn: Connection
) -> None:
    mine, _ = await seeded(app_client, conn)
    await sign_in(app_client, await editor_key(conn))
    page = await app_client.get(f"/account/services/{mine['slug']}")
    assert page.status_code == 200 and "Not checked yet" in page.text and "create" in page.text
    r = await app_client.post(f"/account/services/{mine['slug']}/verify", data={"csrf_token": token_in(page.text)})
    assert r.status_code == 303 and r.headers["location"] == f"/account/services/{mine['slug']}?verified=1"
    after = await app_client.get(r.headers["location"])
    assert "Marked as checked today" in after.text and "by Humber L&amp;D lead" in after.text
    assert "key:Humber L&amp;D lead" in after.text and ">verification<" in after.text
    admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
    verification = (await app_client.get(f"/v1/services/{mine['slug']}", headers=admin)).json()["verification"]
    assert verification["verified_by"] == "Humber L&D lead"


async def test_marking_checked_needs_the_forms_token_and_an_editor_whose_areas_cover_the_service(
    app_client: Client, conn: Connection
) -> None:
    mine, _ = await seeded(app_client, conn)
    await sign_in(app_client, await provider_key(conn, mine["id"]))  # a provider sets capacity, never verifies
    page = await app_client.get(f"/account/services/{mine['slug']}")
    assert page.status_code == 200 and "Mark as checked today" not in page.text
    refused = await app_client.post(
        f"/account/services/{mine['slug']}/verify", data={"csrf_token": token_in(page.text)}
    )
    assert refused.status_code == 403
    forged = await app_client.post(f"/account/services/{mine['slug']}/verify", data={"csrf_token": "forged"})
    assert forged.status_code == 403
    admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
    assert (await app_client.get(f"/v1/services/{mine['slug']}", headers=admin)).json().get("verification") is None
