"""Proposed changes through the app on a real PostgreSQL: a provider proposes, an editor in scope approves and every
replica's search shows it; another force's editor neither sees nor decides it; a rejection keeps its coded reason; a
proposal made against an older version shows both changes, is made again on the current one, and asks before
overwriting a field both changed; nobody approves their own; where editors' changes are reviewed, an editor's direct
write is refused and its proposal goes through another editor. And the same loop on the pages."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key
from tests.api.helpers import AREA, SERVICE, assert_problem
from tests.conftest import admin_key
from tests.stewardship.test_editing_pages import answer, errors, start_edit
from tests.stewardship.test_sign_in_and_capacity import BASE, sign_in, token_in

Client = AsyncTestClient[Litestar]
OTHER_AREA = {**AREA, "boundary": {"type": "Polygon", "coordinates": [[[1, 52], [2, 52], [2, 53], [1, 53], [1, 52]]]}}
LINE = {**SERVICE, "schedule": {"open_24_7": True}}
NEW_PHONE = {"contacts": {"phones": [{"number": "01632 960777", "label": "New desk"}]}}
SEARCH = {
    "origin": {"type": "point", "lat": 52.5, "lon": -0.5},
    "context": "street",
    "person": {"age": 30, "needs": ["mental_health_crisis"]},
}


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


class Keys(msgspec.Struct):
    admin: dict[str, str]
    editor: dict[str, str]
    other_editor: dict[str, str]
    provider: dict[str, str]
    editor_key: str
    provider_key: str


async def keys(conn: Connection, service_id: str) -> Keys:
    editor = (await create_key(conn, name="T1 editor", role="editor", area_codes=("T1",), created_by="t")).key
    other = (await create_key(conn, name="T9 editor", role="editor", area_codes=("T9",), created_by="t")).key
    nurse = await create_key(
        conn, name="suite nurse", role="provider", service_ids=(uuid.UUID(service_id),), created_by="t"
    )
    return Keys(
        admin=bearer(await admin_key(conn)),
        editor=bearer(editor),
        other_editor=bearer(other),
        provider=bearer(nurse.key),
        editor_key=editor,
        provider_key=nurse.key,
    )


async def seeded(client: Client, conn: Connection) -> Keys:
    admin = bearer(await admin_key(conn))
    assert (await client.put("/v1/areas/T1", json=AREA, headers=admin)).status_code == 201
    assert (await client.put("/v1/areas/T9", json=OTHER_AREA, headers=admin)).status_code == 201
    created = await client.post("/v1/services", json=LINE, headers=admin)
    assert created.status_code == 201
    return await keys(conn, created.json()["id"])


@pytest.fixture
async def app(settings: Settings, conn: Connection) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=create_app(settings), base_url=BASE) as client:
        client.follow_redirects = False
        yield client


async def phones_in_search(client: Client) -> list[str]:
    answer = (await client.post("/v1/referral-options", json=SEARCH)).json()
    return [p["number"] for o in answer["options"] if o["service"]["slug"] == LINE["slug"] for p in o["phones"]]


async def test_a_provider_proposes_an_editor_approves_and_the_search_shows_it_on_every_replica(
    settings: Settings, conn: Connection
) -> None:
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(AsyncTestClient(app=create_app(settings), base_url=BASE))
        second = await stack.enter_async_context(AsyncTestClient(app=create_app(settings), base_url=BASE))
        k = await seeded(first, conn)
        r = await first.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.provider)
        assert r.status_code == 201, r.text
        proposal = r.json()
        assert proposal["status"] == "open" and not proposal["stale"] and proposal["base_version"] == 1
        assert [c["field"] for c in proposal["changes"]] == ["contacts.phones"]
        stored = (await first.get(f"/v1/services/{LINE['slug']}", headers=k.admin)).json()
        assert stored["version"] == 1  # nothing about the service changes until approved

        queue = (await first.get("/v1/proposals", headers=k.editor)).json()
        assert [p["id"] for p in queue] == [proposal["id"]]
        assert (await first.get("/v1/proposals", headers=k.other_editor)).json() == []
        assert (await first.get(f"/v1/proposals/{proposal['id']}", headers=k.other_editor)).status_code == 403
        refused = await first.post(f"/v1/proposals/{proposal['id']}/approve", headers=k.other_editor)
        assert refused.status_code == 403
        assert (await first.post(f"/v1/proposals/{proposal['id']}/approve", headers=k.provider)).status_code == 403

        approved = await second.post(f"/v1/proposals/{proposal['id']}/approve", headers=k.editor)
        assert approved.status_code == 200, approved.text
        assert approved.json()["status"] == "approved" and approved.json()["version"] == 2
        history = (await first.get(f"/v1/services/{LINE['slug']}/history", headers=k.admin)).json()
        assert history[-1]["actor"].startswith("key:T1 editor")
        for client in (first, second):
            for _ in range(60):
                if "01632 960777" in await phones_in_search(client):
                    break
                await asyncio.sleep(0.05)
            assert "01632 960777" in await phones_in_search(client)
        again = await first.post(f"/v1/proposals/{proposal['id']}/approve", headers=k.editor)
        assert again.status_code == 409


async def test_a_rejection_keeps_its_coded_reason_and_changes_nothing(app: Client, conn: Connection) -> None:
    k = await seeded(app, conn)
    proposal = (await app.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.provider)).json()
    bad = await app.post(f"/v1/proposals/{proposal['id']}/reject", json={"reason": "nope"}, headers=k.editor)
    assert_problem(bad, bad.status_code, "reason")
    r = await app.post(
        f"/v1/proposals/{proposal['id']}/reject", json={"reason": "not_enough_evidence"}, headers=k.editor
    )
    assert r.status_code == 200 and r.json()["reject_reason"] == "not_enough_evidence"
    assert (await app.get(f"/v1/services/{LINE['slug']}", headers=k.admin)).json()["version"] == 1
    assert (await app.get("/v1/proposals", headers=k.editor)).json() == []
    decided = (await app.get("/v1/proposals?status=decided", headers=k.provider)).json()
    assert [p["status"] for p in decided] == ["rejected"]  # the provider sees what became of it
    audit = await conn.fetch("select action, actor from audit_events order by id")
    assert [a["action"] for a in audit] == ["proposal.made", "proposal.rejected"]
    assert audit[0]["actor"].startswith("key:suite nurse") and audit[1]["actor"].startswith("key:T1 editor")


async def test_a_stale_proposal_shows_both_changes_and_is_made_again_on_the_current_version(
    app: Client, conn: Connection
) -> None:
    k = await seeded(app, conn)
    proposal = (await app.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.provider)).json()
    renamed = await app.patch(f"/v1/services/{LINE['slug']}", json={"name": "Renamed triage"}, headers=k.admin)
    assert renamed.status_code == 200
    read = (await app.get(f"/v1/proposals/{proposal['id']}", headers=k.editor)).json()
    assert read["stale"] and read["base_version"] == 1 and read["current_version"] == 2
    assert [c["field"] for c in read["since"]] == ["name"] and read["both"] == [], read["since"][:3]
    approved = await app.post(f"/v1/proposals/{proposal['id']}/approve", headers=k.editor)
    assert approved.status_code == 200, approved.text
    stored = (await app.get(f"/v1/services/{LINE['slug']}", headers=k.admin)).json()
    assert stored["name"] == "Renamed triage" and stored["contacts"]["phones"][0]["number"] == "01632 960777"


async def test_approving_over_a_later_change_to_the_same_field_needs_confirming(app: Client, conn: Connection) -> None:
    k = await seeded(app, conn)
    proposal = (await app.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.provider)).json()
    theirs = {"contacts": {"phones": [{"number": "01632 960555"}]}}
    assert (await app.patch(f"/v1/services/{LINE['slug']}", json=theirs, headers=k.admin)).status_code == 200
    read = (await app.get(f"/v1/proposals/{proposal['id']}", headers=k.editor)).json()
    assert read["both"] == ["contacts"]
    refused = await app.post(f"/v1/proposals/{proposal['id']}/approve", headers=k.editor)
    assert_problem(refused, 409, "overwrite")
    assert (await app.get(f"/v1/services/{LINE['slug']}", headers=k.admin)).json()["version"] == 2
    confirmed = await app.post(f"/v1/proposals/{proposal['id']}/approve", json={"overwrite": True}, headers=k.editor)
    assert confirmed.status_code == 200
    stored = (await app.get(f"/v1/services/{LINE['slug']}", headers=k.admin)).json()
    assert stored["contacts"]["phones"][0]["number"] == "01632 960777"


async def test_nobody_approves_their_own_proposal_and_an_invalid_proposal_is_refused_like_a_write(
    app: Client, conn: Connection
) -> None:
    k = await seeded(app, conn)
    mine = (await app.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.editor)).json()
    assert (await app.post(f"/v1/proposals/{mine['id']}/approve", headers=k.editor)).status_code == 403
    assert (await app.post(f"/v1/proposals/{mine['id']}/approve", headers=k.admin)).status_code == 200
    bad = {"eligibility": {"age": {"min": 30, "max": 20}}}
    r = await app.post(f"/v1/services/{LINE['slug']}/proposals", json=bad, headers=k.provider)
    assert r.status_code == 422
    outside = {"catchment": {"type": "areas", "codes": ["T9"]}}
    r = await app.post(f"/v1/services/{LINE['slug']}/proposals", json=outside, headers=k.editor)
    assert r.status_code == 403  # an editor proposes only what it could write
    nothing = await app.post(f"/v1/services/{LINE['slug']}/proposals", json={}, headers=k.provider)
    assert nothing.status_code == 409
    other = await app.post("/v1/services", json={**LINE, "slug": "other-line"}, headers=k.admin)
    r = await app.post(f"/v1/services/{other.json()['slug']}/proposals", json=NEW_PHONE, headers=k.provider)
    assert r.status_code == 403  # a provider proposes for its own services only
    assert await conn.fetchval("select count(*) from proposals where status = 'open'") == 0


async def test_where_editors_changes_are_reviewed_a_direct_write_is_refused_and_another_editor_approves(
    settings: Settings, conn: Connection
) -> None:
    reviewed = msgspec.structs.replace(settings, edits_need_review=True)
    async with AsyncTestClient(app=create_app(reviewed), base_url=BASE) as client:
        k = await seeded(client, conn)
        r = await client.patch(f"/v1/services/{LINE['slug']}", json=NEW_PHONE, headers=k.editor)
        assert r.status_code == 403 and "propose" in r.json()["detail"]
        capacity = await client.put(
            f"/v1/services/{LINE['slug']}/capacity", json={"status": "limited"}, headers=k.editor
        )
        assert capacity.status_code == 200  # capacity is never held for review
        proposal = await client.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.editor)
        assert proposal.status_code == 201
        second = bearer(
            (await create_key(conn, name="T1 second", role="editor", area_codes=("T1",), created_by="t")).key
        )
        assert (await client.post(f"/v1/proposals/{proposal.json()['id']}/approve", headers=second)).status_code == 200


async def test_on_the_pages_a_provider_proposes_a_phone_change_and_an_editor_approves_it(
    app: Client, conn: Connection
) -> None:
    k = await seeded(app, conn)
    assert (await sign_in(app, k.provider_key)).status_code == 303
    page = await app.get(f"/account/services/{LINE['slug']}")
    assert "Propose a change" in page.text
    draft = await start_edit(app, page.text)
    phones = {"contacts.phones.rows": "1", "contacts.phones[0].number": "01632 960777"}
    assert (await answer(app, draft, "contacts", phones)).status_code == 303
    check = await app.get(f"{draft}/check")
    sent = await app.post(f"{draft}/check", data={"csrf_token": token_in(check.text)})
    assert sent.status_code == 303, errors(sent.text)
    assert sent.headers["location"].endswith("?proposed=1")
    assert (await app.get(f"/v1/services/{LINE['slug']}", headers=k.admin)).json()["version"] == 1
    new = await app.post("/account/services/new", data={"csrf_token": token_in(check.text)})
    assert new.status_code == 403  # a provider adds no services

    await app.post("/sign-out", data={"csrf_token": token_in(check.text)})
    app.cookies.clear()
    assert (await sign_in(app, k.editor_key)).status_code == 303
    queue = await app.get("/account/proposals")
    assert queue.status_code == 200 and "01632 960777" in queue.text and "key:suite nurse" in queue.text
    proposal_id = await conn.fetchval("select id from proposals")
    decided = await app.post(
        f"/account/proposals/{proposal_id}", data={"csrf_token": token_in(queue.text), "decision": "approve"}
    )
    assert decided.status_code == 303, decided.text
    stored = (await app.get(f"/v1/services/{LINE['slug']}", headers=k.admin)).json()
    assert stored["version"] == 2 and stored["contacts"]["phones"][0]["number"] == "01632 960777"
    missing = await app.post(f"/account/proposals/{proposal_id}", data={"csrf_token": token_in(queue.text)})
    assert missing.status_code == 400


async def test_the_proposer_cannot_reject_their_own_and_one_person_has_at_most_five_waiting_for_a_service(
    app: Client, conn: Connection
) -> None:
    k = await seeded(app, conn)
    made = []
    for i in range(5):
        change = {"contacts": {"phones": [{"number": f"01632 96011{i}"}]}}
        r = await app.post(f"/v1/services/{LINE['slug']}/proposals", json=change, headers=k.provider)
        assert r.status_code == 201
        made.append(r.json()["id"])
    sixth = await app.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.provider)
    assert_problem(sixth, 409, "body")
    mine = (await app.post(f"/v1/services/{LINE['slug']}/proposals", json=NEW_PHONE, headers=k.editor)).json()
    r = await app.post(f"/v1/proposals/{mine['id']}/reject", json={"reason": "incorrect"}, headers=k.editor)
    assert r.status_code == 403
    assert (await app.get(f"/v1/proposals/{mine['id']}", headers=k.editor)).json()["status"] == "open"
