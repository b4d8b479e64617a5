"""Keeping the directory true, in a real browser (Debian's Chromium, Playwright) on `pathways serve` with the demo
directory: a member of the public on a phone sees an overdue listing flagged in a search and reports a problem with
it; the Humberside editor finds the report in the queue and resolves it; the Hull place of safety's provider proposes
a change on the editors' pages and the editor approves it; the e-mail page. JavaScript off where a person would
browse that way, every page axe-checked and screenshotted."""

from __future__ import annotations

import uuid
from typing import Any

from service.store.db import connect
from service.store.keys import create_key
from tests.conftest import LiveServer
from tests.pages.test_pages import ARGS, CHROMIUM, pytestmark, shot  # noqa: F401  (the same skip)
from tests.stewardship.test_capacity_in_a_browser import PHONE, axe_clean
from tests.stewardship.test_editing_in_a_browser import (  # noqa: F401  (the module's browser)
    HUMBERSIDE,
    browser,
    checked,
    fetch,
    key_for,
    save,
    signed_in,
)

OVERDUE = "hull-drug-and-alcohol-service"  # last checked 3 March 2026 in the demo
SEARCH = "/?site=hull-custody-suite&context=custody&age=30&needs=drugs"


async def provider_of(live_server: LiveServer, slug: str) -> str:
    service = fetch(f"{live_server.base}/v1/services/{slug}")
    conn = await connect(live_server.database_url)
    try:
        made = await create_key(
            conn, name=f"provider of {slug}", role="provider", service_ids=(uuid.UUID(service["id"]),), created_by="t"
        )
        return made.key
    finally:
        await conn.close()


async def test_the_public_on_a_phone_sees_an_overdue_listing_flagged_and_reports_a_problem_which_an_editor_resolves(
    browser: Any,  # noqa: F811  (the fixture imported above)
    live_server: LiveServer,
) -> None:
    context = await browser.new_context(viewport=PHONE, bypass_csp=True)
    page = await context.new_page()
    await page.goto(live_server.base + SEARCH)
    option = page.locator(f"li.app-option:has(a[href='/services/{OVERDUE}'])")
    await option.locator(".app-review--overdue").wait_for()
    said = await option.locator(".app-review").inner_text()
    assert "May be out of date" in said and "Details not checked since 3 March 2026" in said
    await shot(page, "overdue-in-results-390")
    await axe_clean(page)
    await option.locator("a:has-text('Report a problem')").click()
    assert page.url.endswith(f"/services/{OVERDUE}/report-a-problem")
    await shot(page, "report-a-problem-390")
    await axe_clean(page)
    await page.click("button:has-text('Send report')")  # nothing chosen: the form's own error
    assert "Choose what is wrong" in await page.locator(".govuk-error-summary").inner_text()
    await axe_clean(page)
    await page.check("#reason-wrong_hours")
    await page.fill("#note", "Closed at 18:00 on weekdays now, not 20:00.")
    await page.click("button:has-text('Send report')")
    assert "Report sent" in await page.locator("h1").inner_text()
    await shot(page, "report-sent-390")
    await axe_clean(page)
    await context.close()

    editor = await signed_in(browser, live_server, await key_for(live_server, "editor", (HUMBERSIDE,)))
    await editor.click("#problem-reports")
    await checked(editor, "problem-queue-1280")
    card = editor.locator(".govuk-summary-card:has-text('The opening hours are wrong')")
    assert "Closed at 18:00 on weekdays now" in await card.inner_text()
    await card.locator("select").select_option("listing_corrected")
    await card.locator("button:has-text('Close report')").click()
    assert "Report resolved" in await editor.locator(".govuk-notification-banner").inner_text()
    await checked(editor, "problem-queue-closed-1280")


async def test_a_provider_proposes_a_change_and_the_editor_approves_it_on_the_pages(
    browser: Any,  # noqa: F811  (the fixture imported above)
    live_server: LiveServer,
) -> None:
    before = fetch(f"{live_server.base}/v1/services/hull-place-of-safety")["version"]
    provider = await signed_in(browser, live_server, await provider_of(live_server, "hull-place-of-safety"))
    await provider.goto(live_server.base + "/account/services/hull-place-of-safety")
    await provider.click("button:has-text('Propose a change')")
    await checked(provider, "proposal-tasks-1280")
    await provider.click("a:has-text('Contacts')")
    await provider.fill("[name='contacts.phones[0].label']", "Nurse in charge, s136 suite")
    await save(provider)
    await provider.click("a:has-text('Check your answers')")
    await checked(provider, "proposal-check-1280")
    await provider.click("button:has-text('Propose these changes')")
    assert "Change proposed" in await provider.locator(".govuk-notification-banner").inner_text()
    await checked(provider, "proposal-sent-1280")

    editor = await signed_in(browser, live_server, await key_for(live_server, "editor", (HUMBERSIDE,)))
    await editor.click("#proposals")
    await checked(editor, "proposals-queue-1280")
    card = editor.locator(".govuk-summary-card:has-text('Nurse in charge, s136 suite')")
    await card.locator("input[value='approve']").check()
    await card.locator("button:has-text('Send decision')").click()
    assert "Proposal approved" in await editor.locator(".govuk-notification-banner").inner_text()
    assert fetch(f"{live_server.base}/v1/services/hull-place-of-safety")["version"] == before + 1

    await editor.goto(live_server.base + "/account/notifications")
    await checked(editor, "notifications-1280")
    await editor.fill("#email", "not an address")
    await editor.click("button:has-text('Save')")
    assert "Enter an email address" in await editor.locator(".govuk-error-summary").inner_text()
    await editor.fill("#email", "editor@example.org")
    await editor.click("button:has-text('Save')")
    assert "Saved" in await editor.locator(".govuk-notification-banner").inner_text()
