"""Report a problem with a listing, through the app on a real PostgreSQL: anyone reports from the service page, the
results or the API; the report reaches the queue of the editors whose scope covers the service and no other force's;
an editor resolves or dismisses it with a coded reason (and may remove the note); every step is audited; closed
reports are deleted after the retention period; bad and hostile input writes nothing; the rate limit holds."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.stewardship import problem_store
from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import AREA, SERVICE, assert_problem
from tests.conftest import admin_key
from tests.stewardship.test_sign_in_and_capacity import BASE, sign_in, token_in

Client = AsyncTestClient[Litestar]
OTHER_AREA = {**AREA, "boundary": {"type": "Polygon", "coordinates": [[[1, 52], [2, 52], [2, 53], [1, 53], [1, 52]]]}}
PERSONAL = "Sam Smith, born 04/05/1990, says the number 01632 960000 is dead"


@pytest.fixture
async def app(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    tuned = msgspec.structs.replace(settings, problem_reports_per_hour=5)
    async with AsyncTestClient(app=create_app(tuned), base_url=BASE) as client:
        client.follow_redirects = False
        admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
        assert (await client.put("/v1/areas/T1", json=AREA, headers=admin)).status_code == 201
        assert (await client.put("/v1/areas/T9", json=OTHER_AREA, headers=admin)).status_code == 201
        assert (await client.post("/v1/services", json=SERVICE, headers=admin)).status_code == 201
        yield client


async def editor(conn: Connection, area: str) -> str:
    return (await create_key(conn, name=f"{area} editor", role="editor", area_codes=(area,), created_by="t")).key


async def stored(conn: Connection) -> list[dict[str, Any]]:
    return [dict(r.items()) for r in await conn.fetch("select * from problem_reports order by made_at")]


async def test_a_member_of_the_public_reports_a_dead_number_from_the_service_page_and_it_reaches_the_right_editor(
    app: Client, conn: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    page = await app.get(f"/services/{SERVICE['slug']}")
    assert f'href="/services/{SERVICE["slug"]}/report-a-problem"' in page.text
    form = await app.get(f"/services/{SERVICE['slug']}/report-a-problem")
    assert form.status_code == 200 and "Do not write anything about a person" in form.text
    with caplog.at_level(logging.DEBUG):
        sent = await app.post(
            f"/services/{SERVICE['slug']}/report-a-problem", data={"reason": "wrong_phone", "note": PERSONAL}
        )
    assert sent.status_code == 200 and "Report sent" in sent.text
    assert "Sam Smith" not in caplog.text and "04/05/1990" not in caplog.text  # the note is never logged
    rows = await stored(conn)
    assert len(rows) == 1 and rows[0]["note"] == PERSONAL and rows[0]["reason"] == "wrong_phone"
    assert set(rows[0]) == {
        "id",
        "service_id",
        "service_version",
        "reason",
        "note",
        "note_removed",
        "status",
        "made_at",
        "closed_at",
        "closed_by",
        "close_reason",
    }  # nothing about the reporter: no address, no session

    mine = await app.get("/v1/problem-reports", headers={"Authorization": f"Bearer {await editor(conn, 'T1')}"})
    assert [r["reason"] for r in mine.json()] == ["wrong_phone"]
    theirs = await app.get("/v1/problem-reports", headers={"Authorization": f"Bearer {await editor(conn, 'T9')}"})
    assert theirs.json() == []
    public = await app.get("/v1/problem-reports")
    assert public.status_code in (401, 403)


async def test_an_editor_dismisses_a_report_from_the_queue_page_removing_the_note_and_the_history_says_who(
    app: Client, conn: Connection
) -> None:
    r = await app.post(
        f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "wrong_hours", "note": PERSONAL}
    )
    assert r.status_code == 201, r.text
    report_id = r.json()["id"]
    signed = await sign_in(app, await editor(conn, "T1"))
    assert signed.status_code == 303
    account = await app.get("/account")
    assert "1 open" in account.text and "1 problem report" in account.text
    queue = await app.get("/account/problem-reports")
    assert queue.status_code == 200 and "Sam Smith" in queue.text  # the editor reads the note as written
    closed = await app.post(
        f"/account/problem-reports/{report_id}/close",
        data={"csrf_token": token_in(queue.text), "reason": "listing_was_right", "remove_note": "yes"},
    )
    assert closed.status_code == 303, closed.text
    row = (await stored(conn))[0]
    assert row["status"] == "dismissed" and row["note"] == "" and row["note_removed"]
    assert row["close_reason"] == "listing_was_right" and row["closed_by"]
    keepers = await app.get(f"/account/services/{SERVICE['slug']}")
    assert "Problem report dismissed: Checked: the listing was right (note removed)" in keepers.text
    assert "Problem reported: The opening hours are wrong" in keepers.text
    again = await app.post(
        f"/account/problem-reports/{report_id}/close",
        data={"csrf_token": token_in(queue.text), "reason": "duplicate"},
    )
    assert again.status_code == 409 and "dismissed already" in again.text


async def test_another_forces_editor_and_a_provider_cannot_close_a_report_and_a_form_without_its_token_writes_nothing(
    app: Client, conn: Connection
) -> None:
    report_id = (await app.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "closed"})).json()[
        "id"
    ]
    other = {"Authorization": f"Bearer {await editor(conn, 'T9')}"}
    r = await app.post(f"/v1/problem-reports/{report_id}/close", json={"reason": "spam"}, headers=other)
    assert r.status_code == 403
    service_id = (await stored(conn))[0]["service_id"]
    nurse = await create_key(conn, name="nurse", role="provider", service_ids=(service_id,), created_by="t")
    provider = {"Authorization": f"Bearer {nurse.key}"}
    assert len((await app.get("/v1/problem-reports", headers=provider)).json()) == 1  # a provider sees its own
    r = await app.post(f"/v1/problem-reports/{report_id}/close", json={"reason": "spam"}, headers=provider)
    assert r.status_code == 403
    await sign_in(app, await editor(conn, "T1"))
    r = await app.post(f"/account/problem-reports/{report_id}/close", data={"reason": "spam", "csrf_token": "x"})
    assert r.status_code == 403
    assert (await stored(conn))[0]["status"] == "open"
    mine = {"Authorization": f"Bearer {await editor(conn, 'T1')}"}
    r = await app.post(f"/v1/problem-reports/{report_id}/close", json={"reason": "listing_corrected"}, headers=mine)
    assert r.status_code == 200 and r.json()["status"] == "resolved"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"reason": "rude"}, "reason"),
        ({}, "reason"),
        ({"reason": "other", "note": "x" * 501}, "note"),
        ({"reason": "other", "note": "a\x00b"}, "note"),
        ({"reason": "other", "note": "fine", "name": "Sam"}, "name"),
    ],
)
async def test_a_bad_report_over_the_api_is_refused_naming_the_field_and_nothing_is_stored(
    app: Client, conn: Connection, body: dict[str, Any], field: str
) -> None:
    r = await app.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json=body)
    assert_problem(r, r.status_code, field)
    assert await stored(conn) == []


@pytest.mark.parametrize(
    ("form", "words"),
    [
        ({"note": "no reason"}, "Choose what is wrong"),
        ({"reason": "other", "note": "y" * 501}, "must be 500 characters or fewer"),
        ({"reason": "other", "note": "bell\x07"}, "control character"),
    ],
)
async def test_a_bad_report_on_the_page_shows_the_forms_own_error_keeps_the_answer_and_stores_nothing(
    app: Client, conn: Connection, form: dict[str, str], words: str
) -> None:
    r = await app.post(f"/services/{SERVICE['slug']}/report-a-problem", data=form)
    assert r.status_code == 400 and words.lower() in r.text.lower() and "There is a problem" in r.text
    assert await stored(conn) == []


async def test_a_form_that_is_not_utf8_and_an_unknown_service_store_nothing(app: Client, conn: Connection) -> None:
    r = await app.post(
        f"/services/{SERVICE['slug']}/report-a-problem",
        content=b"reason=other&note=%ff%fe",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 400
    assert (await app.post("/services/no-such-service/report-a-problem", data={"reason": "other"})).status_code == 404
    r = await app.post("/v1/services/no-such-service/problem-reports", json={"reason": "other"})
    assert r.status_code == 404
    assert await stored(conn) == []


async def test_reports_are_rate_limited_per_address(app: Client, conn: Connection) -> None:
    for _ in range(5):
        r = await app.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "other"})
        assert r.status_code == 201
    r = await app.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "other"})
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
    page = await app.post(f"/services/{SERVICE['slug']}/report-a-problem", data={"reason": "other"})
    assert page.status_code == 429 and "Too many reports from here" in page.text
    assert len(await stored(conn)) == 5


async def test_closed_reports_are_deleted_after_the_retention_period_and_open_ones_never(
    app: Client, conn: Connection
) -> None:
    for reason in ("other", "closed"):
        assert (
            await app.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": reason})
        ).status_code == 201
    first = (await stored(conn))[0]
    now = dt.datetime.now(dt.UTC)
    await problem_store.close_report(
        conn, first["id"], "duplicate", remove_note=False, actor="t", now=now - dt.timedelta(days=91)
    )
    assert await problem_store.purge_reports(conn, now, 90) == 1
    left = await stored(conn)
    assert [r["reason"] for r in left] == ["closed"] and left[0]["status"] == "open"
    audit = await conn.fetch("select action from audit_events where subject = $1", str(first["id"]))
    assert [a["action"] for a in audit] == ["problem_report.made", "problem_report.dismissed"]  # the audit stays


async def test_the_results_and_the_embed_offer_report_a_problem_beside_each_option(
    app: Client, conn: Connection
) -> None:
    admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
    r = await app.patch(f"/v1/services/{SERVICE['slug']}", json={"schedule": {"open_24_7": True}}, headers=admin)
    assert r.status_code == 200, r.text
    query = "?context=street&lat=52.5&lon=-0.5&age=30&needs=mental_health_crisis"
    for _ in range(40):  # the change reaches the search within a second
        found = await app.get("/" + query)
        if "report-a-problem" in found.text:
            break
        await asyncio.sleep(0.05)
    assert f"/services/{SERVICE['slug']}/report-a-problem" in found.text
    embed = await app.get("/embed" + query)
    assert f'/embed/services/{SERVICE["slug"]}/report-a-problem" target="_blank"' in embed.text  # out of the frame
    form = await app.get(f"/embed/services/{SERVICE['slug']}/report-a-problem")
    assert form.status_code == 200 and 'action="/embed/services/' in form.text


async def test_a_listing_takes_at_most_fifty_open_reports_and_a_closed_reports_note_can_still_be_removed(
    settings: Settings, conn: Connection
) -> None:
    unlimited = msgspec.structs.replace(settings, problem_reports_per_hour=0)  # many addresses, as a flood has
    async with AsyncTestClient(app=create_app(unlimited), base_url=BASE) as client:
        admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
        assert (await client.put("/v1/areas/T1", json=AREA, headers=admin)).status_code == 201
        assert (await client.put("/v1/areas/T9", json=OTHER_AREA, headers=admin)).status_code == 201
        assert (await client.post("/v1/services", json=SERVICE, headers=admin)).status_code == 201
        for _ in range(50):
            r = await client.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "other"})
            assert r.status_code == 201
        r = await client.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "other"})
        assert r.status_code == 429 and "50 open reports already" in r.text
        first = (await stored(conn))[0]["id"]
        mine = {"Authorization": f"Bearer {await editor(conn, 'T1')}"}
        body = {"reason": "listing_was_right"}
        assert (await client.post(f"/v1/problem-reports/{first}/close", json=body, headers=mine)).status_code == 200
        await conn.execute("update problem_reports set note = 'Sam Smith' where id = $1", first)
        r = await client.post(f"/v1/problem-reports/{first}/remove-note", headers=mine)
        assert r.status_code == 200 and r.json()["note"] == "" and r.json()["note_removed"]
        other = {"Authorization": f"Bearer {await editor(conn, 'T9')}"}
        assert (await client.post(f"/v1/problem-reports/{first}/remove-note", headers=other)).status_code in (403, 404)
