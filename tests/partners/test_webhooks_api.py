"""/v1/webhooks: registering, listing, changing and deleting webhooks, on a real PostgreSQL. Any key holder may
register; each sees its own (an admin all); bad input is a 4xx naming the field, and nothing is written; a URL on a
private network is refused unless the deployment allows it."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.security.jwt import Token
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.settings import Settings
from service.store.db import Connection
from service.store.keys import create_key, revoke_key
from tests.api.helpers import PROBLEM_JSON

Client = AsyncTestClient[Litestar]
EVENTS = ["service.changed", "service.closed"]


async def key(conn: Connection, role: str = "reader", name: str = "A partner") -> dict[str, str]:
    made = await create_key(conn, name=name, role=role, created_by="tests")  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {made.key}"}


async def count(conn: Connection) -> int:
    return int(await conn.fetchval("select count(*) from webhook_subscriptions"))


def refused(r: Any, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM_JSON and r.json()["field"] == field, r.text


@pytest.fixture
async def open_client(replica: Client, hooks: Connection) -> Client:
    return replica


async def test_a_reader_key_registers_a_webhook_and_sees_its_secret_once(
    open_client: Client, hooks: Connection
) -> None:
    partner = await key(hooks)
    r = await open_client.post(
        "/v1/webhooks", json={"url": "http://127.0.0.1:9/hook", "events": EVENTS * 2}, headers=partner
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["secret"].startswith("whsec_") and made["events"] == EVENTS and made["active"] is True
    shown = (await open_client.get(f"/v1/webhooks/{made['id']}", headers=partner)).json()
    assert "secret" not in shown and shown["url"] == "http://127.0.0.1:9/hook"
    listed = (await open_client.get("/v1/webhooks", headers=partner)).json()
    assert listed["total"] == 1 and "secret" not in listed["items"][0]
    assert made["secret"] not in (await open_client.get("/v1/webhooks", headers=partner)).text


async def test_a_key_sees_and_changes_only_its_own_webhooks_and_an_admin_sees_all(
    open_client: Client, hooks: Connection
) -> None:
    one, two, admin = await key(hooks, name="One"), await key(hooks, name="Two"), await key(hooks, "admin")
    body = {"url": "http://127.0.0.1:9/one", "events": EVENTS}
    mine = (await open_client.post("/v1/webhooks", json=body, headers=one)).json()["id"]
    assert (
        await open_client.post("/v1/webhooks", json={**body, "url": "http://127.0.0.1:9/two"}, headers=two)
    ).status_code == 201
    assert (await open_client.get("/v1/webhooks", headers=two)).json()["total"] == 1
    assert (await open_client.get("/v1/webhooks", headers=admin)).json()["total"] == 2
    for method, path in [
        ("GET", f"/v1/webhooks/{mine}"),
        ("GET", f"/v1/webhooks/{mine}/deliveries"),
        ("POST", f"/v1/webhooks/{mine}/ping"),
        ("DELETE", f"/v1/webhooks/{mine}"),
    ]:
        r = await open_client.request(method, path, headers=two)
        assert r.status_code == 404, (method, path)  # another key's webhook is as if it did not exist
    r = await open_client.patch(f"/v1/webhooks/{mine}", json={"active": False}, headers=two)
    assert r.status_code == 404
    refused(await open_client.get("/v1/webhooks/not-a-uuid", headers=one), 400, "webhook_id")
    changed = await open_client.patch(
        f"/v1/webhooks/{mine}", json={"active": False, "events": ["service.created"]}, headers=one
    )
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert changed.json()["events"] == ["service.created"] and changed.json()["url"] == body["url"]
    assert (await open_client.get(f"/v1/webhooks/{mine}", headers=admin)).status_code == 200
    assert (await open_client.delete(f"/v1/webhooks/{mine}", headers=one)).status_code == 200
    assert (await open_client.get(f"/v1/webhooks/{mine}", headers=one)).status_code == 404
    assert await count(hooks) == 1


async def test_no_key_or_a_revoked_one_cannot_register(open_client: Client, hooks: Connection) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "events": EVENTS}
    refused(await open_client.post("/v1/webhooks", json=body), 401, "Authorization")
    made = await create_key(hooks, name="Gone", role="reader", created_by="tests")
    await revoke_key(hooks, made.details.id)
    refused(await open_client.post("/v1/webhooks", json=body, headers={"X-API-Key": made.key}), 401, "Authorization")
    assert await count(hooks) == 0


BAD = [
    ({"events": EVENTS}, 400, "url"),
    ({"url": "http://127.0.0.1:9/hook"}, 400, "events"),
    ({"url": "http://127.0.0.1:9/hook", "events": []}, 400, "events"),
    ({"url": "http://127.0.0.1:9/hook", "events": ["service.deleted"]}, 400, "events[0]"),
    ({"url": "ftp://127.0.0.1/hook", "events": EVENTS}, 400, "url"),
    ({"url": "http://127.0.0.1:9/hook", "events": EVENTS, "secret": "mine"}, 400, "secret"),
    ({"url": "http://127.0.0.1:9/hook", "events": EVENTS, "services": ["not-a-uuid"]}, 400, "services[0]"),
    ({"url": "http://127.0.0.1:9/hook", "events": EVENTS, "services": [str(uuid.uuid4())]}, 422, "services[0]"),
    ({"url": "http://u:p@127.0.0.1:9/hook", "events": EVENTS}, 422, "url"),
    ({"url": "http://127.0.0.1:9/hook#part", "events": EVENTS}, 422, "url"),
    ({"url": "http://no-such-host.invalid/hook", "events": EVENTS}, 422, "url"),
    ({"url": "http://127.0.0.1:9/" + "x" * 2000, "events": EVENTS}, 400, "url"),
    ({"url": "http://127.0.0.1:9/\u0000", "events": EVENTS}, 400, "url"),
]


async def test_bad_input_is_refused_naming_the_field_and_nothing_is_written(
    open_client: Client, hooks: Connection
) -> None:
    partner = await key(hooks)
    for body, status, field in BAD:
        refused(await open_client.post("/v1/webhooks", json=body, headers=partner), status, field)
        r = await open_client.patch(f"/v1/webhooks/{uuid.uuid4()}", json={"events": []}, headers=partner)
        refused(r, 400, "events")
    assert await count(hooks) == 0


PRIVATE = [
    "https://127.0.0.1/hook",
    "https://localhost:8443/hook",
    "https://10.0.0.7/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[::ffff:192.168.0.1]/hook",
    "http://receiver.example/hook",  # plain http
]


async def test_a_url_on_a_private_network_is_refused_at_registration_when_the_setting_is_off(
    settings: Settings, hooks: Connection
) -> None:
    partner = await key(hooks)
    secret = secrets.token_hex(32)
    async with AsyncTestClient(app=create_app(msgspec.structs.replace(settings, jwt_secret=secret))) as client:
        for url in PRIVATE:
            r = await client.post("/v1/webhooks", json={"url": url, "events": EVENTS}, headers=partner)
            refused(r, 422, "url")
        # A token's holder cannot be checked again later (a key can be revoked): webhooks are a key's.
        exp = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)
        token = Token(sub="alice@trust.nhs.uk", exp=exp, extras={"role": "admin"}).encode(secret, "HS256")
        body = {"url": "https://203.0.113.9/hook", "events": EVENTS}
        r = await client.post("/v1/webhooks", json=body, headers={"Authorization": f"Bearer {token}"})
        refused(r, 403, "Authorization")
    assert await count(hooks) == 0


async def test_one_url_once_a_key_and_at_most_twenty_webhooks(open_client: Client, hooks: Connection) -> None:
    partner = await key(hooks)
    body = {"url": "http://127.0.0.1:9/0", "events": EVENTS}
    assert (await open_client.post("/v1/webhooks", json=body, headers=partner)).status_code == 201
    refused(await open_client.post("/v1/webhooks", json=body, headers=partner), 409, "url")
    for i in range(1, 20):
        r = await open_client.post("/v1/webhooks", json={**body, "url": f"http://127.0.0.1:9/{i}"}, headers=partner)
        assert r.status_code == 201
    refused(
        await open_client.post("/v1/webhooks", json={**body, "url": "http://127.0.0.1:9/x"}, headers=partner),
        409,
        "url",
    )
    assert await count(hooks) == 20


async def test_a_switched_off_webhook_cannot_be_pinged_until_switched_on(
    open_client: Client, hooks: Connection
) -> None:
    partner = await key(hooks)
    made = (
        await open_client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9/", "events": EVENTS}, headers=partner)
    ).json()
    await open_client.patch(f"/v1/webhooks/{made['id']}", json={"active": False}, headers=partner)
    refused(await open_client.post(f"/v1/webhooks/{made['id']}/ping", headers=partner), 409, "active")
    await open_client.patch(f"/v1/webhooks/{made['id']}", json={"active": True}, headers=partner)
    r = await open_client.post(f"/v1/webhooks/{made['id']}/ping", headers=partner)
    assert r.status_code == 202 and r.json()["message_id"].startswith("msg_")


async def test_the_feed_is_read_as_the_directory_is(settings: Settings, hooks: Connection) -> None:
    closed = msgspec.structs.replace(settings, read_access="key")
    async with AsyncTestClient(app=create_app(closed)) as client:
        refused(await client.get("/v1/changes/feed.atom"), 401, "Authorization")
        refused(await client.get("/v1/changes/feed.json"), 401, "Authorization")
        r = await client.get("/v1/changes/feed.atom", headers=await key(hooks))
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
        refused(await client.get("/v1/changes/feed.json?limit=0", headers=await key(hooks)), 400, "limit")
