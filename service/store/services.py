"""Services: read, list, and every write with its version bump and change record."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import msgspec

from service.domain.errors import Conflict, FieldProblem, InvalidInput, PreconditionFailed
from service.domain.model import AreaCatchment, Capacity, Change, Service, ServiceBody, Taxonomies, Verification
from service.domain.patch import ServicePatch
from service.domain.validation import review_by_problems, service_problems
from service.domain.versioning import apply_patch, etag, if_match_allows
from service.store import changes
from service.store.db import Connection, fetch_by_id_or_slug, translate_errors
from service.store.sql import sql

Authorise = Callable[[ServiceBody], Awaitable[None]]
"""Called with every body a write touches (the current one and the new one); raises when not allowed."""


async def _allow(authorise: Authorise | None, *bodies: ServiceBody) -> None:
    if authorise is not None:
        for body in bodies:
            await authorise(body)


class ServiceFilter(msgspec.Struct, frozen=True, kw_only=True):
    kind: str | None = None
    area: str | None = None
    need: str | None = None
    context: str | None = None
    status: str | None = None
    text: str | None = None
    limit: int = 50
    offset: int = 0


def _from_row(row: asyncpg.Record) -> Service:
    return msgspec.convert(
        {
            **row["body"],
            "id": row["id"],
            "version": row["version"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
        },
        Service,
    )


def body_of(service: ServiceBody) -> ServiceBody:
    """Just the editable fields of a stored service or an import record."""
    return ServiceBody(**{f: getattr(service, f) for f in ServiceBody.__struct_fields__})


def _like_escape(text: str) -> str:
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _columns(body: ServiceBody) -> tuple[Any, ...]:
    codes = list(body.catchment.codes) if isinstance(body.catchment, AreaCatchment) else []
    search = " ".join((body.slug, body.name, body.organisation, body.description)).lower()
    return (
        body.slug,
        body.name,
        body.kind,
        body.status,
        list(body.contexts),
        list(body.eligibility.needs),
        codes,
        search,
        body,
    )


async def list_services(conn: Connection, f: ServiceFilter) -> tuple[list[Service], int]:
    text = _like_escape(f.text) if f.text else None
    rows = await conn.fetch(sql("services_list"), f.kind, f.area, f.need, f.context, f.status, text, f.limit, f.offset)
    total = int(rows[0]["total"]) if rows else 0
    return [_from_row(r) for r in rows if r["id"] is not None], total


async def get_service(conn: Connection, key: str) -> Service:
    """By id or by slug."""
    return _from_row(await fetch_by_id_or_slug(conn, "service", key))


async def lock_service(conn: Connection, key: str) -> Service:
    """The service, locked FOR UPDATE until the transaction ends."""
    current = await get_service(conn, key)
    row = await conn.fetchrow(sql("services_lock"), current.id)
    assert row is not None
    return _from_row(row)


async def missing_area_problems(
    conn: Connection, body: ServiceBody, extra_codes: frozenset[str] = frozenset()
) -> list[FieldProblem]:
    if not isinstance(body.catchment, AreaCatchment):
        return []
    codes = body.catchment.codes
    found = {r["code"] for r in await conn.fetch(sql("areas_existing_codes"), list(codes))} | extra_codes
    return [
        FieldProblem(field=f"catchment.codes[{i}]", reason=f"unknown area code {code!r}")
        for i, code in enumerate(codes)
        if code not in found
    ]


async def check_service(conn: Connection, body: ServiceBody, vocab: Taxonomies) -> None:
    problems = service_problems(body, vocab.needs.codes(), vocab.circumstances.codes(), dt.datetime.now(dt.UTC))
    problems += await missing_area_problems(conn, body)
    if problems:
        raise InvalidInput(tuple(problems))


async def _check_slug_free(conn: Connection, slug: str, own_id: uuid.UUID | None) -> None:
    owner = await conn.fetchval(sql("services_slug_owner"), slug)
    if owner is not None and owner != own_id:
        raise Conflict("slug", f"slug {slug!r} is already used by service {owner}")


async def _write(
    conn: Connection,
    body: ServiceBody,
    *,
    current: Service | None,
    new_id: uuid.UUID | None,
    actor: str,
    operation: str,
) -> Service:
    """Insert (current is None) or update one already-checked service, and record the change."""
    old = msgspec.to_builtins(body_of(current)) if current is not None else None
    new = msgspec.to_builtins(body)
    if current is not None and old == new:
        return current
    await _check_slug_free(conn, body.slug, current.id if current else None)
    with translate_errors():
        if current is None:
            row = await conn.fetchrow(sql("services_insert"), new_id or uuid.uuid4(), *_columns(body))
        else:
            row = await conn.fetchrow(sql("services_update"), current.id, *_columns(body))
    assert row is not None
    service = _from_row(row)
    await changes.record_change(
        conn,
        actor=actor,
        entity="service",
        key=str(service.id),
        operation=operation,
        version=service.version,
        old=old,
        new=new,
    )
    return service


async def insert_service(
    conn: Connection, body: ServiceBody, *, actor: str, service_id: uuid.UUID | None = None, operation: str = "create"
) -> Service:
    """Write a new, already-checked service."""
    return await _write(conn, body, current=None, new_id=service_id, actor=actor, operation=operation)


async def overwrite_service(
    conn: Connection, current: Service, body: ServiceBody, *, actor: str, operation: str
) -> Service:
    """Write an already-checked body over a locked service; an identical body changes nothing."""
    return await _write(conn, body, current=current, new_id=None, actor=actor, operation=operation)


async def create_service(
    conn: Connection, body: ServiceBody, *, actor: str, vocab: Taxonomies, authorise: Authorise | None = None
) -> Service:
    await check_service(conn, body, vocab)
    await _allow(authorise, body)
    return await insert_service(conn, body, actor=actor)


async def _locked_for_write(conn: Connection, key: str, if_match: str | None) -> Service:
    current = await lock_service(conn, key)
    if not if_match_allows(if_match, current.version):
        raise PreconditionFailed(etag(current.version))
    return current


async def replace_service(
    conn: Connection,
    key: str,
    body: ServiceBody,
    *,
    actor: str,
    vocab: Taxonomies,
    if_match: str | None,
    authorise: Authorise | None = None,
) -> Service:
    current = await _locked_for_write(conn, key, if_match)
    await check_service(conn, body, vocab)
    await _allow(authorise, body_of(current), body)
    return await overwrite_service(conn, current, body, actor=actor, operation="replace")


async def update_service(
    conn: Connection,
    key: str,
    patch: ServicePatch,
    *,
    actor: str,
    vocab: Taxonomies,
    if_match: str | None,
    authorise: Authorise | None = None,
) -> Service:
    current = await _locked_for_write(conn, key, if_match)
    body = apply_patch(body_of(current), patch)
    await check_service(conn, body, vocab)
    await _allow(authorise, body_of(current), body)
    return await overwrite_service(conn, current, body, actor=actor, operation="update")


async def delete_service(
    conn: Connection, key: str, *, actor: str, if_match: str | None, authorise: Authorise | None = None
) -> Service:
    """Soft delete: the service is closed and keeps its history."""
    current = await _locked_for_write(conn, key, if_match)
    await _allow(authorise, body_of(current))
    body = msgspec.structs.replace(body_of(current), status="closed")
    return await overwrite_service(conn, current, body, actor=actor, operation="delete")


async def set_capacity(
    conn: Connection, key: str, capacity: Capacity, *, actor: str, if_match: str | None, authorise: Authorise
) -> Service:
    """Only the capacity changes; after `until` it reads as unknown."""
    current = await _locked_for_write(conn, key, if_match)
    await authorise(body_of(current))
    body = msgspec.structs.replace(body_of(current), capacity=capacity)
    return await overwrite_service(conn, current, body, actor=actor, operation="update")


async def mark_verified(
    conn: Connection,
    key: str,
    *,
    by: str,
    actor: str,
    if_match: str | None,
    authorise: Authorise,
    review_by: dt.date | None = None,
) -> Service:
    """Checked now, by `by`; with a sooner date to check again, when given (a check replaces the last one's)."""
    now = dt.datetime.now(dt.UTC)
    if problems := review_by_problems(now, review_by, "review_by"):
        raise InvalidInput(tuple(problems))
    current = await _locked_for_write(conn, key, if_match)
    await authorise(body_of(current))
    verified = Verification(verified_at=now, verified_by=by, review_by=review_by)
    body = msgspec.structs.replace(body_of(current), verification=verified)
    return await overwrite_service(conn, current, body, actor=actor, operation="update")


async def service_history(conn: Connection, key: str) -> list[Change]:
    service = await get_service(conn, key)
    return await changes.history(conn, "service", str(service.id))


async def all_services(conn: Connection) -> list[Service]:
    return [_from_row(r) for r in await conn.fetch(sql("services_all"))]


@dataclass(frozen=True)
class StoredText:
    """A service row with its document still JSON text, so that decoding can happen off the event loop."""

    id: uuid.UUID
    body: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    xmin: int = 0
    """The row's version in PostgreSQL (its xmin), when asked for: what a local copy of the directory is checked
    against (service/store/local_snapshot.py)."""


async def services_as_text(conn: Connection, ids: Sequence[uuid.UUID] | None = None) -> list[StoredText]:
    """These services' rows (every service when ids is None), undecoded; an id with no row is simply absent."""
    if ids is None:
        rows = await conn.fetch(sql("services_all_text"))
    else:
        rows = await conn.fetch(sql("services_by_ids"), list(ids))
    return [_stored_text(r) for r in rows]


async def services_marked(conn: Connection, ids: Sequence[uuid.UUID]) -> list[StoredText]:
    """These services' rows, undecoded, with their row versions; an id with no row is simply absent."""
    return [_stored_text(r) for r in await conn.fetch(sql("services_by_ids_marked"), list(ids))]


async def service_marks(conn: Connection) -> dict[uuid.UUID, int]:
    """Every service's row version (its xmin), by id."""
    return {r["id"]: r["xmin"] for r in await conn.fetch(sql("services_marks"))}


async def services_in_chunks(conn: Connection, size: int, marked: bool = False) -> AsyncIterator[list[StoredText]]:
    """Every service's row, undecoded, `size` at a time, in slug order (inside a transaction: a cursor), with their
    row versions when `marked`. The next chunk is asked for before this one is handed over, so that PostgreSQL
    produces it while the caller works on this one (decoding it, at start-up) in the same thread."""
    cursor = await conn.cursor(sql("services_all_marked" if marked else "services_all_text"))
    fetching = asyncio.ensure_future(cursor.fetch(size))
    try:
        while rows := await fetching:
            fetching = asyncio.ensure_future(cursor.fetch(size))
            await asyncio.sleep(0)  # the request for the next chunk goes out now
            yield [_stored_text(r) for r in rows]
    finally:
        if not fetching.done():  # the caller stopped early: the connection is theirs to close
            fetching.cancel()
            await asyncio.gather(fetching, return_exceptions=True)


def _stored_text(r: asyncpg.Record) -> StoredText:
    return StoredText(r["id"], r["body"], r["version"], r["created_at"], r["updated_at"], r.get("xmin", 0))


def decode_services(rows: Sequence[StoredText]) -> tuple[list[Service], list[str]]:
    """The services whose stored documents decode, and the ids of any that do not: one damaged row (written by an
    older version, or by hand) must never take the search index down with it. Pure: run it off the event loop."""
    services: list[Service] = []
    damaged: list[str] = []
    for row in rows:
        try:
            document = msgspec.json.decode(row.body)
            stored = {"id": row.id, "version": row.version, "created_at": row.created_at, "updated_at": row.updated_at}
            services.append(msgspec.convert({**document, **stored}, Service))
        except (msgspec.ValidationError, msgspec.DecodeError, TypeError):
            damaged.append(str(row.id))
    return services, damaged


async def readable_services(conn: Connection) -> tuple[list[Service], list[str]]:
    """Every service that decodes, and the ids of those that do not (see decode_services)."""
    return decode_services(await services_as_text(conn))
