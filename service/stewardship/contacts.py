"""The addresses people gave for notifications, and the services they watch, in PostgreSQL. SQL in sql/*.sql."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from pathlib import Path

import msgspec

from service.domain.access import Identity
from service.stewardship.sessions import Session
from service.store.db import Connection
from service.store.sql import queries

log = logging.getLogger("service.notify")
sql = queries(Path(__file__).parent / "sql")


class Contact(msgspec.Struct, frozen=True, kw_only=True):
    who: str
    name: str
    email: str
    identity: Identity
    key_hash: str | None = None
    problem_reports: bool = True
    review_digest: bool = True


async def contacts(conn: Connection) -> list[Contact]:
    """Everyone who asked for mail; a row that no longer reads as a contact (its identity from an older release,
    say) is logged by whose it is and left out, never holding up everyone else's mail."""
    found = []
    for row in await conn.fetch(sql("contacts_all")):
        try:
            found.append(msgspec.convert(dict(row.items()), Contact))
        except msgspec.ValidationError:
            log.error("notifications: the contact of %s no longer reads; left out", row["who"])
    return found


async def contact_of(conn: Connection, identity: Identity) -> Contact | None:
    row = await conn.fetchrow(sql("contacts_get"), identity.actor)
    return None if row is None else msgspec.convert(dict(row.items()), Contact)


async def save_contact(
    conn: Connection,
    session: Session,
    identity: Identity,
    email: str,
    *,
    problem_reports: bool,
    review_digest: bool,
    now: dt.datetime,
) -> None:
    """Mail for this person, at this address: their identity as signed in (a key's is read again before each
    mail, by its hash)."""
    await conn.execute(
        sql("contacts_upsert"),
        identity.actor,
        identity.name,
        email,
        msgspec.to_builtins(identity),
        session.key_hash,
        problem_reports,
        review_digest,
        now,
    )


async def forget_contact(conn: Connection, identity: Identity) -> None:
    """No more mail (the services watched are forgotten too)."""
    await conn.execute(sql("contacts_delete"), identity.actor)


async def watching(conn: Connection, identity: Identity, service_id: uuid.UUID) -> bool:
    return bool(await conn.fetchval(sql("watches_exists"), service_id, identity.actor))


async def watch(conn: Connection, identity: Identity, service_id: uuid.UUID, on: bool) -> None:
    await conn.execute(sql("watches_add" if on else "watches_remove"), service_id, identity.actor)
