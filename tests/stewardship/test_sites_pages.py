"""The admins' pages for custody suites and courts, through the app on a real PostgreSQL: a site added and changed
with the API's rules and words, a concurrent change shown, and nobody but an admin let in."""

from __future__ import annotations

from service.store.db import Connection
from tests.api.helpers import AREA
from tests.conftest import admin_key
from tests.stewardship.test_editing_pages import editor_key, errors
from tests.stewardship.test_sign_in_and_capacity import Client, app_client, sign_in, token_in

__all__ = ["app_client"]


async def test_an_admin_adds_a_custody_suite_and_changes_it_and_the_api_has_it(
    app_client: Client, conn: Connection
) -> None:
    key = await admin_key(conn)
    admin = {"Authorization": f"Bearer {key}"}
    assert (await app_client.put("/v1/areas/T1", json=AREA, headers=admin)).status_code == 201
    await sign_in(app_client, key)
    form = await app_client.get("/account/sites/new")
    assert form.status_code == 200
    fields = {"name": "Test custody suite", "slug": "", "kind": "custody_suite", "location.lat": "52.5"}
    missing = await app_client.post("/account/sites/new", data={"csrf_token": token_in(form.text), **fields})
    assert missing.status_code == 400 and errors(missing.text) == ["Enter the longitude"]
    fields["location.lon"] = "-0.5"
    saved = await app_client.post("/account/sites/new", data={"csrf_token": token_in(form.text), **fields})
    assert saved.status_code == 303, errors(saved.text)
    site = (await app_client.get("/v1/sites/test-custody-suite", headers=admin)).json()
    assert site["area_codes"] == ["T1"] and site["kind"] == "custody_suite" and site["version"] == 1

    page = await app_client.get("/account/sites/test-custody-suite")
    changed = {**fields, "slug": "test-custody-suite", "name": "Test custody suite (new wing)", "area_codes": "T1"}
    r = await app_client.post(
        "/account/sites/test-custody-suite", data={"csrf_token": token_in(page.text), "version": "1", **changed}
    )
    assert r.status_code == 303
    assert (await app_client.get("/v1/sites/test-custody-suite", headers=admin)).json()["name"].endswith("(new wing)")

    stale = await app_client.post(
        "/account/sites/test-custody-suite",
        data={"csrf_token": token_in(page.text), "version": "1", **changed, "name": "Stale"},
    )
    assert stale.status_code == 409
    assert "Someone else changed this site while you were editing; here is what they changed" in stale.text
    assert "Test custody suite (new wing)" in stale.text
    bad = await app_client.post(
        "/account/sites/test-custody-suite",
        data={"csrf_token": token_in(page.text), "version": "2", **changed, "area_codes": "NOPE9"},
    )
    assert bad.status_code == 400 and any("NOPE9" in e for e in errors(bad.text))
    assert (await app_client.get("/v1/sites/test-custody-suite", headers=admin)).json()["version"] == 2


async def test_an_editor_cannot_reach_the_site_pages_and_a_forged_form_writes_nothing(
    app_client: Client, conn: Connection
) -> None:
    key = await admin_key(conn)
    admin = {"Authorization": f"Bearer {key}"}
    assert (await app_client.put("/v1/areas/T1", json=AREA, headers=admin)).status_code == 201
    await sign_in(app_client, await editor_key(conn))
    account = await app_client.get("/account")
    assert "Custody suites and courts" not in account.text
    assert (await app_client.get("/account/sites")).status_code == 403
    fields = {"name": "X", "kind": "court", "location.lat": "52.5", "location.lon": "-0.5"}
    r = await app_client.post("/account/sites/new", data={"csrf_token": token_in(account.text), **fields})
    assert r.status_code == 403
    await sign_in(app_client, key)
    forged = await app_client.post("/account/sites/new", data={"csrf_token": "forged", **fields})
    assert forged.status_code == 403
    assert await conn.fetchval("select count(*) from sites") == 0


async def test_a_site_cannot_take_the_slug_of_the_page_that_adds_sites(app_client: Client, conn: Connection) -> None:
    key = await admin_key(conn)
    await sign_in(app_client, key)
    form = await app_client.get("/account/sites/new")
    fields = {"name": "Route clash", "slug": "new", "kind": "court", "location.lat": "52.5", "location.lon": "-0.5"}
    r = await app_client.post("/account/sites/new", data={"csrf_token": token_in(form.text), **fields})
    assert r.status_code == 400 and any("choose another slug" in e for e in errors(r.text))
    assert await conn.fetchval("select count(*) from sites") == 0
