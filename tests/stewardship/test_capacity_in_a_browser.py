"""The provider's capacity page in a real browser (Debian's Chromium, Playwright), on `pathways serve` with the demo
directory: signed in with a key on a 390 x 844 phone with JavaScript off, capacity set in one screen, and every page
of the flow checked by axe and screenshotted."""

from __future__ import annotations

import asyncio
import json
import urllib.request
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.store.db import connect
from service.store.keys import create_key
from tests.conftest import LiveServer
from tests.pages.test_pages import ARGS, AXE, CHROMIUM, pytestmark, shot  # noqa: F401  (the same skip)

PHONE = {"width": 390, "height": 844}
SERVICE = "hull-place-of-safety"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def provider_key(live_server: LiveServer) -> str:
    conn = await connect(live_server.database_url)
    try:
        service_id = await conn.fetchval("select id from services where slug = $1", SERVICE)
        created = await create_key(
            conn, name="Hull s136 suite", role="provider", service_ids=(uuid.UUID(str(service_id)),), created_by="t"
        )
        return created.key
    finally:
        await conn.close()


def read_json(url: str) -> Any:
    with urllib.request.urlopen(url) as r:
        return json.load(r)


async def axe_clean(page: Any) -> None:
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    bad = [(v["id"], v["impact"], v["help"]) for v in result["violations"] if v["impact"] in ("serious", "critical")]
    assert bad == [], json.dumps(bad, indent=1)


async def test_a_provider_on_a_phone_with_javascript_off_signs_in_and_sets_full_for_two_hours(
    browser: Any, live_server: LiveServer
) -> None:
    key = await provider_key(live_server)
    # axe is injected inline, which the pages' CSP forbids: only for the scan, not for the flow
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False, bypass_csp=True)
    page = await context.new_page()
    await page.goto(live_server.base + "/sign-in")
    await shot(page, "sign-in-390")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    assert page.url.endswith("/account")
    assert "Signed in as Hull s136 suite (provider)" in " ".join((await page.inner_text("main")).split())
    await shot(page, "account-390")
    await page.click(f"a[href='/account/services/{SERVICE}/capacity']")
    heading = page.locator("h1")
    box = await heading.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"]  # the answer on the first screen
    await page.check("#status-full")
    await page.check("#full-for-2")
    await page.fill("#note", "both beds taken")
    await page.click("text=Save capacity")
    assert "saved=1" in page.url
    assert "Saved: Full until" in await page.inner_text("main")
    await shot(page, "capacity-saved-390")
    capacity = (await asyncio.to_thread(read_json, f"{live_server.base}/v1/services/{SERVICE}"))["capacity"]
    assert capacity["status"] == "full" and capacity["note"] == "both beds taken"
    await context.close()


@pytest.mark.parametrize(
    "path", ["/sign-in", "/account", f"/account/services/{SERVICE}/capacity", f"/account/services/{SERVICE}"]
)
async def test_each_page_of_the_flow_is_axe_clean_at_a_phones_width(
    browser: Any, live_server: LiveServer, path: str
) -> None:
    key = await provider_key(live_server)
    context = await browser.new_context(viewport=PHONE, bypass_csp=True)
    page = await context.new_page()
    await page.goto(live_server.base + "/sign-in")
    if path != "/sign-in":
        await page.fill("#key", key)
        await page.click("button[type=submit]")
        await page.goto(live_server.base + path)
    await axe_clean(page)
    await context.close()


async def test_a_wrong_key_shows_the_error_summary_and_is_axe_clean(browser: Any, live_server: LiveServer) -> None:
    context = await browser.new_context(viewport=PHONE, bypass_csp=True)
    page = await context.new_page()
    await page.goto(live_server.base + "/sign-in")
    await page.fill("#key", "ldp_not_a_key")
    await page.click("button[type=submit]")
    assert "This key is not known, or it has been revoked" in await page.inner_text(".govuk-error-summary")
    await axe_clean(page)
    await shot(page, "sign-in-error-390")
    await context.close()
