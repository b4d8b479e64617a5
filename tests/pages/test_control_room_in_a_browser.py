"""The control room's page (Right Care, Right Person) in a real browser: a call handler on a desktop and on a phone
answers the threshold questions as radio buttons and gets the decision and the services to hand the call to first,
on the first screen; a grid reference with JavaScript off; a bad grid reference's error links to its field. Each
state axe-checked at 390 and 1280 px."""

from __future__ import annotations

from typing import Any

import pytest

from tests.pages.test_pages import ARTIFACTS, browser, pytestmark, shot  # noqa: F401  (the same skip and browser)
from tests.stewardship.test_capacity_in_a_browser import axe_clean

WELFARE = "/control-room?postcode=HU1&concern=welfare_concern&crime=no&risk_to_life=no&medical_care=no&age=34"


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
async def test_rcrp_a_call_handler_answers_the_threshold_and_sees_the_decision_and_who_to_hand_to_on_the_first_screen(
    browser: Any,  # noqa: F811  (the fixture imported above)
    server: str,
    width: int,
    height: int,
) -> None:
    context = await browser.new_context(bypass_csp=True, viewport={"width": width, "height": height})
    page = await context.new_page()
    await page.goto(server + "/control-room")
    await axe_clean(page)
    await shot(page, f"control-room-{width}")
    await page.fill("#postcode", "HU1")
    await page.check("#concern-welfare_concern")
    await page.check("#crime-no")
    await page.check("#risk_to_life-no")
    await page.check("#medical_care-no")
    await page.fill("#age", "34")
    await page.click("#find")
    await page.wait_for_selector(".app-decision")
    assert await page.evaluate("document.activeElement.id") == "threshold-title"
    decision = page.locator(".app-decision__title")
    assert await decision.inner_text() == "Police attendance is not indicated: a health-led response"
    first = page.locator(".app-step").first
    assert (await first.locator(".app-step__title").inner_text()).startswith("1. Hand the call to health")
    ARTIFACTS.mkdir(exist_ok=True)  # the first screen as the call handler sees it
    await page.screenshot(path=str(ARTIFACTS / f"control-room-first-screen-{width}.png"))
    option, phone = first.locator("a").nth(0), first.locator("a[href^='tel:']").first
    for element in (decision, option, phone):
        box = await element.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (width, box)
    assert not await page.locator("#change").evaluate("d => d.open")  # the call's form is one click away
    await axe_clean(page)
    await shot(page, f"control-room-health-led-{width}")
    await context.close()


async def test_rcrp_with_javascript_off_a_grid_reference_and_an_immediate_risk_give_the_place_of_safety_step(
    browser: Any,  # noqa: F811
    server: str,
) -> None:
    context = await browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = await context.new_page()
    await page.goto(server + "/control-room")
    await page.fill("#grid_reference", "TA 0979 2886")
    await page.check("#risk_to_life-yes")
    await page.fill("#age", "40")
    await page.click("#find")
    await page.wait_for_selector(".app-decision")
    assert await page.get_attribute(".app-decision", "data-decision") == "POLICE_ATTENDANCE_INDICATED"
    roles = await page.locator(".app-step").evaluate_all("steps => steps.map(s => s.dataset.role)")
    # medical care not asked yet: its step (the ambulance) comes second, then the place of safety
    assert roles[:3] == ["consult", "medical_care", "place_of_safety"]
    place = page.locator(".app-step[data-role='place_of_safety']")
    assert "Hull health-based place of safety" in await place.inner_text()
    assert "Searched from the middle of the grid square you gave" in await page.locator(".app-origin-used").inner_text()
    await shot(page, "control-room-police-390")
    await context.close()


async def test_a_bad_grid_reference_is_said_at_its_field_and_the_error_links_there(
    browser: Any,  # noqa: F811
    server: str,
) -> None:
    context = await browser.new_context(bypass_csp=True, viewport={"width": 1280, "height": 800})
    page = await context.new_page()
    await page.goto(server + "/control-room?grid_reference=TA+123+45&age=30")
    summary = page.locator(".govuk-error-summary")
    assert "Enter an OS grid reference" in await summary.inner_text()
    await page.click(".govuk-error-summary a[href='#grid_reference']")
    assert await page.evaluate("document.activeElement.id") == "grid_reference"
    assert await page.input_value("#grid_reference") == "TA 123 45"  # kept, to be corrected
    await axe_clean(page)
    await shot(page, "control-room-errors-1280")
    await context.close()
