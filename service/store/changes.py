"""The change log: one row per write, with the changed fields. Its highest id is the directory version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from service.domain.history import field_changes
from service.domain.model import Change, ChangeEntry, FieldChange
from service.store.db import Connection, Database
from service.store.sql import sql


async def record_change(
    conn: Connection,
    *,
    actor: str,
    entity: str,
    key: str,
    operation: str,
    version: int,
    old: dict[str, Any] | None,
    new: dict[str, Any],
) -> tuple[FieldChange, ...]:
    changes = field_changes(old, new)
    await conn.execute(sql("changes_insert"), actor, entity, key, operation, version, changes)
    return changes


def _change(row: Any) -> dict[str, Any]:
    fields = msgspec.convert(row["fields"], tuple[FieldChange, ...])
    return {k: row[k] for k in ("id", "at", "actor", "operation", "version")} | {"changes": fields}


async def history(conn: Connection, entity: str, key: str) -> list[Change]:
    return [Change(**_change(r)) for r in await conn.fetch(sql("changes_for_entity"), entity, key)]


class ChangeFilter(msgspec.Struct, frozen=True, kw_only=True):
    after: int = 0
    actor: str | None = None
    key_id: str | None = None
    """A key's id: matches the actor names the history gives its writes, `key:<name> (<first 8 of the id>)`."""
    entity: str | None = None
    limit: int = 100


async def changes(conn: Connection, f: ChangeFilter) -> list[ChangeEntry]:
    """The change log in order, for admins: who wrote what, across every record."""
    like = f"key:% ({f.key_id[:8]})" if f.key_id else None
    rows = await conn.fetch(sql("changes_list"), f.after, f.actor, like, f.entity, f.limit)
    return [ChangeEntry(**_change(r), entity=r["entity"], key=r["entity_key"]) for r in rows]


async def directory_version(conn: Connection) -> int:
    value = await conn.fetchval(sql("directory_version"))
    return int(value)


class Notice(msgspec.Struct, frozen=True):
    """One committed write, as the change feed announces it (the changes table's trigger)."""

    id: int
    entity: str
    key: str
    version: int
    at: float = 0.0
    """When the change was logged, in seconds since the epoch (the database's clock): the feed's lag is measured
    from it. Absent from notices sent before migration 0009."""


class Listener:
    """A connection of its own LISTENing on the change feed; `on_notice` runs on the event loop for each write."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def is_closed(self) -> bool:
        return bool(self._conn.is_closed())

    async def close(self) -> None:
        await self._conn.close()


CHANNEL = "directory_changes"


async def listen(db: Database, on_notice: Callable[[Notice], None]) -> Listener:
    """Start listening: every committed write's notice reaches `on_notice`, in commit order, until closed. A notice
    that cannot be read (not one of ours) is ignored."""
    conn = await db.connect()

    def notified(_: object, __: int, ___: str, payload: object) -> None:
        try:
            notice = msgspec.json.decode(str(payload), type=Notice)
        except msgspec.DecodeError:
            return
        on_notice(notice)

    await conn.add_listener(CHANNEL, notified)
    return Listener(conn)
