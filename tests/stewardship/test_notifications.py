"""Notifications through the job queue, on a real PostgreSQL and a real SMTP server started here (aiosmtpd): a problem
report mails the editor who keeps the service and not another force's; a watched service's change mails its watcher;
the review digest lists what is overdue; with the mail server down the mail is sent once when it returns; with two
replicas running, each mail is sent once."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import socket
from collections.abc import Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

import msgspec
import pytest
from aiosmtpd.controller import Controller
from litestar import Litestar
from litestar.testing import AsyncTestClient

from service.app import create_app
from service.domain.access import hash_key
from service.server.jobs import defer
from service.settings import Settings
from service.stewardship import notify
from service.store.db import Connection, connect
from service.store.keys import create_key
from tests.api.helpers import AREA, SERVICE
from tests.conftest import admin_key
from tests.stewardship.test_sign_in_and_capacity import BASE, sign_in, token_in

Client = AsyncTestClient[Litestar]
OTHER_AREA = {**AREA, "boundary": {"type": "Polygon", "coordinates": [[[1, 52], [2, 52], [2, 53], [1, 53], [1, 52]]]}}


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


def text(message: Message) -> str:
    """A message's body as its reader sees it (the wire form may be quoted-printable)."""
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def told(mails: list[Message]) -> int:
    """How many reports these mails tell of: one, or as many as a mail gathering several says."""
    return sum(1 if m["Subject"].startswith("Problem reported") else int(m["Subject"].split()[0]) for m in mails)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Smtp:
    """A real SMTP server on this machine, started and stopped at will (the mail server going down and coming back)."""

    def __init__(self) -> None:
        self.port, self.box = free_port(), Mailbox()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.box, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp() -> Iterator[Smtp]:
    server = Smtp()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def mail_settings(settings: Settings, smtp: Smtp) -> Settings:
    return msgspec.structs.replace(
        settings, smtp_host="127.0.0.1", smtp_port=smtp.port, notify_seconds=1, jobs_poll_seconds=1
    )


async def replica(stack: AsyncExitStack, settings: Settings) -> Client:
    client = await stack.enter_async_context(AsyncTestClient(app=create_app(settings), base_url=BASE))
    client.follow_redirects = False
    return client


async def seeded(client: Client, conn: Connection) -> dict[str, str]:
    admin = {"Authorization": f"Bearer {await admin_key(conn)}"}
    assert (await client.put("/v1/areas/T1", json=AREA, headers=admin)).status_code == 201
    assert (await client.put("/v1/areas/T9", json=OTHER_AREA, headers=admin)).status_code == 201
    assert (await client.post("/v1/services", json=SERVICE, headers=admin)).status_code == 201
    return admin


async def contact(conn: Connection, area: str, address: str) -> str:
    """An editor of `area` who asked for mail at `address` (as the notifications page keeps it)."""
    key = await create_key(conn, name=f"{area} editor", role="editor", area_codes=(area,), created_by="t")
    identity = {"kind": "key", "id": str(key.details.id), "name": f"{area} editor", "role": "editor", "areas": [area]}
    actor = f"key:{area} editor ({str(key.details.id)[:8]})"
    await conn.execute(
        "insert into notice_contacts (who, name, email, identity, key_hash) values ($1, $2, $3, $4, $5)",
        actor,
        f"{area} editor",
        address,
        identity,
        hash_key(key.key),
    )
    return key.key


async def until(check: Any, seconds: float = 20.0) -> None:
    for _ in range(int(seconds / 0.1)):
        if check():
            return
        await asyncio.sleep(0.1)
    assert check()


async def test_a_problem_report_mails_the_editor_who_keeps_the_service_and_not_another_forces(
    settings: Settings, conn: Connection, smtp: Smtp
) -> None:
    async with AsyncExitStack() as stack:
        client = await replica(stack, mail_settings(settings, smtp))
        await seeded(client, conn)
        await contact(conn, "T1", "t1-editor@example.org")
        await contact(conn, "T9", "t9-editor@example.org")
        note = "Sam Smith, born 04/05/1990"
        r = await client.post(
            f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "wrong_phone", "note": note}
        )
        assert r.status_code == 201
        await until(lambda: smtp.box.to("t1-editor@example.org"))
        await asyncio.sleep(2)  # time for a wrong mail to arrive, if one were coming
        mails = smtp.box.to("t1-editor@example.org")
        assert len(mails) == 1 and smtp.box.to("t9-editor@example.org") == []
        body = text(mails[0])
        assert mails[0]["Subject"] == f"Problem reported: {SERVICE['name']}"
        assert "The phone number is wrong or does not answer" in body and "It has a note" in body
        assert "Sam Smith" not in body and "1990" not in body  # a note never leaves the directory by mail


async def test_with_the_mail_server_down_the_mail_is_sent_once_when_it_returns(
    settings: Settings, conn: Connection
) -> None:
    smtp = Smtp()  # not started: the mail server is down
    try:
        async with AsyncExitStack() as stack:
            client = await replica(stack, mail_settings(settings, smtp))
            await seeded(client, conn)
            await contact(conn, "T1", "t1-editor@example.org")
            r = await client.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": "closed"})
            assert r.status_code == 201

            async def attempts() -> int:
                found = await conn.fetchval(
                    "select max(attempts) from procrastinate_jobs where task_name = $1", notify.SEND_MAIL
                )
                return int(found or 0)

            for _ in range(200):  # the first attempt fails: nobody answers on the port
                if await attempts() >= 1:
                    break
                await asyncio.sleep(0.1)
            assert await attempts() >= 1 and smtp.box.messages == []
            smtp.start()
            await until(lambda: smtp.box.to("t1-editor@example.org"), seconds=30)
            await asyncio.sleep(2)
            assert len(smtp.box.to("t1-editor@example.org")) == 1
    finally:
        smtp.stop()


async def test_two_replicas_send_each_mail_once(settings: Settings, conn: Connection, smtp: Smtp) -> None:
    async with AsyncExitStack() as stack:
        tuned = mail_settings(settings, smtp)
        first = await replica(stack, tuned)
        second = await replica(stack, tuned)
        await seeded(first, conn)
        await contact(conn, "T1", "t1-editor@example.org")
        for i, client in enumerate([first, second] * 3):
            reason = ("wrong_phone", "closed", "wrong_hours")[i % 3]
            r = await client.post(f"/v1/services/{SERVICE['slug']}/problem-reports", json={"reason": reason})
            assert r.status_code == 201
        await until(lambda: told(smtp.box.to("t1-editor@example.org")) >= 6, seconds=30)
        await asyncio.sleep(3)  # both workers had time to send a second copy, if they were going to
        assert told(smtp.box.to("t1-editor@example.org")) == 6  # each report told once (several to a mail, at most)
        workers = await conn.fetchval("select count(*) from procrastinate_workers")
        assert workers == 2  # both replicas were working the queue


async def test_a_watcher_is_mailed_the_change_in_words_and_the_review_digest_lists_what_is_overdue(
    settings: Settings, conn: Connection, smtp: Smtp
) -> None:
    async with AsyncExitStack() as stack:
        client = await replica(stack, mail_settings(settings, smtp))
        admin = await seeded(client, conn)
        key = await create_key(conn, name="T1 editor", role="editor", area_codes=("T1",), created_by="t")
        assert (await sign_in(client, key.key)).status_code == 303
        page = await client.get("/account/notifications")
        for bad in ("root,postmaster@example.org", "Sam <sam@example.org>", "no-at-sign"):
            refused = await client.post(
                "/account/notifications", data={"csrf_token": token_in(page.text), "email": bad}
            )
            assert refused.status_code == 400 and "Enter an email address" in refused.text
        saved = await client.post(
            "/account/notifications",
            data={
                "csrf_token": token_in(page.text),
                "email": "watcher@example.org",
                "problem_reports": "yes",
                "review_digest": "yes",
            },
        )
        assert saved.status_code == 303
        keepers = await client.get(f"/account/services/{SERVICE['slug']}")
        watched = await client.post(
            f"/account/services/{SERVICE['slug']}/watch", data={"csrf_token": token_in(keepers.text), "watch": "yes"}
        )
        assert watched.status_code == 303
        assert "Stop watching this service" in (await client.get(f"/account/services/{SERVICE['slug']}")).text
        phones = {"contacts": {"phones": [{"number": "01632 960123"}]}}
        assert (await client.patch(f"/v1/services/{SERVICE['slug']}", json=phones, headers=admin)).status_code == 200
        await until(lambda: smtp.box.to("watcher@example.org"))
        changed = smtp.box.to("watcher@example.org")[0]
        assert changed["Subject"] == f"Changed: {SERVICE['name']}" and "01632 960123" in text(changed)

        long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=200)).isoformat()
        body = {"verification": {"verified_at": long_ago, "verified_by": "An editor"}}
        assert (await client.patch(f"/v1/services/{SERVICE['slug']}", json=body, headers=admin)).status_code == 200
        app = client.app
        assert isinstance(app, Litestar)
        for _ in range(40):  # the change reaches the index
            if any(s is not None and s.verification for s in app.state.runtime.index.services):
                break
            await asyncio.sleep(0.05)
        before = len(smtp.box.to("watcher@example.org"))
        # The morning's periodic job, deferred now (as procrastinate defers it at 07:00, with its tick).
        await defer(conn, f"{notify.NAMESPACE}:review_digest", {"timestamp": int(dt.datetime.now(dt.UTC).timestamp())})
        await until(lambda: any(m["Subject"].endswith("services to check") for m in smtp.box.to("watcher@example.org")))
        digest = next(m for m in smtp.box.to("watcher@example.org") if m["Subject"].endswith("services to check"))
        assert digest["Subject"] == "1 overdue, 0 due soon: services to check"
        said = text(digest)
        assert SERVICE["name"] in said and "Details not checked since" in said
        assert len(smtp.box.to("watcher@example.org")) >= before


async def test_the_queue_holds_the_retention_the_digest_the_notifier_and_its_upkeep_as_periodic_jobs(
    settings: Settings, conn: Connection
) -> None:
    async with AsyncExitStack() as stack:
        client = await replica(stack, settings)
        app = client.app
        assert isinstance(app, Litestar)
        periodic = {t.task.name for t in app.state.jobs.periodic_registry.periodic_tasks.values()}
        assert periodic == {
            "outcomes:purge_referrals",
            "stewardship:notify",
            "stewardship:review_digest",
            "stewardship:purge_problem_reports",
            "queue:retry_stalled",
            "queue:remove_finished",
            "webhooks:dispatch",
            "webhooks:purge_deliveries",
            "webhooks:sweep",
        }


async def test_a_change_committed_after_a_later_one_is_mailed_and_each_once(
    settings: Settings, conn: Connection, smtp: Smtp, database_url: str
) -> None:
    """Ids are handed out at insert, transactions commit in another order: the notifier reads by transaction, so a
    change whose transaction ends late (an import's, say) is neither passed over nor mailed twice."""
    async with AsyncExitStack() as stack:
        client = await replica(stack, mail_settings(settings, smtp))
        admin = await seeded(client, conn)
        await contact(conn, "T1", "watcher@example.org")
        service_id = await conn.fetchval("select id from services where slug = $1", SERVICE["slug"])
        who = await conn.fetchval("select who from notice_contacts")
        await conn.execute(
            "insert into service_watches (service_id, who) values ($1, $2)",  # watching from now: not the creation
            service_id,
            who,
        )
        late = await connect(database_url)
        try:
            transaction = late.transaction()
            await transaction.start()
            early_fields = [{"field": "description", "old": "", "new": "Written by a slow transaction"}]
            await late.execute(
                "insert into changes (actor, entity, entity_key, operation, version, fields)"
                " values ('key:slow import', 'service', $1, 'update', 1, $2)",
                str(service_id),
                early_fields,
            )
            quick = {"contacts": {"phones": [{"number": "01632 960321"}]}}
            r = await client.patch(f"/v1/services/{SERVICE['slug']}", json=quick, headers=admin)
            assert r.status_code == 200
            await asyncio.sleep(3)  # the notifier has run: the slow transaction holds back what came after it
            assert smtp.box.to("watcher@example.org") == []
            await transaction.commit()
        finally:
            await late.close()
        await until(lambda: len(smtp.box.to("watcher@example.org")) >= 2)
        await asyncio.sleep(2)
        bodies = [text(m) for m in smtp.box.to("watcher@example.org")]
        assert len(bodies) == 2
        assert any("Written by a slow transaction" in b for b in bodies) and any("01632 960321" in b for b in bodies)
