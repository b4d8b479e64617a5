"""The public mode of the pages and the embed (issue 35): services the public cannot reach themselves
(service/domain/reach.py) are left out, and nothing is said about them; without it, the pages are as before."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.domain.model import ServiceRecord
from service.domain.reach import reachable_by_public
from service.settings import Settings
from service.store.db import Connection
from tests.conftest import DEMO_FILE

Client = AsyncTestClient[Litestar]
HUMBER_DUTY_LINE = "01632 960103"  # the Humber L&D practitioner's line, professionals only
HULL = {"site": "hull-custody-suite", "context": "custody", "age": "30", "needs": "mental_health"}
PUBLIC = {**HULL, "public_only": "true"}
DEMO = msgspec.convert(json.loads(DEMO_FILE.read_bytes())["services"], list[ServiceRecord])
UNREACHABLE = [s for s in DEMO if not reachable_by_public(s)]
REACHABLE = [s for s in DEMO if reachable_by_public(s)]
SEARCHES: list[dict[str, str]] = [
    HULL,
    {**HULL, "gender": "female", "needs": "alcohol", "circumstances": "admits_offence"},
    {**HULL, "age": "15", "needs": "learning_disability"},  # an appropriate adult is required
    {"site": "hull-custody-suite", "context": "street", "age": "16", "needs": "mental_health_crisis"},
    {"site": "manchester-central-park-custody-suite", "context": "street", "age": "40", "needs": "mental_health"},
    {"site": "kempston-custody-suite", "context": "custody", "age": "19", "needs": "drugs,housing"},
    {"site": "bridgend-custody-suite", "context": "custody", "age": "23"},
    {"site": "london-charing-cross-custody-suite", "context": "community", "age": "35", "needs": "housing"},
    {"site": "westminster-magistrates-court", "context": "court", "age": "50"},
]
"""Custody, street, court and community searches across the demo's areas, for adults and children."""


@pytest.fixture
async def public(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    """No key (on a database the `conn` fixture has emptied first, so the demo loads)."""
    async with AsyncTestClient(app=create_app(Settings(database_url=settings.database_url, load_demo=True))) as c:
        yield c


def said_about(page: str) -> list[str]:
    """Each service the public cannot reach that the page names or links to, in any way."""
    return [s.slug for s in UNREACHABLE if s.slug in page or s.name in page or s.name.replace("'", "&#39;") in page]


def slugs_in_order(page: str) -> list[str]:
    cards = page.split('class="app-option"')[1:]
    return [found.group(1) for c in cards if (found := re.search(r'href="(?:/embed)?/services/([^"?]+)', c))]


def test_the_demo_has_services_of_both_kinds() -> None:
    """So that the tests below can fail: the demo holds services the public cannot reach, and some it can."""
    assert len(UNREACHABLE) >= 10 and len(REACHABLE) >= 10


async def test_a_public_embed_leaves_out_the_services_the_public_cannot_reach_and_says_nothing_about_them(
    public: Client,
) -> None:
    for search in SEARCHES:
        default = (await public.get("/embed", params=search)).text
        page = (await public.get("/embed", params={**search, "public_only": "true"})).text
        assert said_about(default), search  # the default embed offers some of them ...
        assert said_about(page) == [], search  # ... the public one names none, anywhere on the page
        assert "the directory" not in page, search  # no gap, count or heading says what the directory holds
        counted = re.search(r"(\d+) services that the public can contact directly are not options here", page)
        assert counted is not None and int(counted.group(1)) < len(REACHABLE), search


async def test_a_public_search_never_dead_ends(public: Client) -> None:
    for search in SEARCHES:
        page = (await public.get("/embed", params={**search, "public_only": "true"})).text
        offered = page.count('class="app-option"') + page.count("app-step__fallback") + page.count("app-fallback")
        assert offered, search
        assert HUMBER_DUTY_LINE not in page


async def test_a_child_in_crisis_in_the_street_is_shown_the_emergency_department_the_public_can_walk_in_to(
    public: Client,
) -> None:
    street = {"site": "hull-custody-suite", "context": "street", "age": "16", "needs": "mental_health_crisis"}
    page = (await public.get("/embed", params={**street, "public_only": "true"})).text
    assert "Hull Royal Infirmary" in page or "hull-emergency-department" in page
    assert "No places of safety here that the public can contact directly" in page
    assert "hull-place-of-safety" not in page


async def test_a_public_embed_keeps_its_mode_in_its_form_and_its_links(public: Client) -> None:
    page = (await public.get("/embed", params=PUBLIC)).text
    assert '<input type="hidden" name="public_only" value="true">' in page
    links = re.findall(r'href="/embed/services/([^"/]+)"', page)
    assert links and all(link.endswith("?public_only=true") for link in links)
    default = (await public.get("/embed", params=HULL)).text
    assert 'name="public_only"' not in default and "?public_only=true" not in default


async def test_the_public_lookup_page_and_the_public_embed_offer_the_same_services_in_the_same_order(
    public: Client,
) -> None:
    for search in SEARCHES:
        lookup = (await public.get("/", params={**search, "public_only": "true"})).text
        embed = (await public.get("/embed", params={**search, "public_only": "true"})).text
        assert slugs_in_order(lookup) == slugs_in_order(embed), search
        assert said_about(lookup) == [], search


async def test_the_api_asked_for_public_only_gives_the_public_embeds_services_in_the_same_order(
    public: Client,
) -> None:
    for search in SEARCHES:
        embed = (await public.get("/embed", params={**search, "public_only": "true"})).text
        answer = (await public.get("/v1/referral-options", params={**search, "public_only": "true"})).json()
        assert [o["service"]["slug"] for o in answer["options"]] == slugs_in_order(embed), search
        body = {
            "origin": {"type": "site", "site": search["site"]},
            "context": search["context"],
            "person": {
                "age": float(search["age"]),
                "gender": search.get("gender", "not_stated"),
                "needs": [n for n in search.get("needs", "").split(",") if n],
                "circumstances": [c for c in search.get("circumstances", "").split(",") if c],
            },
            "public_only": True,
            "explain": True,
        }
        posted = (await public.post("/v1/referral-options", json=body)).json()
        assert not said_about(json.dumps(posted)), search
        assert [o["service"]["slug"] for o in posted["options"]] == slugs_in_order(embed), search


async def test_the_page_of_a_service_the_public_cannot_reach_is_not_found_in_the_public_mode_as_an_unknown_one_is(
    public: Client,
) -> None:
    hidden = await public.get("/embed/services/humber-liaison-and-diversion", params={"public_only": "true"})
    unknown = await public.get("/embed/services/no-such-service", params={"public_only": "true"})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.text.replace("humber-liaison-and-diversion", "X") == unknown.text.replace("no-such-service", "X")
    assert "Humber" not in hidden.text
    shown = await public.get("/embed/services/hull-emergency-department", params={"public_only": "true"})
    assert shown.status_code == 200 and 'href="/?public_only=true"' in shown.text
    assert not any(p in shown.text for p in ("professionals only", "(professionals only)"))
    for path in ("/embed/services/humber-liaison-and-diversion", "/services/humber-liaison-and-diversion"):
        assert (await public.get(path)).status_code == 200, path  # without the public mode, as before


async def test_a_deployment_whose_pages_are_for_the_public_puts_every_page_in_the_public_mode(
    settings: Settings, conn: Connection
) -> None:
    both = Settings(database_url=settings.database_url, load_demo=True, public_pages=True, pages_for_staff=True)
    async with AsyncTestClient(app=create_app(both)) as c:
        for path in ("/", "/embed"):
            for asked in (HULL, {**HULL, "public_only": "false"}):  # the page cannot switch it off
                page = (await c.get(path, params=asked)).text
                assert said_about(page) == [] and HUMBER_DUTY_LINE not in page, (path, asked)
                assert 'name="public_only"' not in page  # nothing to carry: every page is public
        for path in ("/services/humber-liaison-and-diversion", "/embed/services/humber-liaison-and-diversion"):
            assert (await c.get(path)).status_code == 404, path
        assert "control-room" not in (await c.get("/")).text
        # the API is not a page: it answers as asked
        answer = (await c.get("/v1/referral-options", params=HULL)).json()
        assert "humber-liaison-and-diversion" in {o["service"]["slug"] for o in answer["options"]}


async def test_without_the_public_mode_the_embed_and_the_lookup_page_offer_what_they_did(
    public: Client, settings: Settings
) -> None:
    for path in ("/", "/embed"):
        page = (await public.get(path, params=HULL)).text
        assert "Humber Liaison and Diversion" in page and HUMBER_DUTY_LINE not in page, path
    staff = Settings(database_url=settings.database_url, load_demo=True, pages_for_staff=True)
    async with AsyncTestClient(app=create_app(staff)) as desk:
        assert HUMBER_DUTY_LINE in (await desk.get("/", params=HULL)).text


async def test_a_public_mode_that_is_neither_true_nor_false_is_refused_naming_it(public: Client) -> None:
    for path in ("/embed", "/", "/services/hull-emergency-department", "/v1/referral-options"):
        r = await public.get(path, params={**HULL, "public_only": "maybe"})
        assert r.status_code == 400, path
        assert "public_only" in r.text, path


async def test_the_embed_script_asks_for_the_public_mode_when_its_audience_is_the_public(public: Client) -> None:
    script = (await public.get("/embed.js")).text
    assert 'script.dataset.audience === "public"' in script and 'query.set("public_only", "true")' in script


async def test_a_public_search_is_not_counted_as_demand_in_the_gap_maps(public: Client) -> None:
    demand: Any = public.app.state.demand
    demand.pending.clear()
    await public.get("/embed", params=PUBLIC)
    assert demand.pending == {}
    await public.get("/embed", params=HULL)
    assert demand.pending
