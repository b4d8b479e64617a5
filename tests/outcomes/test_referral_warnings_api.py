"""A referral to a service full or closed at that moment is still recorded (the officer may have phoned): the API's
answer carries a warning, and the page asks the user to confirm before it writes anything."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from html.parser import HTMLParser
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.domain.schedule import LONDON
from service.server.runtime import runtime_of
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key
from tests.outcomes.test_referral_outcomes import DIRECT, HULL, stored

Client = AsyncTestClient[Litestar]
HOUSING = "hull-housing-and-no-fixed-abode"  # a 24/7 phone line, capacity available
DRUGS = "hull-drug-and-alcohol-service"  # walk-in and phone, Monday to Friday 09:00-17:00
NOTE = "no beds until the morning round"


class World:
    def __init__(self, client: Client, admin: str, referrer: str) -> None:
        self.client, self.admin, self.referrer = client, {"X-API-Key": admin}, {"X-API-Key": referrer}


@pytest.fixture
async def world(database_url: str, conn: Connection) -> AsyncIterator[World]:
    settings = Settings(database_url=database_url, load_demo=True, synthetic_outcomes=0, pool_max_size=4)
    async with AsyncTestClient(app=create_app(settings)) as client:
        admin = await create_key(conn, name="admin", role="admin", created_by="t")
        referrer = await create_key(conn, name="hull custody", role="referrer", area_codes=(HULL,), created_by="t")
        yield World(client, admin.key, referrer.key)


async def make_full(world: World, slug: str) -> None:
    """Full until three hours from now, and the search index told so (it follows the change feed)."""
    until = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=3)).isoformat()
    body = {"status": "full", "until": until, "note": NOTE}
    r = await world.client.put(f"/v1/services/{slug}/capacity", json=body, headers=world.admin)
    assert r.status_code == 200, r.text
    deadline = asyncio.get_running_loop().time() + 5
    while runtime_of(world.client.app.state).index.by_slug[slug].capacity.status != "full":
        assert asyncio.get_running_loop().time() < deadline, "the index never saw the capacity"
        await asyncio.sleep(0.05)


def last_sunday_night() -> str:
    """03:00 on a Sunday before today, in London: within the retention period, and every weekday service shut."""
    today = dt.datetime.now(LONDON).date()
    sunday = today - dt.timedelta(days=today.weekday() + 1)
    return dt.datetime.combine(sunday, dt.time(3), tzinfo=LONDON).isoformat()


async def test_a_referral_to_a_full_service_is_recorded_with_a_full_warning_and_the_providers_note(
    world: World, conn: Connection
) -> None:
    await make_full(world, HOUSING)
    r = await world.client.post("/v1/referrals", json={**DIRECT, "service": HOUSING}, headers=world.referrer)
    assert r.status_code == 201, r.text
    [warning] = r.json()["warnings"]
    assert warning["code"] == "SERVICE_FULL_AT_REFERRAL"
    assert warning["text"].startswith("the service was full until ") and f"({NOTE})" in warning["text"]
    assert warning["text"].endswith("at that moment; recorded anyway")
    [row] = await stored(conn)
    assert str(row["id"]) == r.json()["id"] and row["service_slug"] == HOUSING
    assert (await world.client.get(r.headers["location"], headers=world.referrer)).status_code == 200


async def test_a_referral_to_a_walk_in_service_closed_at_its_moment_is_recorded_with_a_closed_warning(
    world: World, conn: Connection
) -> None:
    body = {**DIRECT, "service": DRUGS, "at": last_sunday_night()}
    r = await world.client.post("/v1/referrals", json=body, headers=world.referrer)
    assert r.status_code == 201, r.text
    [warning] = r.json()["warnings"]
    assert warning["code"] == "SERVICE_CLOSED_AT_REFERRAL"
    assert warning["text"].startswith("the service was closed until ")
    assert [row["service_slug"] for row in await stored(conn)] == [DRUGS]


async def test_a_referral_to_a_service_open_with_room_or_by_appointment_carries_no_warning(
    world: World, conn: Connection
) -> None:
    r = await world.client.post("/v1/referrals", json={**DIRECT, "service": HOUSING}, headers=world.referrer)
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == []
    by_appointment = {**DIRECT, "at": last_sunday_night()}  # the custody triage: appointments only, never closed
    r = await world.client.post("/v1/referrals", json=by_appointment, headers=world.referrer)
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == []
    assert len(await stored(conn)) == 2


class HiddenInputs(HTMLParser):
    """The hidden fields of the page's forms, as a browser would post them back."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields.setdefault(str(a["name"]), []).append(a.get("value") or "")


PAGE_FORM: dict[str, Any] = {
    "service": HOUSING,
    "site": "hull-custody-suite",
    "context": "custody",
    "age_band": "25_34",
    "gender": "female",
    "needs": ["housing", "mental_health"],
    "repeat_contact": "yes",
}


async def test_the_page_asks_before_recording_a_referral_to_a_full_service_and_writes_only_once_confirmed(
    world: World, conn: Connection
) -> None:
    await make_full(world, HOUSING)
    asked = await world.client.post("/referrals/record", data=PAGE_FORM, headers=world.referrer)
    assert asked.status_code == 200, asked.text
    assert "Record the referral anyway?" in asked.text and "Referral recorded" not in asked.text
    assert "Hull housing options and no-fixed-abode line is full until " in asked.text and NOTE in asked.text
    assert await stored(conn) == []
    form = HiddenInputs()
    form.feed(asked.text)
    assert form.fields.pop("confirm") == ["yes"]
    assert form.fields == {k: v if isinstance(v, list) else [v] for k, v in PAGE_FORM.items()}
    confirmed = await world.client.post(
        "/referrals/record", data={**form.fields, "confirm": "yes"}, headers=world.referrer
    )
    assert confirmed.status_code == 200, confirmed.text
    assert "Referral recorded" in confirmed.text and "Recorded although" in confirmed.text
    [row] = await stored(conn)
    assert (row["service_slug"], row["needs"], row["repeat_contact"]) == (HOUSING, ["housing", "mental_health"], "yes")


async def test_the_page_records_a_referral_to_a_service_open_with_room_at_once(world: World, conn: Connection) -> None:
    r = await world.client.post("/referrals/record", data=PAGE_FORM, headers=world.referrer)
    assert r.status_code == 200, r.text
    assert "Referral recorded" in r.text and "Recorded although" not in r.text
    assert len(await stored(conn)) == 1
