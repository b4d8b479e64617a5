"""Sites: the places people are referred from, such as custody suites and courts."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import msgspec

from service.domain.errors import Conflict, FieldProblem, InvalidInput, PreconditionFailed
from service.domain.model import Point, Site, SiteBody
from service.domain.validation import site_problems
from service.domain.versioning import etag, if_match_allows
from service.store import changes
from service.store.areas import WriteResult, codes_containing, existing_codes
from service.store.db import Connection, fetch_by_id_or_slug, translate_errors
from service.store.sql import sql


def _from_row(row: asyncpg.Record) -> Site:
    return Site(
        id=row["id"],
        slug=row["slug"],
        name=row["name"],
        kind=row["kind"],
        location=Point(lon=row["lon"], lat=row["lat"]),
        area_codes=tuple(row["area_codes"]),
        version=row["version"],
        updated_at=row["updated_at"],
    )


def body_of(site: SiteBody) -> SiteBody:
    return SiteBody(**{f: getattr(site, f) for f in SiteBody.__struct_fields__})


async def get_site(conn: Connection, key: str) -> Site:
    """By id or by slug."""
    return _from_row(await fetch_by_id_or_slug(conn, "site", key))


async def list_sites(
    conn: Connection, kind: str | None, area: str | None, limit: int, offset: int
) -> tuple[list[Site], int]:
    rows = await conn.fetch(sql("sites_list"), kind, area, limit, offset)
    total = int(rows[0]["total"]) if rows else 0
    return [_from_row(r) for r in rows if r["id"] is not None], total


async def unknown_area_problems(
    conn: Connection, body: SiteBody, extra: frozenset[str] = frozenset()
) -> list[FieldProblem]:
    found = await existing_codes(conn, list(body.area_codes)) | extra
    return [
        FieldProblem(field=f"area_codes[{i}]", reason=f"unknown area code {code!r}")
        for i, code in enumerate(body.area_codes)
        if code not in found
    ]


async def check_site(conn: Connection, body: SiteBody) -> None:
    problems = site_problems(body) + await unknown_area_problems(conn, body)
    if problems:
        raise InvalidInput(tuple(problems))


async def _with_area_codes(conn: Connection, body: SiteBody) -> SiteBody:
    if body.area_codes:
        return body
    return msgspec.structs.replace(body, area_codes=await codes_containing(conn, body.location))


def _params(body: SiteBody) -> tuple[Any, ...]:
    return (body.slug, body.name, body.kind, body.location.lon, body.location.lat, list(body.area_codes))


async def _check_slug_free(conn: Connection, slug: str, own_id: uuid.UUID | None) -> None:
    owner = await conn.fetchval(sql("sites_slug_owner"), slug)
    if owner is not None and owner != own_id:
        raise Conflict("slug", f"slug {slug!r} is already used by site {owner}")


async def write_site(
    conn: Connection,
    body: SiteBody,
    *,
    actor: str,
    operation: str,
    current: Site | None,
    site_id: uuid.UUID | None = None,
) -> tuple[Site, WriteResult]:
    """Create (current is None) or overwrite an already-checked site."""
    body = await _with_area_codes(conn, body)
    new = msgspec.to_builtins(body)
    old = msgspec.to_builtins(body_of(current)) if current is not None else None
    if current is not None and old == new:
        return current, "unchanged"
    await _check_slug_free(conn, body.slug, current.id if current else None)
    with translate_errors():
        if current is None:
            row = await conn.fetchrow(sql("sites_insert"), site_id or uuid.uuid4(), *_params(body))
        else:
            row = await conn.fetchrow(sql("sites_update"), current.id, *_params(body))
    assert row is not None
    site = _from_row(row)
    await changes.record_change(
        conn, actor=actor, entity="site", key=str(site.id), operation=operation, version=site.version, old=old, new=new
    )
    return site, "created" if current is None else "updated"


async def create_site(conn: Connection, body: SiteBody, *, actor: str) -> Site:
    await check_site(conn, body)
    site, _ = await write_site(conn, body, actor=actor, operation="create", current=None)
    return site


async def lock_site(conn: Connection, site_id: uuid.UUID) -> Site | None:
    row = await conn.fetchrow(sql("sites_lock"), site_id)
    return _from_row(row) if row is not None else None


async def replace_site(conn: Connection, key: str, body: SiteBody, *, actor: str, if_match: str | None) -> Site:
    found = await get_site(conn, key)
    current = await lock_site(conn, found.id)
    assert current is not None
    if not if_match_allows(if_match, current.version):
        raise PreconditionFailed(etag(current.version))
    await check_site(conn, body)
    site, _ = await write_site(conn, body, actor=actor, operation="replace", current=current)
    return site


async def all_sites(conn: Connection) -> list[Site]:
    return [_from_row(r) for r in await conn.fetch(sql("sites_all"))]


async def slug_owner(conn: Connection, slug: str) -> uuid.UUID | None:
    owner: uuid.UUID | None = await conn.fetchval(sql("sites_slug_owner"), slug)
    return owner
