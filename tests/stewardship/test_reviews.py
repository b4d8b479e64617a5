"""Review dates through the app on a real PostgreSQL, with a controlled clock: a service checked today is within its
date; when the clock passes its review date, every place that shows it flags it (the API's options, the lookup's
results, the embed, the service pages, Open Referral's `alert` and attributes, FHIR), and it still takes part in the
search. An editor's sooner date, the editor's list sorted by what is due, and the report by area."""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import AREA, SERVICE, assert_problem
from tests.conftest import admin_key

Client = AsyncTestClient[Litestar]
LINE = {**SERVICE, "schedule": {"open_24_7": True}, "contexts": ["street", "custody"]}
SEARCH = {
    "origin": {"type": "point", "lat": 52.5, "lon": -0.5},
    "context": "street",
    "person": {"age": 30, "needs": ["mental_health_crisis"]},
}


@pytest.fixture
async def app(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    # Every search afresh: the answer cache keeps answers by the monotonic clock, which travel does not move.
    tuned = msgspec.structs.replace(settings, answer_cache_seconds=0, review_months=6)
    async with AsyncTestClient(app=create_app(tuned)) as client:
        client.headers["Authorization"] = f"Bearer {await admin_key(conn)}"
        assert (await client.put("/v1/areas/T1", json=AREA)).status_code == 201
        assert (await client.post("/v1/services", json=LINE)).status_code == 201
        yield client


def option(answer: dict[str, Any]) -> dict[str, Any] | None:
    return next((o for o in answer["options"] if o["service"]["slug"] == LINE["slug"]), None)


async def offered(client: Client, status: str | None = None) -> dict[str, Any]:
    """The line's option once its review reads `status` (a write reaches the search through the change feed within
    a second), or the last one after four seconds."""
    for _ in range(80):
        answer = (await client.post("/v1/referral-options", json=SEARCH)).json()
        found = option(answer)
        if found is not None and (status is None or found["review"]["status"] == status):
            return found
        await asyncio.sleep(0.05)
    assert found is not None, answer
    return found


async def everywhere(client: Client, service_id: str) -> dict[str, str]:
    """The service as each surface shows it, to the public (no key)."""
    public = {"Authorization": ""}
    query = "/?context=street&lat=52.5&lon=-0.5&age=30&needs=mental_health_crisis"
    return {
        "lookup": (await client.get(query, headers=public)).text,
        "embed": (await client.get("/embed" + query, headers=public)).text,
        "page": (await client.get(f"/services/{LINE['slug']}", headers=public)).text,
        "embedded page": (await client.get(f"/embed/services/{LINE['slug']}", headers=public)).text,
        "oruk": (await client.get(f"/openreferral/services/{service_id}", headers=public)).text,
        "fhir": (await client.get(f"/fhir/HealthcareService/{service_id}", headers=public)).text,
    }


async def test_a_review_date_passing_flags_the_option_everywhere_it_appears_and_it_is_still_offered(
    app: Client,
) -> None:
    now = dt.datetime.now(dt.UTC)
    verified = await app.post(f"/v1/services/{LINE['slug']}/verify")
    assert verified.status_code == 200, verified.text
    service_id = verified.json()["id"]
    checked_on = verified.json()["verification"]["verified_at"]
    fresh = await offered(app, "checked")
    assert fresh["review"]["status"] == "checked" and not fresh["review"]["overdue"]
    shown = await everywhere(app, service_id)
    assert not any("not checked since" in text for text in shown.values())

    with time_machine.travel(now + dt.timedelta(days=200), tick=True):
        late = await offered(app)
        assert late["rank"] >= 1  # still offered
        review = late["review"]
        assert review["overdue"] and review["status"] == "overdue"
        day = dt.datetime.fromisoformat(checked_on).astimezone(dt.timezone(dt.timedelta(0))).date()
        assert review["checked_on"] in (day.isoformat(), (day + dt.timedelta(days=1)).isoformat())
        assert review["text"].startswith("Details not checked since ")
        shown = await everywhere(app, service_id)
        for surface, text in shown.items():
            assert "not checked since" in html.unescape(text), surface
        oruk = msgspec.json.decode((await app.get(f"/openreferral/services/{service_id}")).content)
        assert oruk["alert"].startswith("Details not checked since")
        statuses = [a["taxonomy_term"]["term"] for a in oruk["attributes"] if a["link_type"] == "review_status"]
        assert statuses == ["overdue"]
        fhir = (await app.get(f"/fhir/HealthcareService/{service_id}")).json()
        said = [c for c in fhir["characteristic"] if c["coding"][0]["system"].endswith("review-status")]
        assert said[0]["coding"][0]["code"] == "overdue" and said[0]["text"].startswith("Details not checked since")
        report = (await app.get("/v1/reports/reviews")).json()
        assert report["overdue"] == 1 and report["areas"][0]["overdue"] == 1

        # Checked again: the flag goes at once, everywhere.
        assert (await app.post(f"/v1/services/{LINE['slug']}/verify")).status_code == 200
        again = await offered(app, "checked")
        assert not again["review"]["overdue"]


async def test_a_service_never_checked_is_flagged_in_the_search(app: Client) -> None:
    review = (await offered(app))["review"]
    assert review["status"] == "never_checked" and review["overdue"]


async def test_an_editor_sets_a_sooner_review_date_when_checking_and_it_passes_before_the_period(
    app: Client,
) -> None:
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(days=10)).date()
    r = await app.post(f"/v1/services/{LINE['slug']}/verify", json={"review_by": soon.isoformat()})
    assert r.status_code == 200, r.text
    assert r.json()["verification"]["review_by"] == soon.isoformat()
    assert (await offered(app, "checked"))["review"]["due"] == soon.isoformat()
    with time_machine.travel(dt.datetime.now(dt.UTC) + dt.timedelta(days=12), tick=True):
        assert (await offered(app))["review"]["overdue"]


@pytest.mark.parametrize("review_by", ["2001-01-01", "2999-01-01", "not a date", 7])
async def test_a_review_date_that_is_not_after_today_or_not_a_date_is_refused_and_nothing_is_written(
    app: Client, review_by: Any
) -> None:
    before = (await app.get(f"/v1/services/{LINE['slug']}")).json()["version"]
    r = await app.post(f"/v1/services/{LINE['slug']}/verify", json={"review_by": review_by})
    assert_problem(r, r.status_code, "review_by")
    assert r.status_code in (400, 422)
    assert (await app.get(f"/v1/services/{LINE['slug']}")).json()["version"] == before


async def test_the_review_report_holds_an_editor_to_its_areas_and_refuses_a_provider(
    app: Client, conn: Connection
) -> None:
    other = {**AREA, "boundary": {"type": "Polygon", "coordinates": [[[1, 52], [2, 52], [2, 53], [1, 53], [1, 52]]]}}
    assert (await app.put("/v1/areas/T9", json=other)).status_code == 201
    editor = await create_key(conn, name="other editor", role="editor", area_codes=("T9",), created_by="t")
    mine = (await app.get("/v1/reports/reviews", headers={"Authorization": f"Bearer {editor.key}"})).json()
    assert mine["areas"] == [] and mine["services"] == 0
    keeper = await create_key(conn, name="T1 editor", role="editor", area_codes=("T1",), created_by="t")
    for _ in range(40):  # the area just added rebuilds the index: the report reads the search's directory
        theirs = (await app.get("/v1/reports/reviews", headers={"Authorization": f"Bearer {keeper.key}"})).json()
        if theirs["services"]:
            break
        await asyncio.sleep(0.05)
    assert [a["code"] for a in theirs["areas"]] == ["T1"] and theirs["overdue"] == 1, theirs
    service_id = (await app.get(f"/v1/services/{LINE['slug']}")).json()["id"]
    import uuid

    provider = await create_key(
        conn, name="nurse", role="provider", service_ids=(uuid.UUID(service_id),), created_by="t"
    )
    r = await app.get("/v1/reports/reviews", headers={"Authorization": f"Bearer {provider.key}"})
    assert r.status_code == 403
    csv = await app.get("/v1/reports/reviews.csv")
    assert csv.status_code == 200 and csv.text.splitlines()[0].startswith("area_code,area_name,services,overdue")
