"""Webhook subscriptions, their delivery log, the dispatcher's cursor, and the change log as partners read it: SQL in
sql/, one statement a file."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import asyncpg
import msgspec

from service.domain.access import Identity
from service.domain.errors import Conflict, NotFound
from service.partners.events import ServiceChange
from service.store.db import Connection
from service.store.sql import queries

sql = queries(Path(__file__).parent / "sql")


class Subscription(msgspec.Struct, frozen=True, kw_only=True):
    """A webhook as its key holder sees it: never its secret."""

    id: uuid.UUID
    key_id: uuid.UUID
    """The API key that registered it: its events are those this key may read, and stop when it is revoked."""
    url: str
    events: tuple[str, ...]
    services: tuple[uuid.UUID, ...]
    """Only changes to these services (none: every service its key may read)."""
    active: bool
    """Off when its receiver answered 410 Gone, or failed every attempt at a delivery for a day; on again by PATCH."""
    created_at: dt.datetime
    updated_at: dt.datetime


class CreatedSubscription(Subscription, frozen=True, kw_only=True):
    secret: str
    """The key to verify each delivery's signature with: shown in this answer only."""


class SubscriptionPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[Subscription, ...]
    total: int
    limit: int
    offset: int


class Delivery(msgspec.Struct, frozen=True, kw_only=True):
    """One message to one receiver, and what became of it (its body and the receiver's answers are not shown)."""

    id: uuid.UUID
    message_id: str
    """Its `webhook-id` header: the same on every attempt."""
    type: str
    change_id: int | None
    service_id: uuid.UUID | None
    status: str
    """pending (waiting for its next attempt), sending, delivered, or failed (given up)."""
    attempts: int
    last_status: int | None
    """The status code of the receiver's last answer (none when it gave none)."""
    last_error: str | None
    """Why the last attempt failed, in a few words."""
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime


class DeliveryPage(msgspec.Struct, frozen=True, kw_only=True):
    items: tuple[Delivery, ...]
    total: int
    limit: int
    offset: int


class Receiver(msgspec.Struct, frozen=True, kw_only=True):
    """A subscription switched on, with its key as it is now."""

    id: uuid.UUID
    identity: Identity
    events: frozenset[str]
    services: frozenset[uuid.UUID]
    created_at: dt.datetime
    since: str
    """The snapshot taken when it was registered (`xmin:xmax:xip,…`): the changes not visible in it are sent."""


class NewDelivery(msgspec.Struct, frozen=True, kw_only=True):
    id: uuid.UUID
    subscription_id: uuid.UUID
    change_id: int | None
    type: str
    service_id: uuid.UUID | None
    body: bytes


class Claimed(msgspec.Struct, frozen=True, kw_only=True):
    """A delivery taken to send, with what sending it needs."""

    id: uuid.UUID
    subscription_id: uuid.UUID
    body: bytes
    attempts: int
    created_at: dt.datetime
    url: str
    secret: str
    active: bool
    key_stands: bool


def _subscription(row: asyncpg.Record) -> Subscription:
    return msgspec.convert({k: row[k] for k in Subscription.__struct_fields__}, Subscription)


def _delivery(row: asyncpg.Record) -> Delivery:
    fields = {k: row[k] for k in Delivery.__struct_fields__ if k not in ("type", "message_id")}
    return Delivery(**fields, type=row["event_type"], message_id=f"msg_{row['id'].hex}")


# --- subscriptions ------------------------------------------------------------------------------------------------


async def count_for_key(conn: Connection, key_id: uuid.UUID) -> int:
    """How many subscriptions the key has, holding its registrations back until this transaction ends."""
    await conn.execute(sql("subscriptions_lock_key"), key_id)
    return int(await conn.fetchval(sql("subscriptions_count"), key_id))


async def unknown_services(conn: Connection, ids: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    found = {r["id"] for r in await conn.fetch(sql("services_known"), list(ids))}
    return [i for i in ids if i not in found]


async def create_subscription(
    conn: Connection,
    *,
    key_id: uuid.UUID,
    url: str,
    events: Sequence[str],
    services: Sequence[uuid.UUID],
    secret: str,
) -> CreatedSubscription:
    try:
        async with conn.transaction():
            row = await conn.fetchrow(
                sql("subscriptions_insert"), uuid.uuid4(), key_id, url, list(events), list(services), secret
            )
    except asyncpg.UniqueViolationError:
        raise Conflict("url", "this key already has a webhook for this URL") from None
    assert row is not None
    return CreatedSubscription(**msgspec.structs.asdict(_subscription(row)), secret=secret)


async def list_subscriptions(
    conn: Connection, owner: uuid.UUID | None, limit: int, offset: int
) -> tuple[list[Subscription], int]:
    rows = await conn.fetch(sql("subscriptions_list"), owner, limit, offset)
    total = int(rows[0]["total"]) if rows else 0
    return [_subscription(r) for r in rows if r["id"] is not None], total


async def get_subscription(conn: Connection, subscription_id: uuid.UUID, owner: uuid.UUID | None) -> Subscription:
    row = await conn.fetchrow(sql("subscriptions_get"), subscription_id, owner)
    if row is None:
        raise NotFound("webhook", str(subscription_id))
    return _subscription(row)


async def delete_subscription(conn: Connection, subscription_id: uuid.UUID, owner: uuid.UUID | None) -> Subscription:
    row = await conn.fetchrow(sql("subscriptions_delete"), subscription_id, owner)
    if row is None:
        raise NotFound("webhook", str(subscription_id))
    return _subscription(row)


async def update_subscription(
    conn: Connection,
    subscription_id: uuid.UUID,
    owner: uuid.UUID | None,
    *,
    events: Sequence[str] | None,
    services: Sequence[uuid.UUID] | None,
    active: bool | None,
) -> Subscription:
    row = await conn.fetchrow(
        sql("subscriptions_update"),
        subscription_id,
        owner,
        None if events is None else list(events),
        None if services is None else list(services),
        active,
    )
    if row is None:
        raise NotFound("webhook", str(subscription_id))
    return _subscription(row)


async def receivers(conn: Connection) -> list[Receiver]:
    return [
        Receiver(
            id=r["id"],
            identity=Identity(
                kind="key",
                id=str(r["key_id"]),
                name=r["name"],
                role=r["role"],
                areas=frozenset(r["area_codes"]),
                services=frozenset(str(s) for s in r["service_ids"]),
            ),
            events=frozenset(r["events"]),
            services=frozenset(r["services"]),
            created_at=r["created_at"],
            since=r["since"],
        )
        for r in await conn.fetch(sql("subscriptions_receiving"))
    ]


async def switch_off(conn: Connection, subscription_id: uuid.UUID) -> bool:
    return await conn.fetchval(sql("subscriptions_switch_off"), subscription_id) is not None


async def switch_off_if_silent(conn: Connection, subscription_id: uuid.UUID, since: dt.datetime) -> bool:
    return await conn.fetchval(sql("subscriptions_switch_off_if_silent"), subscription_id, since) is not None


# --- deliveries ---------------------------------------------------------------------------------------------------


async def add_deliveries(conn: Connection, made: Sequence[NewDelivery]) -> list[uuid.UUID]:
    """Those not already made for the same subscription and change; the ids of the ones made now."""
    if not made:
        return []
    rows = await conn.fetch(
        sql("deliveries_insert"),
        [d.id for d in made],
        [d.subscription_id for d in made],
        [d.change_id for d in made],
        [d.type for d in made],
        [d.service_id for d in made],
        [d.body.decode() for d in made],
    )
    return [r["id"] for r in rows]


async def queue_deliveries(
    conn: Connection, queue: str, task: str, ids: Sequence[uuid.UUID], at: dt.datetime | None = None
) -> None:
    """A job for each delivery, in this transaction: it exists if and only if the transaction commits."""
    if ids:
        await conn.execute(sql("deliveries_defer"), queue, task, [str(i) for i in ids], at)


async def claim(conn: Connection, delivery_id: uuid.UUID, lease_seconds: float) -> Claimed | None:
    row = await conn.fetchrow(sql("deliveries_claim"), delivery_id, lease_seconds)
    if row is None:
        return None
    values: dict[str, Any] = dict(row.items())
    values["body"] = values["body"].encode()
    return msgspec.convert(values, Claimed)


async def record(
    conn: Connection,
    claimed: Claimed,
    status: str,
    *,
    last_status: int | None,
    last_error: str | None,
    wait: float = 0.0,
) -> dt.datetime | None:
    """What the claimed attempt came to; when the next attempt is due (None when another attempt took it over)."""
    found: dt.datetime | None = await conn.fetchval(
        sql("deliveries_record"), claimed.id, claimed.attempts, status, last_status, last_error, float(wait)
    )
    return found


async def deliveries(
    conn: Connection, subscription_id: uuid.UUID, limit: int, offset: int
) -> tuple[list[Delivery], int]:
    rows = await conn.fetch(sql("deliveries_list"), subscription_id, limit, offset)
    total = int(rows[0]["total"]) if rows else 0
    return [_delivery(r) for r in rows if r["id"] is not None], total


async def purge_deliveries(conn: Connection, days: int, batch: int) -> int:
    status: str = await conn.execute(sql("deliveries_purge"), days, batch)
    return int(status.split()[-1])


async def orphaned(conn: Connection, lease_seconds: float, limit: int, task: str) -> list[uuid.UUID]:
    return [r["id"] for r in await conn.fetch(sql("deliveries_orphaned"), lease_seconds, limit, task)]


async def ping_waiting(conn: Connection, subscription_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(sql("deliveries_recent_ping"), subscription_id))


# --- the change log, as partners read it ---------------------------------------------------------------------------


async def lock_cursor(conn: Connection) -> int | None:
    """The cursor, locked for this transaction; None when another replica's dispatcher holds it."""
    await conn.execute(sql("cursor_ensure"))
    value = await conn.fetchval(sql("cursor_lock"))
    return None if value is None else int(value)


async def horizon(conn: Connection) -> int:
    """The oldest transaction on this database still running (or the next to start): every one before it has
    finished, so the rows of those are all there is to read."""
    return int(await conn.fetchval(sql("cursor_horizon")))


async def move_cursor(conn: Connection, to: int) -> None:
    await conn.execute(sql("cursor_move"), to)


def _change(row: asyncpg.Record) -> ServiceChange:
    return msgspec.convert(dict(row.items()), ServiceChange)


async def changes_window(conn: Connection, since: int, until: int) -> list[asyncpg.Record]:
    """The rows of the changes to services written by the transactions in [since, until); each becomes a
    ServiceChange by `service_change` (one at a time, so that one row that cannot is passed over alone)."""
    return list(await conn.fetch(sql("changes_window"), str(since), str(until)))


def service_change(row: asyncpg.Record) -> tuple[ServiceChange, int]:
    """A change in the window, with the transaction that wrote it."""
    values = dict(row.items())
    xact = int(values.pop("xact"))
    return msgspec.convert(values, ServiceChange), xact


async def recent_changes(conn: Connection, before: int | None, limit: int) -> list[ServiceChange]:
    """The feed's page: finished changes only, newest transaction first (sql/changes_feed.sql says why)."""
    return [_change(r) for r in await conn.fetch(sql("changes_feed"), before, limit, str(await horizon(conn)))]
