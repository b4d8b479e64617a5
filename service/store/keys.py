"""API keys: created (the key shown once), listed without secrets, revoked, and looked up by hash."""

from __future__ import annotations

import datetime as dt
import uuid

import asyncpg
import msgspec

from service.domain.access import AREA_ROLES, Identity, Role, hash_key, new_key
from service.domain.errors import NotFound
from service.store.areas import existing_codes
from service.store.db import Connection
from service.store.sql import sql


class ApiKey(msgspec.Struct, frozen=True, kw_only=True):
    """A key as listed: never the secret, only its first characters."""

    id: uuid.UUID
    name: str
    role: Role
    area_codes: tuple[str, ...]
    service_ids: tuple[uuid.UUID, ...]
    prefix: str
    created_at: dt.datetime
    created_by: str
    revoked_at: dt.datetime | None


class CreatedKey(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    """The secret: shown once, never stored."""
    details: ApiKey


def _key(row: asyncpg.Record) -> ApiKey:
    return msgspec.convert(dict(row.items()), ApiKey)


async def create_key(
    conn: Connection,
    *,
    name: str,
    role: Role,
    area_codes: tuple[str, ...] = (),
    service_ids: tuple[uuid.UUID, ...] = (),
    created_by: str,
) -> CreatedKey:
    from service.domain.errors import FieldProblem, InvalidInput

    service_ids = tuple(uuid.UUID(str(s)) for s in service_ids)
    problems = [
        FieldProblem(field="area_codes", reason=f"unknown area code {c!r}")
        for c in sorted(set(area_codes) - await existing_codes(conn, list(area_codes)))
    ]
    if role in AREA_ROLES and not area_codes:
        problems.append(
            FieldProblem(
                field="area_codes", reason=f"{'an' if role[0] in 'aeiou' else 'a'} {role} key needs at least one area"
            )
        )
    if role == "provider" and not service_ids:
        problems.append(FieldProblem(field="service_ids", reason="a provider key needs at least one service"))
    if service_ids:
        found = {
            r["id"] for r in await conn.fetch("select id from services where id = any($1::uuid[])", list(service_ids))
        }
        problems += [
            FieldProblem(field="service_ids", reason=f"unknown service {s}") for s in service_ids if s not in found
        ]
    if problems:
        raise InvalidInput(tuple(problems))
    secret = new_key()
    row = await conn.fetchrow(
        sql("keys_insert"),
        uuid.uuid4(),
        name,
        role,
        list(area_codes),
        list(service_ids),
        hash_key(secret),
        secret[:12],
        created_by,
    )
    assert row is not None
    return CreatedKey(key=secret, details=_key(row))


async def list_keys(conn: Connection) -> list[ApiKey]:
    return [_key(r) for r in await conn.fetch(sql("keys_list"))]


async def revoke_key(conn: Connection, key_id: uuid.UUID) -> ApiKey:
    row = await conn.fetchrow(sql("keys_revoke"), key_id)
    if row is None:
        raise NotFound("key", str(key_id))
    return _key(row)


def _identity(row: asyncpg.Record) -> Identity:
    return Identity(
        kind="key",
        id=str(row["id"]),
        name=row["name"],
        role=row["role"],
        areas=frozenset(row["area_codes"]),
        services=frozenset(str(s) for s in row["service_ids"]),
    )


async def identity_for_key(conn: Connection, secret: str) -> Identity | None:
    row = await conn.fetchrow(sql("keys_by_hash"), hash_key(secret))
    return None if row is None else _identity(row)


async def identities_for_hashes(conn: Connection, digests: list[str]) -> dict[str, Identity | None]:
    """The identity behind each key hash, or None for an unknown or revoked key: one query for many keys."""
    rows = await conn.fetch(sql("keys_by_hashes"), digests)
    found: dict[str, Identity | None] = dict.fromkeys(digests)
    found.update({r["key_hash"]: _identity(r) for r in rows})
    return found
