"""Notifications, as jobs on the queue (service/server/jobs.py): who gets which mail, and sending it.

- `notify`, every PATHWAYS_NOTIFY_SECONDS, in one replica at a time (its cursor's row lock): reads the audit and the
  change log for the transactions finished since its last run; for each problem report made, mails the people who
  keep that service and asked for reports (editors by the API's own write rule, admins, the service's providers);
  for each change to a service, mails the people who watch it and still keep it. The mails are queued, and the
  cursor moved, in one transaction: nothing is missed or queued twice.
- `review_digest`, each morning: to each person who asked for it, the services they keep that are overdue for review
  or due within 14 days (none sent when there are none).
- `send_mail`: one message over SMTP (PATHWAYS_SMTP_*), retried while the server is down (after 0, 5, 10, 15 …
  seconds, for about a day). A job is taken by one worker only, so one mail is sent once however many replicas run.
- `purge_problem_reports`, hourly: closed reports past PATHWAYS_PROBLEM_REPORT_RETENTION_DAYS.

A person's scope is judged again before each mail (a key's as it is now: a revoked key gets nothing)."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import smtplib
import ssl
import uuid
from collections.abc import Coroutine, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import procrastinate
from litestar.datastructures import State

from service.domain.access import Forbidden, Identity
from service.domain.errors import NotFound
from service.domain.model import FieldChange
from service.domain.review import london_today, review_of
from service.server.access import service_writer
from service.server.jobs import defer
from service.server.runtime import runtime_of
from service.settings import Settings
from service.stewardship import problem_store, store
from service.stewardship.answers import change_words
from service.stewardship.contacts import Contact, contacts
from service.stewardship.notices import Mail, change_mail, digest_mail, reports_mail
from service.stewardship.problems import REASON_WORDS
from service.stewardship.views import names_of
from service.store import services as service_store
from service.store.db import Connection
from service.store.sql import queries

log = logging.getLogger("service.notify")
T = TypeVar("T")
sql = queries(Path(__file__).parent / "sql")
NAMESPACE = "stewardship"
SEND_MAIL = f"{NAMESPACE}:send_mail"
BATCH = 500
DUE_SOON_DAYS = 14
MAIL_RETRY = procrastinate.RetryStrategy(max_attempts=200, linear_wait=5)


# --- the people -------------------------------------------------------------------------------------------------


async def current(conn: Connection, contact: Contact) -> Identity | None:
    """The contact's identity as it is now: a key's from the key (None once revoked); an account's as it signed in."""
    if contact.key_hash is None:
        return contact.identity
    return await store.key_identity(conn, contact.key_hash)


async def keeps(state: State, conn: Connection, identity: Identity, service_id: uuid.UUID) -> bool:
    """Whether this person keeps the service: an admin any; an editor one it may change; a provider its own."""
    if identity.role == "admin":
        return True
    if identity.role == "provider":
        return str(service_id) in identity.services
    if identity.role != "editor":
        return False
    try:
        service = await service_store.get_service(conn, str(service_id))
        await service_writer(state, conn, identity)(service_store.body_of(service))
    except (Forbidden, NotFound):
        return False
    return True


def base_url(settings: Settings) -> str:
    return settings.public_url or f"http://{settings.host}:{settings.port}"


# --- turning events into mail -----------------------------------------------------------------------------------


async def cursor(conn: Connection, name: str) -> int:
    await conn.execute(sql("cursor_ensure"), name)
    return int(await conn.fetchval(sql("cursor_lock"), name))


async def notify_once(state: State) -> int:
    """Mail for what the transactions finished since the last run wrote; how many mails were queued. Rows are read
    by the transaction that wrote them, in the window from the cursor to the oldest transaction still running (every
    one before it has finished), so a row committed late is read in a later window, never passed by; the mail is
    queued and the cursor moved in one transaction. An event that cannot be turned into mail (a service whose record
    no longer reads, say) is logged by its id and passed over, so it never holds up the rest."""
    runtime = runtime_of(state)
    settings = runtime.settings
    if not settings.smtp_host:
        return 0
    queued = 0
    async with runtime.db.transaction() as conn:
        since = await cursor(conn, "xact")
        until = int(await conn.fetchval(sql("cursor_horizon")))
        if until <= since:
            return 0
        people = await contacts(conn)
        reported: dict[str, tuple[Contact, list[tuple[str, str, bool]]]] = {}
        for event in await conn.fetch(sql("audit_window"), str(since), str(until)):
            work = _report_made(state, conn, people, dict(event.items()))
            for contact, said in await _each(conn, "audit", event["id"], work, []):
                reported.setdefault(contact.who, (contact, []))[1].append(said)
        for contact, reports in reported.values():  # one mail a person a run, however many reports arrived
            await _queue(conn, reports_mail(contact.email, contact.name, reports, base_url(settings)))
            queued += 1
        changed = await conn.fetch(sql("changes_window"), str(since), str(until))
        if changed:
            watching = await _watchers(conn, {uuid.UUID(c["entity_key"]) for c in changed})
            names = names_of(runtime)
            for change in changed:
                found = watching.get(uuid.UUID(change["entity_key"]), [])
                queued += await _each(conn, "changes", change["id"], _changed(state, conn, found, change, names), 0)
        await conn.execute(sql("cursor_move"), "xact", until)
    return queued


async def _each(conn: Connection, log_name: str, row_id: int, work: Coroutine[Any, Any, T], failed: T) -> T:
    """One event's work, in a savepoint: a failure undoes that event's only, and answers `failed`."""
    try:
        async with conn.transaction():
            return await work
    except Exception as e:  # a poison event: logged by id, passed over
        log.error("notifications: %s row %d passed over (%s)", log_name, row_id, type(e).__name__)
        return failed


async def _changed(
    state: State, conn: Connection, watchers: list[tuple[Contact, dt.datetime]], change: Any, names: Mapping[str, str]
) -> int:
    settings = runtime_of(state).settings
    service_id = uuid.UUID(change["entity_key"])
    queued = 0
    for contact, since in watchers:
        if change["at"] <= since:
            continue  # a change from before they watched
        identity = await current(conn, contact)
        if identity is None or not await keeps(state, conn, identity, service_id):
            continue  # a key revoked, or a service no longer theirs
        service = await service_store.get_service(conn, str(service_id))
        fields = msgspec.convert(change["fields"], tuple[FieldChange, ...])
        said = [row for f in fields for row in change_words(f.field, f.old, f.new, names)]
        lines = [f"{question}: {was or 'none'}, now {now or 'none'}" for question, was, now in said]
        mail = change_mail(
            contact.email,
            contact.name,
            service.name,
            service.slug,
            change["version"],
            change["actor"],
            lines,
            base_url(settings),
        )
        await _queue(conn, mail)
        queued += 1
    return queued


async def _report_made(
    state: State, conn: Connection, people: list[Contact], event: Mapping[str, Any]
) -> list[tuple[Contact, tuple[str, str, bool]]]:
    """Who is told of a problem report, and what: the people who keep its service and asked for reports."""
    service_id = event["service_id"]
    try:
        report = await problem_store.get_report(conn, uuid.UUID(event["subject"]))
    except (NotFound, ValueError):
        return []  # deleted since
    told = []
    for contact in people:
        if not contact.problem_reports:
            continue
        identity = await current(conn, contact)
        if identity is None or not await keeps(state, conn, identity, service_id):
            continue
        told.append((contact, (report.service_name, REASON_WORDS[report.reason], bool(report.note))))
    return told


async def _watchers(conn: Connection, services: set[uuid.UUID]) -> dict[uuid.UUID, list[tuple[Contact, dt.datetime]]]:
    """Each service's watchers, with when each began to watch it."""
    found: dict[uuid.UUID, list[tuple[Contact, dt.datetime]]] = {}
    if not services:
        return found
    for row in await conn.fetch(sql("watchers_of"), list(services)):
        record = dict(row.items())
        service_id, since = record.pop("service_id"), record.pop("watched_since")
        found.setdefault(service_id, []).append((msgspec.convert(record, Contact), since))
    return found


async def _queue(conn: Connection, mail: Mail) -> None:
    await defer(conn, SEND_MAIL, {"to": mail.to, "subject": mail.subject, "body": mail.body})


async def digest_once(state: State, today: dt.date | None = None) -> int:
    """Each digest reader's services overdue or due within 14 days, as one mail each; how many were queued."""
    runtime = runtime_of(state)
    settings = runtime.settings
    if not settings.smtp_host:
        return 0
    day = today or london_today(dt.datetime.now(dt.UTC))
    months, queued = settings.review_months, 0
    services = sorted(
        (s for s in runtime.index.services if s is not None and s.status != "closed"),  # a closed one needs no check
        key=lambda s: (s.name.lower(), s.slug),
    )
    async with runtime.db.transaction() as conn:
        for contact in await contacts(conn):
            identity = await current(conn, contact)
            if not contact.review_digest or identity is None:
                continue
            due = []
            for s in services:
                review = review_of(s.verification, day, months)
                soon = review.due is not None and review.due <= day + dt.timedelta(days=DUE_SOON_DAYS)
                if (review.overdue or soon) and await keeps(state, conn, identity, s.id):
                    due.append((s.name, s.slug, review))
            mail = digest_mail(contact.email, contact.name, due, day, base_url(settings))
            if mail is not None:
                await _queue(conn, mail)
                queued += 1
    return queued


# --- sending ----------------------------------------------------------------------------------------------------


def smtp_send(settings: Settings, mail: Mail) -> None:
    """One message over SMTP; any failure raises (and the job is retried)."""
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message.set_content(mail.body, cte="7bit" if mail.body.isascii() else "quoted-printable")
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=30) as client:
        if settings.smtp_starttls:
            client.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            client.login(settings.smtp_user, settings.smtp_password)
        client.send_message(message)


async def send_mail(context: procrastinate.JobContext, to: str, subject: str, body: str) -> None:
    settings = runtime_of(context.additional_context["state"]).settings
    await asyncio.to_thread(smtp_send, settings, Mail(to=to, subject=subject, body=body))
    log.info("mail sent (%s)", subject.split(":")[0])  # never the address or the service


async def notify(context: procrastinate.JobContext, timestamp: int) -> None:
    await notify_once(context.additional_context["state"])


async def review_digest(context: procrastinate.JobContext, timestamp: int) -> None:
    await digest_once(context.additional_context["state"])


async def purge_problem_reports(context: procrastinate.JobContext, timestamp: int) -> None:
    runtime = runtime_of(context.additional_context["state"])
    async with runtime.db.transaction() as conn:
        gone = await problem_store.purge_reports(
            conn, dt.datetime.now(dt.UTC), runtime.settings.problem_report_retention_days
        )
    if gone:
        log.info("deleted %d closed problem reports past their retention period", gone)


def blueprint(settings: Settings) -> procrastinate.Blueprint:
    """The stewardship's tasks, with the notifier's period from the settings."""
    bp = procrastinate.Blueprint()
    bp.task(name="send_mail", pass_context=True, retry=MAIL_RETRY)(send_mail)
    # One notifier runs at a time by its cursors' row locks; the queueing lock keeps a backlog from piling up.
    notifier = bp.task(name="notify", pass_context=True, queueing_lock="notify")(notify)
    bp.periodic(cron=f"* * * * * */{settings.notify_seconds}")(notifier)  # croniter: seconds are the sixth field
    digest = bp.task(name="review_digest", pass_context=True)(review_digest)
    bp.periodic(cron="0 7 * * *")(digest)
    purge = bp.task(name="purge_problem_reports", pass_context=True)(purge_problem_reports)
    bp.periodic(cron="23 * * * *")(purge)
    return bp
