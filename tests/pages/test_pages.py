"""The pages in a real browser (Debian's Chromium driven by Playwright): the search flow with JavaScript on and off,
keyboard-only use, an axe-core scan, the embed from another origin, and the map against the list."""

from __future__ import annotations

import http.server
import json
import re
import shutil
import socket
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from service.settings import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
AXE = PROJECT_ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists() or not AXE.exists(),
    reason="Chromium or node_modules is missing: `make test` installs both",
)
HULL_SEARCH = (
    "/?site=hull-custody-suite&context=custody&age=30&gender=female&needs=mental_health"
    "&needs=alcohol&circumstances=admits_offence"
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def partner(server: str) -> Iterator[str]:
    """A partner's page on another origin (another port on loopback), embedding the search both ways."""
    page = f"""<!DOCTYPE html><html lang="en"><head><title>Partner</title></head><body>
<h1>Partner organisation</h1>
<h2>By iframe</h2>
<iframe id="by-iframe" title="Find referral options" src="{server}/embed?site=hull-custody-suite"
 width="100%" height="700"></iframe>
<h2>By script tag</h2>
<script src="{server}/embed.js" data-site="hull-custody-suite" data-context="custody"
 data-needs="mental_health,alcohol"></script>
</body></html>""".encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *_: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", _free_port()), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/partner.html"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        b = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        await b.close()


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


async def fill_search(page: Any) -> None:
    await page.select_option("#site", "hull-custody-suite")
    await page.check("#context-custody")
    await page.fill("#age", "30")
    await page.select_option("#gender", "female")
    await page.check("#need-mental_health")
    await page.check("#need-alcohol")
    await page.check("#circumstance-admits_offence")
    await page.click("#find")
    await page.wait_for_selector("#options")


async def option_names(page: Any) -> list[str]:
    return [t.strip() for t in await page.locator("#options .app-option__title a").all_inner_texts()]


async def test_the_search_flow_works_with_javascript_on(browser: Any, server: str) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(server + "/")
    await shot(page, "lookup")
    assert await page.locator("#site-filter").is_visible()  # the JavaScript type-ahead is there
    await page.fill("#site-filter", "kempston")
    assert await page.input_value("#site") == "kempston-custody-suite"
    await fill_search(page)
    names = await option_names(page)
    assert names[0] == "Humber Liaison and Diversion" and "Hull Women's Custody Triage" in names[:2]
    assert "site=hull-custody-suite" in page.url and "needs=alcohol" in page.url  # a shareable link
    await shot(page, "results")
    await page.close()


async def test_the_search_flow_works_with_javascript_off(browser: Any, server: str) -> None:
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(server + "/")
    assert not await page.locator("#site-filter").is_visible() and not await page.locator("#use-location").is_visible()
    await fill_search(page)
    assert (await option_names(page))[0] == "Humber Liaison and Diversion"
    assert await page.locator(".app-map__marker").count() >= 1
    await context.close()


async def test_the_whole_search_can_be_done_with_the_keyboard_alone(browser: Any, server: str) -> None:
    page = await browser.new_page()
    await page.goto(server + "/")

    async def tab_to(element_id: str) -> None:
        for _ in range(80):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement && document.activeElement.id") == element_id:
                return
        raise AssertionError(f"could not reach #{element_id} with Tab")

    await tab_to("site")
    await page.keyboard.type("Hull custody")
    assert await page.input_value("#site") == "hull-custody-suite"
    await tab_to("age")
    await page.keyboard.type("30")
    await tab_to("need-mental_health")
    await page.keyboard.press("Space")
    await tab_to("find")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#options")
    assert (await option_names(page))[0] == "Humber Liaison and Diversion"
    await page.close()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 800)])
async def test_after_a_search_the_first_steps_first_option_and_its_phone_are_on_the_first_screen(
    browser: Any, server: str, width: int, height: int
) -> None:
    page = await browser.new_page(viewport={"width": width, "height": height})
    await page.goto(server + HULL_SEARCH)
    first = page.locator(".app-step").first
    option, phone = first.locator("a").nth(0), first.locator("a[href^='tel:']").first
    for element in (option, phone):
        box = await element.bounding_box()
        assert box is not None and box["y"] + box["height"] <= height, (width, box)
    assert await page.evaluate("document.activeElement.id") == "results-title"
    ARTIFACTS.mkdir(exist_ok=True)  # the first screen as the officer sees it (docs/ keeps a copy for the README)
    await page.screenshot(path=str(ARTIFACTS / f"first-screen-{width}.png"))
    assert not await page.locator("#change").evaluate("d => d.open")  # the form is one click away
    await page.click("#change-link")
    assert await page.locator("#change").evaluate("d => d.open")
    await shot(page, f"results-{width}")
    await page.close()


async def test_a_remembered_site_and_a_typed_postcode_search_from_the_postcode_and_say_so(
    browser: Any, server: str
) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(server + HULL_SEARCH)  # remembers the site
    await page.goto(server + "/")
    assert await page.input_value("#site") == "hull-custody-suite"
    await page.fill("#postcode", "HU1")
    await page.fill("#age", "30")
    await page.click("#find")
    await page.wait_for_selector("#results-title")
    used = await page.locator(".app-origin-used").inner_text()
    assert used == "Searched from the postcode you gave, not Hull custody suite (Clough Road)."
    await shot(page, "postcode-over-site")
    await context.close()


async def test_the_error_summary_links_move_focus_to_the_field_they_are_about(browser: Any, server: str) -> None:
    page = await browser.new_page()
    await page.goto(server + "/?context=custody&gender=female")
    assert await page.locator(".govuk-error-summary").count() == 1
    await page.click(".govuk-error-summary a[href='#age']")
    assert await page.evaluate("document.activeElement.id") == "age"
    await page.click(".govuk-error-summary a[href='#site']")
    assert await page.evaluate("document.activeElement.id") == "site"
    await shot(page, "errors")
    await page.close()


STATES = [
    ("lookup", "/"),
    ("results", HULL_SEARCH),
    ("detail", "/services/hull-womens-custody-triage"),
    ("embed", "/embed?site=hull-custody-suite&age=30&needs=mental_health&circumstances=admits_offence"),
    ("errors", "/?context=custody&age=abc"),
    ("appropriate-adult", "/?site=bridgend-custody-suite&context=custody&age=17.8&circumstances=known_to_yos"),
    ("gap-and-catch-all", "/?lat=53.4808&lon=-2.2426&context=street&age=16&needs=mental_health_crisis"),
    ("gender-not-stated", "/?site=hull-custody-suite&context=custody&age=30&needs=mental_health"),
    ("release-time", HULL_SEARCH + "&at=2026-11-27T20:00"),
    ("postcode-over-site", "/?site=hull-custody-suite&postcode=HU1&context=custody&age=30&needs=alcohol"),
    ("reports", "/reports?area=E23000012&context=custody"),
    ("reports-street", "/reports?area=E23000026&context=street"),
]
"""Every page state the issues name, each checked by axe at a phone's width and a desktop's."""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize(("name", "path"), STATES)
async def test_axe_finds_no_serious_or_critical_accessibility_problems(
    browser: Any, server: str, name: str, path: str, width: int
) -> None:
    # axe is injected inline; the pages forbid that
    context = await browser.new_context(bypass_csp=True, viewport={"width": width, "height": 844})
    page = await context.new_page()
    await page.goto(server + path)
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    bad = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:3])
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], json.dumps(bad, indent=1)
    await shot(page, f"{name}-{width}")
    await context.close()


async def test_the_map_numbers_match_the_list(browser: Any, server: str) -> None:
    page = await browser.new_page()
    await page.goto(server + HULL_SEARCH)
    located = page.locator("#options .app-option").filter(has_text="Distance")
    ranks_in_list = [await e.get_attribute("data-rank") for e in await located.all()]
    ranks_on_map = [
        await e.get_attribute("data-rank") for e in await page.locator("svg.app-map .app-map__marker").all()
    ]
    assert ranks_on_map and ranks_on_map == ranks_in_list
    assert await page.locator("svg.app-map .app-map__origin").count() == 1
    assert await page.locator("svg.app-map title").first.text_content() == "Map of the options"
    await page.close()


async def test_the_embed_works_in_an_iframe_and_through_the_script_tag_on_another_origin(
    browser: Any, server: str, partner: str
) -> None:
    page = await browser.new_page(viewport={"width": 1100, "height": 900})
    await page.goto(partner)
    scripted = page.frame_locator("iframe[data-ld-pathways]")
    assert await scripted.locator("input[name=needs]").count() == 2  # only the needs the partner configured
    await scripted.locator("#age").fill("30")
    await scripted.locator("#need-mental_health").check()
    await scripted.locator("#find").click()
    await scripted.locator("#options").wait_for()
    assert await scripted.locator("#options .app-option").count() >= 1
    framed = page.frame_locator("#by-iframe")
    await framed.locator("#age").fill("30")
    await framed.locator("#need-alcohol").check()
    await framed.locator("#find").click()
    await framed.locator("#options").wait_for()
    assert await framed.locator("#options .app-option").count() >= 1
    await shot(page, "embed-partner")
    await page.close()


async def test_the_last_used_site_is_remembered_and_nothing_about_the_person_is(browser: Any, server: str) -> None:
    context = await browser.new_context()
    page = await context.new_page()
    await page.goto(server + HULL_SEARCH.replace("hull-custody-suite", "bridgend-custody-suite"))
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    assert cookies == {"ld_site": "bridgend-custody-suite"}
    await page.goto(server + "/")
    assert await page.input_value("#site") == "bridgend-custody-suite"
    await context.close()


async def test_the_printed_summary_has_the_time_and_directory_version_and_no_form(browser: Any, server: str) -> None:
    page = await browser.new_page()
    await page.goto(server + HULL_SEARCH)
    await page.emulate_media(media="print")
    assert not await page.locator("form.app-search-form").is_visible()
    summary = await page.locator(".app-summary").inner_text()
    assert "Directory version" in summary and "Hull custody suite" in summary
    assert "age 30" in await page.locator(".app-typed").inner_text()
    await page.close()


async def test_the_service_page_shows_schedule_catchment_map_eligibility_and_history(browser: Any, server: str) -> None:
    page = await browser.new_page()
    await page.goto(server + "/services/together-women-project-hull")
    text = await page.inner_text("main")
    assert "Monday: 09:30 to 16:30" in text and "Bank holidays (England and Wales): closed." in text
    assert "24 December 2026: 09:30 to 12:00" in text
    assert "Serves: Humberside (E23000012)." in text and "18 and over" in text
    assert await page.locator("svg.app-map .app-map__catchment").count() == 1
    assert await page.locator("table.govuk-table tbody tr").count() >= 1
    await page.close()


async def test_the_reports_page_shows_the_gap_matrix_heat_map_choropleth_outcome_tables_and_csv(
    browser: Any, server: str
) -> None:
    page = await browser.new_page(viewport={"width": 1280, "height": 900})
    await page.goto(server + "/reports?area=E23000012&context=custody")
    assert await page.locator("#gap-matrix tbody tr").count() > 0
    assert await page.locator("#heatmap svg .app-heatmap__cell").count() > 0
    assert await page.locator("#choropleth svg path").count() > 0
    assert await page.locator("#synthetic-warning").is_visible()  # the demo outcomes say they are synthetic
    assert await page.locator("table.app-outcomes").count() == 3
    cells = await page.locator("table.app-outcomes td").all_inner_texts()
    shown = [int(t) for t in (c.strip() for c in cells) if t != "[c]"]
    assert all(n % 5 == 0 and n >= 10 for n in shown)  # rounded to 5, and none under 10 shown
    assert "NHS England's rule for Hospital Episode Statistics" in await page.locator("main").inner_text()
    assert await page.locator("#handover-table tbody tr").count() > 0  # handovers to health, by month and in all
    assert await page.locator("#handover-synthetic-warning").is_visible()  # the demo's handovers are synthetic
    href = await page.locator("#gaps-csv").get_attribute("href")
    csv = await page.request.get(server + href)
    assert csv.headers["content-type"].startswith("text/csv") and (await csv.text()).startswith("site,step,need")
    await page.select_option("#area", "E23000026")
    await page.click("#show")
    await page.wait_for_selector("#gap-matrix")
    assert "Bedfordshire" in await page.locator("#gaps").inner_text()
    await shot(page, "reports")


def test_the_embeds_links_open_a_service_page_that_never_shows_a_professionals_only_number(server: str) -> None:
    """A deployment whose pages are for its staff (PATHWAYS_PAGES_FOR_STAFF, as this server's) shows them the
    professionals-only numbers; a member of the public on a partner's site, following the embed's link, never."""
    query = "site=hull-custody-suite&context=custody&age=30&needs=mental_health_crisis"
    with urllib.request.urlopen(f"{server}/embed?{query}") as r:
        embed = r.read().decode()
    linked = sorted(set(re.findall(r'href="(/[a-z]+/services/[a-z0-9-]+|/services/[a-z0-9-]+)"', embed)))
    assert linked and all(link.startswith("/embed/services/") for link in linked), linked
    with urllib.request.urlopen(f"{server}/services/hull-place-of-safety") as r:
        assert "01632 960104" in r.read().decode()  # the staff's page
    for link in linked:
        with urllib.request.urlopen(server + link) as r:
            page = r.read().decode()
        assert "professionals only" not in page and "01632 960104" not in page, link
