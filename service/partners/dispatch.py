"""Webhooks, as jobs on the server's queue (service/server/jobs.py).

- `dispatch`, every PATHWAYS_WEBHOOKS_SECONDS, in one replica at a time (its cursor's row lock): reads the changes to
  services written by the transactions finished since its last run (by transaction, up to the oldest still running
  on this database, as the stewardship's notifier reads them: a change whose transaction commits late is read in a
  later run, never passed by; a transaction left open on another database of the same server holds nothing back),
  makes a delivery for each subscription that is sent it, and queues a `deliver` job for each, in the same
  transaction as it moves its cursor. A delivery is unique per subscription and change: however many replicas
  run, and even if a window were read twice, one change is queued once for one receiver.
- `deliver`: takes the delivery (one attempt more, committed before sending: two workers never send it at once),
  sends it, and records what came of it; a failure queues the next attempt, on the schedule, in the transaction that
  records it. A replica that stops mid-send leaves the delivery taken: after a lease it is taken again and sent with
  the same webhook-id and body (a receiver that has it already can tell), so a delivery is never lost, and is sent
  twice only when a replica died between sending it and recording that it had.
- `purge_deliveries`, hourly: the log keeps finished deliveries for DELIVERY_LOG_DAYS.

Logs name a subscription and a delivery by id, with the status code: never a URL (its query string may hold a
receiver's token), a secret, or a body.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

import procrastinate
from litestar.datastructures import State

from service.partners import store
from service.partners.deliveries import Delivered, GiveUp, TryAgain, outcome, parse_waits, visible_in
from service.partners.events import (
    EventType,
    PingData,
    PingEvent,
    ServiceChange,
    body,
    change_event,
    event_for,
    receives,
)
from service.partners.events import message_id as message_id_of
from service.partners.sending import WHOLE_SECONDS, send
from service.server.runtime import runtime_of
from service.settings import Settings, SettingsError
from service.store.db import Connection

log = logging.getLogger("service.webhooks")
NAMESPACE = "webhooks"
QUEUE = "webhooks"
DELIVER = f"{NAMESPACE}:deliver"
LEASE_SECONDS = 3 * WHOLE_SECONDS
"""A delivery taken this long ago and not recorded was being sent by a replica that stopped: it is taken again."""
DELIVERY_LOG_DAYS = 30
BATCH = 1000
PURGE_BATCH = 10_000
JOB_RETRY = procrastinate.RetryStrategy(max_attempts=30, wait=5, exponential_wait=2)
"""A `deliver` job that fails (the database went away) runs again: taking a delivery twice is harmless."""


def base_url(settings: Settings) -> str:
    """Where the links in a message point: the deployment's public URL (set it), or the server's own address."""
    return settings.public_url or f"http://{settings.host}:{settings.port}"


def waits(settings: Settings) -> tuple[int, ...]:
    try:
        return parse_waits(settings.webhooks_retry_seconds)
    except ValueError as e:
        raise SettingsError(f"PATHWAYS_WEBHOOKS_RETRY_SECONDS={settings.webhooks_retry_seconds!r}: {e}") from None


# --- turning changes into deliveries ------------------------------------------------------------------------------


async def dispatch_once(state: State) -> int:
    """Deliveries for what the transactions finished since the last run wrote; how many were queued."""
    runtime = runtime_of(state)
    base = base_url(runtime.settings)
    async with runtime.db.transaction() as conn:
        since = await store.lock_cursor(conn)
        if since is None:
            return 0  # another replica is dispatching now
        until = await store.horizon(conn)
        if until <= since:
            return 0
        queued = 0
        receivers = await store.receivers(conn)
        if receivers:
            made: list[store.NewDelivery] = []
            for row in await store.changes_window(conn, since, until):
                try:
                    made += _deliveries(*store.service_change(row), receivers, base)
                except Exception as e:  # a poison row: logged by id, passed over, never holding up the rest
                    log.error("webhooks: change %s passed over (%s)", row["id"], type(e).__name__)
                if len(made) >= BATCH:  # an import's thousands of changes are written a batch at a time
                    queued += await _queue(conn, made)
                    made = []
            queued += await _queue(conn, made)
        await store.move_cursor(conn, until)
    return queued


async def _queue(conn: Connection, made: list[store.NewDelivery]) -> int:
    ids = await store.add_deliveries(conn, made)
    await store.queue_deliveries(conn, QUEUE, DELIVER, ids)
    return len(ids)


def _deliveries(
    change: ServiceChange, xact: int, receivers: list[store.Receiver], base: str
) -> list[store.NewDelivery]:
    made = []
    for receiver in receivers:
        # By the snapshot taken at registration, not by clock: a change whose transaction was running when the
        # subscription was made, and committed after, is sent (a partner registering, then reading everything, misses
        # nothing); one visible then is not (the partner can read it).
        if visible_in(receiver.since, xact) or not receives(receiver.identity, receiver.services, change):
            continue  # a change from before the subscription, or about a service it is not sent
        kind: EventType | None = event_for(change, receiver.events)
        if kind is None:
            continue
        made.append(
            store.NewDelivery(
                id=uuid.uuid4(),
                subscription_id=receiver.id,
                change_id=change.id,
                type=kind,
                service_id=change.service_id,
                body=body(change_event(change, kind, base)),
            )
        )
    return made


async def ping(conn: Connection, subscription_id: uuid.UUID) -> uuid.UUID:
    """A `webhook.ping` to one subscription, queued in the caller's transaction; the delivery's id."""
    delivery_id = uuid.uuid4()
    event = PingEvent(timestamp=dt.datetime.now(dt.UTC), data=PingData(subscription_id=subscription_id))
    made = store.NewDelivery(
        id=delivery_id,
        subscription_id=subscription_id,
        change_id=None,
        type=event.type,
        service_id=None,
        body=body(event),
    )
    await store.queue_deliveries(conn, QUEUE, DELIVER, await store.add_deliveries(conn, [made]))
    return delivery_id


# --- sending ------------------------------------------------------------------------------------------------------


async def deliver_once(state: State, delivery_id: uuid.UUID) -> str | None:
    """One attempt at a delivery, if it is due and nobody else is sending it; what became of it."""
    runtime = runtime_of(state)
    settings = runtime.settings
    async with runtime.db.transaction() as conn:
        claimed = await store.claim(conn, delivery_id, LEASE_SECONDS)
        if claimed is None:
            return None  # delivered, given up, not yet due, or being sent by another worker
        if not (claimed.active and claimed.key_stands):
            why = "not sent: the subscription is switched off" if claimed.key_stands else "not sent: its key is revoked"
            await store.record(conn, claimed, "failed", last_status=None, last_error=why)
            return "failed"
    attempt = await send(
        claimed.url, claimed.secret, message_id_of(claimed.id), claimed.body, settings.webhooks_allow_private
    )
    result = outcome(attempt, claimed.attempts, waits(settings))
    async with runtime.db.transaction() as conn:
        match result:
            case Delivered(status=status):
                await store.record(conn, claimed, "delivered", last_status=status, last_error=None)
                log.info(
                    "webhook delivered: subscription %s, delivery %s, %d", claimed.subscription_id, claimed.id, status
                )
                return "delivered"
            case TryAgain(wait=wait, status=status, error=error):
                due = await store.record(conn, claimed, "pending", last_status=status, last_error=error, wait=wait)
                if due is not None:
                    await store.queue_deliveries(conn, QUEUE, DELIVER, [claimed.id], due)
                log.warning(
                    "webhook attempt %d failed: subscription %s, delivery %s, %s; next in %d s",
                    claimed.attempts,
                    claimed.subscription_id,
                    claimed.id,
                    status if status is not None else "no answer",
                    wait,
                )
                return "pending"
            case GiveUp(status=status, error=error, gone=gone):
                await store.record(conn, claimed, "failed", last_status=status, last_error=error)
                if gone:
                    off = await store.switch_off(conn, claimed.subscription_id)
                else:
                    off = await store.switch_off_if_silent(conn, claimed.subscription_id, claimed.created_at)
                log.warning(
                    "webhook given up after %d attempts: subscription %s, delivery %s, %s%s",
                    claimed.attempts,
                    claimed.subscription_id,
                    claimed.id,
                    status if status is not None else "no answer",
                    "; subscription switched off" if off else "",
                )
                return "failed"


async def dispatch(context: procrastinate.JobContext, timestamp: int) -> None:
    await dispatch_once(context.additional_context["state"])


async def deliver(context: procrastinate.JobContext, delivery_id: str) -> None:
    await deliver_once(context.additional_context["state"], uuid.UUID(delivery_id))


async def purge_deliveries(context: procrastinate.JobContext, timestamp: int) -> None:
    runtime = runtime_of(context.additional_context["state"])
    gone = 0
    while True:  # a batch a transaction: a log grown large by an import is cut down however long it has grown
        async with runtime.db.transaction() as conn:
            deleted = await store.purge_deliveries(conn, DELIVERY_LOG_DAYS, PURGE_BATCH)
        gone += deleted
        if deleted < PURGE_BATCH:
            break
    if gone:
        log.info("deleted %d finished webhook deliveries past %d days", gone, DELIVERY_LOG_DAYS)


async def sweep_once(state: State) -> int:
    """Queue a job for each delivery no job will take; how many. A `deliver` job that ran while another sender held
    the delivery's lease (a retry soon after a restart, or after the database failed mid-record) ended without a
    job; so did one lost with a replica that died. The delivery waits here for the next minute, and is then sent again
    with the same webhook-id and body."""
    runtime = runtime_of(state)
    async with runtime.db.transaction() as conn:
        ids = await store.orphaned(conn, LEASE_SECONDS, BATCH, DELIVER)
        await store.queue_deliveries(conn, QUEUE, DELIVER, ids)
    if ids:
        log.warning("webhooks: %d delivery(ies) with no job queued again", len(ids))
    return len(ids)


async def sweep(context: procrastinate.JobContext, timestamp: int) -> None:
    await sweep_once(context.additional_context["state"])


def blueprint(settings: Settings) -> procrastinate.Blueprint:
    """The webhooks' tasks, with the dispatcher's period from the settings."""
    waits(settings)  # a schedule that cannot be read stops the server at its start, not at the first failure
    bp = procrastinate.Blueprint()
    bp.task(name="deliver", pass_context=True, queue=QUEUE, retry=JOB_RETRY)(deliver)
    # One dispatcher runs at a time by its cursor's row lock; the queueing lock keeps a backlog from piling up.
    dispatcher = bp.task(name="dispatch", pass_context=True, queue=QUEUE, queueing_lock="webhooks-dispatch")(dispatch)
    bp.periodic(cron=f"* * * * * */{settings.webhooks_seconds}")(dispatcher)
    purge = bp.task(name="purge_deliveries", pass_context=True, queue=QUEUE)(purge_deliveries)
    bp.periodic(cron="37 * * * *")(purge)
    sweeper = bp.task(name="sweep", pass_context=True, queue=QUEUE, queueing_lock="webhooks-sweep")(sweep)
    bp.periodic(cron="* * * * *")(sweeper)
    return bp
