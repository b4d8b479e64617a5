"""The editors' pages in a real browser (Debian's Chromium, Playwright) on `pathways serve` with the demo directory,
JavaScript off: a service added through every section of the task list and "Check your answers", a demo service
changed and the search showing it, a validation error, a conflicting edit and an edit refused by scope. Every page
is checked by axe and screenshotted."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.store.db import connect
from service.store.keys import create_key
from tests.conftest import LiveServer
from tests.pages.test_pages import ARGS, CHROMIUM, pytestmark, shot  # noqa: F401  (the same skip)
from tests.stewardship.test_capacity_in_a_browser import PHONE, axe_clean

DESK = {"width": 1280, "height": 900}
WITHOUT_SCRIPTS: list[Any] = []
"""Browser contexts with JavaScript off (axe cannot run in them)."""
HUMBERSIDE = "E23000012"
MANCHESTER = "E23000005"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def key_for(live_server: LiveServer, role: str, areas: tuple[str, ...]) -> str:
    conn = await connect(live_server.database_url)
    try:
        return (await create_key(conn, name=f"{role} in {areas}", role=role, area_codes=areas, created_by="t")).key  # type: ignore[arg-type]
    finally:
        await conn.close()


def fetch(url: str, body: Any = None) -> Any:
    request = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode())
    if body is not None:
        request.add_header("content-type", "application/json")
    with urllib.request.urlopen(request) as r:
        return json.load(r)


async def signed_in(
    browser: Any, live_server: LiveServer, key: str, viewport: dict[str, int] = DESK, javascript: bool = False
) -> Any:
    """A page signed in with the key, JavaScript off unless asked for (axe needs it: see `checked`)."""
    context = await browser.new_context(viewport=viewport, java_script_enabled=javascript, bypass_csp=True)
    if not javascript:
        WITHOUT_SCRIPTS.append(context)
    page = await context.new_page()
    await page.goto(live_server.base + "/sign-in")
    await page.fill("#key", key)
    await page.click("button[type=submit]")
    assert page.url.endswith("/account")
    return page


async def checked(page: Any, name: str) -> None:
    """Screenshot the page as it is; axe-check it where JavaScript runs: the page itself, or (JavaScript off) the
    same address opened in a twin context with the same session, which every page reached by GET can be."""
    await shot(page, name)
    if page.context not in WITHOUT_SCRIPTS:
        await axe_clean(page)
        return
    browser = page.context.browser
    twin = await browser.new_context(
        viewport=page.viewport_size, bypass_csp=True, storage_state=await page.context.storage_state()
    )
    again = await twin.new_page()
    await again.goto(page.url)
    await axe_clean(again)
    await twin.close()


async def save(page: Any) -> None:
    await page.click("button:has-text('Save and continue')")


async def test_an_editor_adds_a_service_through_every_section_with_javascript_off(
    browser: Any, live_server: LiveServer
) -> None:
    page = await signed_in(browser, live_server, await key_for(live_server, "editor", (HUMBERSIDE,)))
    await checked(page, "editor-account-1280")
    await page.click("button:has-text('Add a service')")
    await checked(page, "draft-tasks-new-1280")

    await page.click("a:has-text('Name and description')")
    await checked(page, "draft-about-1280")
    await page.fill("#name", "Hull test crisis café")
    await page.fill("#organisation", "Hull test trust")
    await page.fill("#description", "An evening crisis café.")
    await save(page)

    await page.click("a:has-text('Kind, pathway role and contexts')")
    await checked(page, "draft-kind-1280")
    await page.check("#kind-mental_health")
    await page.check("#contexts-street")
    await page.check("#access_modes-walk_in")
    await save(page)

    await page.click("a:has-text('Who it is for')")
    await checked(page, "draft-eligibility-1280")
    await page.fill("#eligibility-age-min", "17.5")
    await page.check("#eligibility-needs")  # the first need
    await save(page)

    await page.click("a:has-text('Location and catchment')")
    await page.fill("#location-lat", "53.745")
    await page.fill("#location-lon", "-0.335")
    await page.check("#catchment-type")  # the first answer: stored areas
    await page.click("summary:has-text('Districts in Humberside')")
    await page.check("#area-E06000010")  # Kingston upon Hull
    await checked(page, "draft-catchment-1280")
    await save(page)

    await page.click("a:has-text('Opening hours')")
    await page.select_option("#schedule-weekly-0-day", "fri")
    await page.fill("#schedule-weekly-0-opens", "18:00")
    await page.fill("#schedule-weekly-0-closes", "02:00")
    await page.fill("#schedule-exceptions-0-date", "25/12/2026")
    await page.fill("#schedule-exceptions-0-hours", "closed")
    await checked(page, "draft-hours-1280")
    await save(page)

    await page.click("a:has-text('Contacts')")
    await page.fill("#contacts-phones-0-number", "01632 960777")
    await page.fill("#contacts-phones-0-label", "Café")
    await checked(page, "draft-contacts-1280")
    await save(page)

    for section in ("Referral and handover", "Capacity", "Groups, fallbacks and identifiers"):
        await page.click(f"a:has-text('{section}')")
        await checked(page, f"draft-{section.split()[0].lower().strip(',')}-1280")
        await save(page)

    await page.click("a.govuk-button:has-text('Check your answers')")
    await checked(page, "draft-check-1280")
    main = " ".join((await page.inner_text("main")).split())
    assert "Hull test crisis café" in main and "17.5 and over" in main and "Friday 18:00-02:00" in main
    assert "Kind Mental health" in main and "25 December 2026: closed" in main
    await page.click("button:has-text('Add the service')")
    assert "saved=1" in page.url
    assert "Saved as version 1" in await page.inner_text("main")
    await checked(page, "draft-saved-1280")
    stored = await asyncio.to_thread(fetch, f"{live_server.base}/v1/services/hull-test-crisis-cafe")
    assert stored["catchment"] == {"type": "areas", "codes": ["E06000010"]}
    await page.context.close()


async def test_an_editor_changes_a_demo_service_and_the_search_shows_it(browser: Any, live_server: LiveServer) -> None:
    page = await signed_in(browser, live_server, await key_for(live_server, "editor", (HUMBERSIDE,)))
    await page.fill("#q", "Hull place of safety")
    await page.click("button:has-text('Filter')")
    await page.click("a:has-text('Hull')")
    await page.click("button:has-text('Change this service')")
    await page.click("a:has-text('Name and description')")
    await page.fill("#name", "Hull s136 suite (renamed in a test)")
    await save(page)
    await page.click("a.govuk-button:has-text('Check your answers')")
    await page.click("button:has-text('Save changes')")
    assert "Saved as version" in await page.inner_text("main")
    search = {
        "origin": {"type": "site", "site": "hull-custody-suite"},
        "context": "street",
        "person": {"age": 30, "needs": ["mental_health_crisis"]},
    }
    for _ in range(50):
        answer = await asyncio.to_thread(fetch, f"{live_server.base}/v1/referral-options", search)
        if "Hull s136 suite (renamed in a test)" in json.dumps(answer):
            break
        await asyncio.sleep(0.1)
    else:
        raise AssertionError(f"the search did not show the change: {json.dumps(answer)[:3000]}")
    await page.context.close()


async def test_a_validation_error_a_conflict_and_a_refusal_by_scope_are_axe_clean(
    browser: Any, live_server: LiveServer
) -> None:
    editor = await key_for(live_server, "editor", (HUMBERSIDE,))
    page = await signed_in(browser, live_server, editor, PHONE, javascript=True)
    await page.click("button:has-text('Add a service')")
    await page.click("a:has-text('Who it is for')")
    await page.fill("#eligibility-age-min", "25")
    await page.fill("#eligibility-age-max", "18")
    await save(page)
    assert "must be below max" in await page.inner_text(".govuk-error-summary")
    await checked(page, "draft-error-390")

    admin = await key_for(live_server, "admin", ())
    await page.goto(live_server.base + "/account/services/hull-place-of-safety")
    await page.click("button:has-text('Change this service')")
    draft = page.url
    await page.click("a:has-text('Name and description')")
    await page.fill("#description", "Changed here")
    await save(page)
    request = urllib.request.Request(
        f"{live_server.base}/v1/services/hull-place-of-safety",
        data=json.dumps({"description": "Changed by someone else"}).encode(),
        method="PATCH",
        headers={"content-type": "application/json", "authorization": f"Bearer {admin}"},
    )
    await asyncio.to_thread(urllib.request.urlopen, request)
    await page.goto(draft + "/check")
    await page.click("button:has-text('Save changes')")
    assert "Someone else changed this service while you were editing" in await page.inner_text("main")
    await checked(page, "draft-conflict-390")
    await page.context.close()

    other = await key_for(live_server, "editor", (MANCHESTER,))
    elsewhere = await signed_in(browser, live_server, other, PHONE, javascript=True)
    await elsewhere.goto(live_server.base + "/account/services/hull-place-of-safety")
    await elsewhere.click("button:has-text('Change this service')")
    assert "covers more than this key's areas" in await elsewhere.inner_text(".govuk-error-summary")
    await checked(elsewhere, "draft-refused-by-scope-390")
    await elsewhere.context.close()


FIELD_ERRORS = [
    ("about", "text", [("fill", "#name", "")], "Enter the service's name"),
    ("kind", "checkboxes", [("check", "#kind", "")], "Choose at least one context"),
    ("eligibility", "number", [("fill", "#eligibility-age-min", "seventeen")], "The youngest age must be a number"),
    ("catchment", "radios", [], "Choose how to say where it serves"),
    (
        "catchment",
        "file",
        [("check", "#catchment-type-polygon", ""), ("file", "#catchment-file", "{")],
        "not valid JSON",
    ),
    (
        "hours",
        "time",
        [("select", "#schedule-weekly-0-day", "mon"), ("fill", "#schedule-weekly-0-opens", "9am")],
        "24-hour",
    ),
    ("hours", "date", [("fill", "#schedule-exceptions-0-date", "next Tuesday")], "real date"),
    ("contacts", "row", [("fill", "#contacts-phones-0-label", "Desk")], "Enter the phone number"),
    ("contacts", "pattern", [("fill", "#contacts-website", "www.example.org")], "web address"),
]


@pytest.mark.parametrize(("section", "kind", "steps", "words"), FIELD_ERRORS, ids=[f[1] for f in FIELD_ERRORS])
async def test_a_validation_error_on_each_kind_of_field_is_shown_the_govuk_way_and_is_axe_clean(
    browser: Any, live_server: LiveServer, section: str, kind: str, steps: list[tuple[str, str, str]], words: str
) -> None:
    editor = await key_for(live_server, "editor", (HUMBERSIDE,))
    page = await signed_in(browser, live_server, editor, PHONE, javascript=True)
    await page.click("button:has-text('Add a service')")
    await page.goto(page.url + "/" + section)
    for action, selector, value in steps:
        match action:
            case "fill":
                await page.fill(selector, value)
            case "check":
                await page.check(selector)
            case "select":
                await page.select_option(selector, value)
            case _:
                await page.set_input_files(
                    selector, {"name": "area.geojson", "mimeType": "application/json", "buffer": value.encode()}
                )
    await save(page)
    summary = await page.inner_text(".govuk-error-summary")
    assert words.lower() in summary.lower(), summary
    link = page.locator(".govuk-error-summary__list a").first
    target = (await link.get_attribute("href") or "").lstrip("#")
    assert await page.locator(f"[id='{target}']").count() == 1  # the summary links to the field
    await checked(page, f"draft-error-{kind}-390")
    await page.context.close()


@pytest.mark.parametrize("path", ["/account/sites", "/account/sites/new", "/account/sites/hull-custody-suite"])
async def test_the_site_pages_are_axe_clean_for_an_admin(browser: Any, live_server: LiveServer, path: str) -> None:
    page = await signed_in(browser, live_server, await key_for(live_server, "admin", ()), PHONE, javascript=True)
    await page.goto(live_server.base + path)
    assert (await page.locator("h1").count()) == 1
    await checked(page, "sites" + path.replace("/", "-"))
    await page.context.close()
