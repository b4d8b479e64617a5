"""Webhooks delivered to a real HTTP receiver started by the test (tests/partners/receiver.py), through the job queue
on a real PostgreSQL: each kind of change arrives signed with the secret the key holder was given; a 500 is retried
and the change delivered once after; with two replicas each change is sent once; a key that may not read a service,
or that is revoked, is sent nothing; a private address is refused at delivery when the setting is off; a receiver
that answers 410 switches its webhook off; the feed shows the same changes."""

from __future__ import annotations

import asyncio
import json
import logging
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.partners import dispatch
from service.partners.signing import new_secret
from service.server.logs import JsonFormatter
from service.settings import Settings
from service.store.db import Connection, connect
from service.store.keys import create_key, revoke_key
from tests.api.helpers import AREA, SERVICE, captured_logs, service
from tests.conftest import admin_key
from tests.partners.receiver import Receiver, receiving, verified

Client = AsyncTestClient[Litestar]
ALL = ["service.created", "service.changed", "service.closed", "service.capacity_changed"]
PHONE = SERVICE["contacts"]["phones"][0]["number"]


async def replica(stack: AsyncExitStack, settings: Settings) -> Client:
    return await stack.enter_async_context(AsyncTestClient(app=create_app(settings)))


async def in_replica(client: Client, work: Callable[..., Awaitable[Any]], *args: Any) -> Any:
    """`work(app.state, *args)` on the replica's own event loop (each test client runs its app in a thread)."""
    return await asyncio.to_thread(client.blocking_portal.call, work, client.app.state, *args)


async def reader(conn: Connection, name: str = "A partner") -> dict[str, str]:
    made = await create_key(conn, name=name, role="reader", created_by="tests")
    return {"Authorization": f"Bearer {made.key}"}


async def admin(conn: Connection) -> dict[str, str]:
    return {"Authorization": f"Bearer {await admin_key(conn)}"}


async def subscribe(client: Client, headers: dict[str, str], url: str, **more: Any) -> dict[str, Any]:
    r = await client.post("/v1/webhooks", json={"url": url, "events": ALL, **more}, headers=headers)
    assert r.status_code == 201, r.text
    made: dict[str, Any] = r.json()
    return made


async def until(check: Callable[[], bool], seconds: float = 60.0) -> None:
    """Wait for `check`: long enough for a transaction on another database of the same server, which holds back
    the dispatcher's horizon as one on ours would (pg_snapshot_xmin is the whole server's), to end."""
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    assert check()


async def log_of(client: Client, headers: dict[str, str], webhook: str) -> list[dict[str, Any]]:
    r = await client.get(f"/v1/webhooks/{webhook}/deliveries", headers=headers)
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def logged(
    client: Client, headers: dict[str, str], webhook: str, check: Callable[[list[dict[str, Any]]], bool]
) -> list[dict[str, Any]]:
    for _ in range(600):
        found = await log_of(client, headers, webhook)
        if check(found):
            return found
        await asyncio.sleep(0.1)
    found = await log_of(client, headers, webhook)
    assert check(found), found
    return found


def events(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.requests]


async def test_each_kind_of_change_reaches_the_receiver_signed_with_the_secret_it_was_given(
    quick: Settings, hooks: Connection
) -> None:
    with receiving() as receiver:
        async with AsyncExitStack() as stack:
            client = await replica(stack, quick)
            boss, partner = await admin(hooks), await reader(hooks)
            assert (await client.put("/v1/areas/T1", json=AREA, headers=boss)).status_code == 201
            made = await subscribe(client, partner, receiver.url("/in?token=abc"))
            created = (await client.post("/v1/services", json=SERVICE, headers=boss)).json()
            slug = SERVICE["slug"]
            assert (
                await client.patch(f"/v1/services/{slug}", json={"name": "Renamed"}, headers=boss)
            ).status_code == 200
            capacity = {"status": "full", "note": "No beds tonight"}
            r = await client.put(f"/v1/services/{slug}/capacity", json=capacity, headers=boss)
            assert r.status_code == 200, r.text
            assert (await client.delete(f"/v1/services/{slug}", headers=boss)).status_code == 200
            await until(lambda: len(receiver.requests) >= 4)
            await asyncio.sleep(1.5)  # time for a second copy to arrive, if one were coming
            sent = sorted(events(receiver), key=lambda e: e["data"]["change_id"])  # two at a time: in any order
            assert [e["type"] for e in sent] == [
                "service.created",
                "service.changed",
                "service.capacity_changed",
                "service.closed",
            ]
            assert [e["data"]["version"] for e in sent] == [1, 2, 3, 4]
            assert all(verified(made["secret"], r) for r in receiver.requests)
            assert not any(verified(new_secret(), r) for r in receiver.requests)  # another key's secret fails
            assert len(set(receiver.ids())) == 4 and all(r.path == "/in?token=abc" for r in receiver.requests)
            first = sent[0]["data"]
            assert first["service_id"] == created["id"] and first["slug"] == slug
            assert first["links"]["api"] == f"https://directory.example/v1/services/{created['id']}"
            assert sent[2]["data"]["fields"] == ["capacity"] and sent[3]["data"]["fields"] == ["status"]
            for request in receiver.requests:  # thin: no phone number, no note, no name of who changed it
                text = request.body.decode()
                assert PHONE not in text and "No beds" not in text and "key:" not in text
                assert request.headers["content-type"] == "application/json"
            log = await logged(client, partner, made["id"], lambda items: len(items) == 4)
            assert [d["type"] for d in log] == [
                "service.closed",
                "service.capacity_changed",
                "service.changed",
                "service.created",
            ]
            assert all(d["status"] == "delivered" and d["attempts"] == 1 and d["last_status"] == 200 for d in log)
            assert {d["message_id"] for d in log} == set(receiver.ids())

            feed = (await client.get("/v1/changes/feed.json")).json()  # without a key: reads are open
            assert [i["tags"][0] for i in feed["items"]] == [
                "service.closed",
                "service.capacity_changed",
                "service.changed",
                "service.created",
            ]
            assert [i["_pathways"]["data"]["change_id"] for i in feed["items"]] == [
                e["data"]["change_id"] for e in reversed(sent)
            ]
            atom = await client.get("/v1/changes/feed.atom?limit=2")
            assert atom.headers["content-type"].startswith("application/atom+xml") and PHONE not in atom.text
            root = ET.fromstring(atom.content)
            ns = {"a": "http://www.w3.org/2005/Atom"}
            assert len(root.findall("a:entry", ns)) == 2
            older = root.find("a:link[@rel='next']", ns)
            assert older is not None and older.get("href", "").startswith(
                "https://directory.example/v1/changes/feed.atom?before="
            )
            rest = await client.get(older.get("href", "").removeprefix("https://directory.example"))
            assert [c.get("term") for c in ET.fromstring(rest.content).iterfind("a:entry/a:category", ns)] == [
                "service.changed",
                "service.created",
            ]


async def test_a_500_is_retried_with_the_same_message_and_the_change_delivered_once_after(
    quick: Settings, hooks: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    with receiving(answers=[500]) as receiver:
        async with AsyncExitStack() as stack:
            client = await replica(stack, quick)
            boss, partner = await admin(hooks), await reader(hooks)
            assert (await client.put("/v1/areas/T1", json=AREA, headers=boss)).status_code == 201
            made = await subscribe(client, partner, receiver.url("/in?token=s3cr3t-of-the-receiver"))
            with captured_logs(caplog, logging.INFO):
                assert (await client.post("/v1/services", json=SERVICE, headers=boss)).status_code == 201
                await until(lambda: len(receiver.requests) >= 2)
                await asyncio.sleep(1.5)  # the retries' schedule would have sent a third by now
            first, second = receiver.requests
            assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
            assert verified(made["secret"], first) and verified(made["secret"], second)
            assert second.at - first.at >= 0.9  # after the schedule's wait
            (delivery,) = await logged(client, partner, made["id"], lambda items: items[0]["status"] == "delivered")
            assert delivery["attempts"] == 2 and delivery["last_status"] == 200 and delivery["last_error"] is None
            said = "\n".join(JsonFormatter().format(r) for r in caplog.records)  # every logger's, httpx's too
            assert f"webhook attempt 1 failed: subscription {made['id']}, delivery {delivery['id']}, 500" in said
            assert "s3cr3t" not in said and made["secret"] not in said and SERVICE["slug"] not in said


async def test_two_replicas_send_each_change_once(quick: Settings, hooks: Connection) -> None:
    with receiving() as receiver:
        async with AsyncExitStack() as stack:
            first, second = await replica(stack, quick), await replica(stack, quick)
            boss, partner = await admin(hooks), await reader(hooks)
            assert (await first.put("/v1/areas/T1", json=AREA, headers=boss)).status_code == 201
            await subscribe(second, partner, receiver.url())
            for i, client in enumerate([first, second] * 3):
                body = service(slug=f"service-{i}", name=f"Service {i}")
                assert (await client.post("/v1/services", json=body, headers=boss)).status_code == 201
            for i, client in enumerate([second, first] * 2):
                r = await client.patch(f"/v1/services/service-{i}", json={"description": "Now open"}, headers=boss)
                assert r.status_code == 200
            # Besides the queue's own runs, both replicas dispatch and send at the very same moment, again and again.
            for _ in range(5):
                await asyncio.gather(*(in_replica(c, dispatch.dispatch_once) for c in (first, second)))
                for row in await hooks.fetch("select id from webhook_deliveries where status = 'pending'"):
                    await asyncio.gather(*(in_replica(c, dispatch.deliver_once, row["id"]) for c in (first, second)))
                await asyncio.sleep(0.2)
            await until(lambda: len(receiver.requests) >= 10)
            await asyncio.sleep(1.5)  # both replicas had time to send a second copy, if they were going to
            assert len(receiver.requests) == 10 and len(set(receiver.ids())) == 10
            changes = [e["data"]["change_id"] for e in events(receiver)]
            assert len(set(changes)) == 10
            workers = await hooks.fetchval("select count(*) from procrastinate_workers")
            assert workers == 2  # both replicas were working the queue


async def test_a_key_that_may_not_read_a_service_or_is_revoked_is_sent_nothing_about_it(
    quick: Settings, hooks: Connection
) -> None:
    with receiving() as everything, receiving() as one_service, receiving() as revoked, receiving() as capacity_only:
        async with AsyncExitStack() as stack:
            client = await replica(stack, quick)
            boss = await admin(hooks)
            assert (await client.put("/v1/areas/T1", json=AREA, headers=boss)).status_code == 201
            other = (await client.post("/v1/services", json=service(slug="other", name="Other"), headers=boss)).json()
            await subscribe(client, await reader(hooks, "Everything"), everything.url())
            await subscribe(client, await reader(hooks, "One"), one_service.url(), services=[other["id"]])
            gone = await create_key(hooks, name="Gone", role="reader", created_by="tests")
            await subscribe(client, {"X-API-Key": gone.key}, revoked.url())
            await revoke_key(hooks, gone.details.id)
            watcher = await reader(hooks, "Capacity")
            r = await client.post(
                "/v1/webhooks",
                json={"url": capacity_only.url(), "events": ["service.capacity_changed"]},
                headers=watcher,
            )
            assert r.status_code == 201
            assert (await client.post("/v1/services", json=SERVICE, headers=boss)).status_code == 201
            r = await client.patch(f"/v1/services/{SERVICE['slug']}", json={"name": "Renamed"}, headers=boss)
            assert r.status_code == 200
            r = await client.patch("/v1/services/other", json={"capacity": {"status": "limited"}}, headers=boss)
            assert r.status_code == 200
            await until(lambda: len(everything.requests) >= 3)
            await asyncio.sleep(1.5)
            assert [e["type"] for e in events(everything)] == [
                "service.created",
                "service.changed",
                "service.capacity_changed",
            ]
            assert [(e["type"], e["data"]["slug"]) for e in events(one_service)] == [
                ("service.capacity_changed", "other")
            ]
            assert [e["data"]["slug"] for e in events(capacity_only)] == ["other"]
            assert revoked.requests == []


async def test_a_private_address_is_refused_at_delivery_when_the_setting_is_off(
    quick: Settings, hooks: Connection
) -> None:
    with receiving() as receiver:
        async with AsyncExitStack() as stack:  # registered while the deployment allowed private networks
            client = await replica(stack, quick)
            boss, partner = await admin(hooks), await reader(hooks)
            assert (await client.put("/v1/areas/T1", json=AREA, headers=boss)).status_code == 201
            made = await subscribe(client, partner, f"https://127.0.0.1:{receiver.port}/hook")
        strict = msgspec.structs.replace(quick, webhooks_allow_private=False, webhooks_retry_seconds="1")
        async with AsyncExitStack() as stack:
            client = await replica(stack, strict)
            assert (await client.post("/v1/services", json=SERVICE, headers=boss)).status_code == 201
            (delivery,) = await logged(
                client, partner, made["id"], lambda items: bool(items) and items[0]["status"] == "failed"
            )
            assert delivery["attempts"] == 2 and delivery["last_status"] is None
            assert "loopback" in delivery["last_error"] and "given up" in delivery["last_error"]
            assert receiver.requests == []
            switched = (await client.get(f"/v1/webhooks/{made['id']}", headers=partner)).json()
            assert switched["active"] is False  # failed for good, with nothing delivered since: switched off


async def test_a_receiver_that_answers_410_switches_its_webhook_off_and_a_ping_tries_it_again(
    quick: Settings, hooks: Connection
) -> None:
    with receiving(answers=[410]) as receiver:
        async with AsyncExitStack() as stack:
            client = await replica(stack, quick)
            partner = await reader(hooks)
            made = await subscribe(client, partner, receiver.url())
            r = await client.post(f"/v1/webhooks/{made['id']}/ping", headers=partner)
            assert r.status_code == 202
            await logged(client, partner, made["id"], lambda items: items[0]["status"] == "failed")
            assert (await client.get(f"/v1/webhooks/{made['id']}", headers=partner)).json()["active"] is False
            assert (
                await client.patch(f"/v1/webhooks/{made['id']}", json={"active": True}, headers=partner)
            ).status_code == 200
            ping = (await client.post(f"/v1/webhooks/{made['id']}/ping", headers=partner)).json()
            log = await logged(client, partner, made["id"], lambda items: items[0]["status"] == "delivered")
            assert log[0]["message_id"] == ping["message_id"] and len(receiver.requests) == 2
            assert events(receiver)[1]["type"] == "webhook.ping" and verified(made["secret"], receiver.requests[1])


async def test_a_change_committed_after_a_later_one_is_delivered_and_each_once(
    quick: Settings, hooks: Connection, database_url: str
) -> None:
    """Ids are handed out at insert, transactions commit in another order: the dispatcher reads by transaction, so a
    change whose transaction ends late (an import's, say) is neither passed over nor sent twice."""
    with receiving() as receiver:
        async with AsyncExitStack() as stack:
            client = await replica(stack, quick)
            boss, partner = await admin(hooks), await reader(hooks)
            assert (await client.put("/v1/areas/T1", json=AREA, headers=boss)).status_code == 201
            created = (await client.post("/v1/services", json=SERVICE, headers=boss)).json()
            await subscribe(client, partner, receiver.url())
            late = await connect(database_url)
            try:
                transaction = late.transaction()
                await transaction.start()
                await late.execute(
                    "insert into changes (actor, entity, entity_key, operation, version, fields)"
                    " values ('key:slow import', 'service', $1, 'update', 2, $2)",
                    created["id"],
                    [{"field": "description", "old": "", "new": "Written by a slow transaction"}],
                )
                r = await client.patch(f"/v1/services/{SERVICE['slug']}", json={"name": "Quick"}, headers=boss)
                assert r.status_code == 200
                await asyncio.sleep(2.5)  # the dispatcher has run: the slow transaction holds back what came after it
                assert receiver.requests == []
                await transaction.commit()
            finally:
                await late.close()
            await until(lambda: len(receiver.requests) >= 2)
            await asyncio.sleep(1.5)
            assert len(receiver.requests) == 2 and len(set(receiver.ids())) == 2
