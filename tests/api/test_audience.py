"""Contacts by audience (service/domain/audience.py): professionals-only numbers never reach the public. The embed
and reads without a key leave them out; a key holder, and the lookup page of a deployment for staff, see them."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from tests.conftest import authorised

Client = AsyncTestClient[Litestar]
HUMBER_DUTY_LINE = "01632 960103"  # the Humber L&D practitioner's line, professionals only
HULL = {"site": "hull-custody-suite", "context": "custody", "age": "30", "needs": "mental_health"}


@pytest.fixture
async def public(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    """No key: the public (on a database the `conn` fixture has emptied first, so the demo loads)."""
    async with AsyncTestClient(app=create_app(Settings(database_url=settings.database_url, load_demo=True))) as c:
        yield c


def phones(value: Any) -> list[dict[str, Any]]:
    """Every phone anywhere in a JSON value."""
    if isinstance(value, dict):
        found = [value] if "number" in value and "professionals_only" in value else []
        return found + [p for v in value.values() for p in phones(v)]
    if isinstance(value, list):
        return [p for v in value for p in phones(v)]
    return []


async def test_a_search_without_a_key_never_shows_a_professionals_only_number(public: Client, conn: Connection) -> None:
    body = {"origin": {"type": "site", "site": "hull-custody-suite"}, "context": "custody", "person": {"age": 30}}
    for r in (
        await public.post("/v1/referral-options", json=body),
        await public.get("/v1/referral-options", params=HULL),
    ):
        assert r.status_code == 200
        found = phones(r.json())
        assert found and not any(p["professionals_only"] for p in found)
        assert HUMBER_DUTY_LINE not in r.text
    keyed = await authorised(public, conn)
    r = await keyed.post("/v1/referral-options", json=body)
    assert HUMBER_DUTY_LINE in r.text  # a key holder is a professional


async def test_reading_a_service_its_history_or_the_export_without_a_key_leaves_professionals_only_numbers_out(
    public: Client, conn: Connection
) -> None:
    reads = (
        "/v1/services/humber-liaison-and-diversion",
        "/v1/services?kind=liaison_diversion",
        "/v1/services/humber-liaison-and-diversion/history",
        "/v1/directory/export",
    )
    for path in reads:
        r = await public.get(path)
        assert r.status_code == 200, path
        assert HUMBER_DUTY_LINE not in r.text, path
        assert not any(p["professionals_only"] for p in phones(r.json())), path
    keyed = await authorised(public, conn)
    assert HUMBER_DUTY_LINE in (await keyed.get(reads[0])).text


async def test_the_embed_never_shows_a_professionals_only_number_even_to_a_key_holder(
    public: Client, conn: Connection
) -> None:
    assert HUMBER_DUTY_LINE not in (await public.get("/embed", params=HULL)).text
    keyed = await authorised(public, conn)
    page = (await keyed.get("/embed", params=HULL)).text
    assert "Humber Liaison and Diversion" in page and HUMBER_DUTY_LINE not in page


async def test_the_lookup_page_shows_professionals_only_numbers_only_to_staff(
    public: Client, settings: Settings
) -> None:
    assert HUMBER_DUTY_LINE not in (await public.get("/", params=HULL)).text
    staff = Settings(database_url=settings.database_url, load_demo=True, pages_for_staff=True)
    async with AsyncTestClient(app=create_app(staff)) as desk:
        assert HUMBER_DUTY_LINE in (await desk.get("/", params=HULL)).text


async def test_the_embed_takes_the_lookups_inputs_and_gives_the_same_services_in_the_same_order(public: Client) -> None:
    person = {
        **HULL,
        "gender": "female",
        "needs": "alcohol",
        "circumstances": "admits_offence",
        "at": "2026-11-23T10:00",
    }
    lookup, embed = (await public.get("/", params=person)).text, (await public.get("/embed", params=person)).text

    def order(page: str) -> list[str]:
        cards = page.split('class="app-option"')[1:]
        # the lookup links to /services/{slug}, the embed to its public copy, /embed/services/{slug}
        return [found.group(1) for c in cards if (found := re.search(r'href="(?:/embed)?/services/([^"]+)"', c))]

    assert order(embed) == order(lookup) and "hull-womens-custody-triage" in order(embed)  # circumstances count
    assert 'name="circumstances"' in embed and 'name="at"' in embed
    trimmed = (await public.get("/embed", params={**person, "show_circumstances": "off", "show_when": "off"})).text
    assert 'name="circumstances"' not in trimmed and 'name="at"' not in trimmed


async def test_the_service_page_shows_professionals_only_numbers_only_to_staff(
    public: Client, conn: Connection
) -> None:
    assert HUMBER_DUTY_LINE not in (await public.get("/services/humber-liaison-and-diversion")).text
    keyed = await authorised(public, conn)
    assert HUMBER_DUTY_LINE in (await keyed.get("/services/humber-liaison-and-diversion")).text
