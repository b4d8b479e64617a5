"""Areas: police force areas, local authorities and custom areas, with their boundaries."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg
import msgspec

from service.domain.errors import InvalidInput, NotFound, PreconditionFailed
from service.domain.geometry import bbox, contains
from service.domain.model import Area, AreaBody, AreaSummary, Point, StoredArea
from service.domain.validation import area_problems
from service.domain.versioning import etag, if_match_allows
from service.store import changes
from service.store.db import Connection, translate_errors
from service.store.sql import sql

WriteResult = Literal["created", "updated", "unchanged"]


def _from_row(row: asyncpg.Record) -> StoredArea:
    return msgspec.convert(dict(row.items()), StoredArea)


def plain(area: StoredArea | Area) -> Area:
    return Area(code=area.code, kind=area.kind, name=area.name, boundary=area.boundary)


async def get_area(conn: Connection, code: str) -> StoredArea:
    row = await conn.fetchrow(sql("areas_get"), code)
    if row is None:
        raise NotFound("area", code)
    return _from_row(row)


async def list_areas(conn: Connection, kind: str | None, limit: int, offset: int) -> tuple[list[AreaSummary], int]:
    rows = await conn.fetch(sql("areas_list"), kind, limit, offset)
    total = int(rows[0]["total"]) if rows else 0
    items = [
        AreaSummary(
            code=r["code"],
            kind=r["kind"],
            name=r["name"],
            bbox=(r["min_lon"], r["min_lat"], r["max_lon"], r["max_lat"]),
            version=r["version"],
        )
        for r in rows
        if r["code"] is not None
    ]
    return items, total


def check_area(area: AreaBody) -> None:
    problems = area_problems(area)
    if problems:
        raise InvalidInput(tuple(problems))


async def write_area(
    conn: Connection, area: Area, *, actor: str, import_: bool = False, if_match: str | None = None
) -> tuple[StoredArea, WriteResult]:
    """Create or replace an already-checked area; an identical one changes nothing."""
    box = bbox(area.boundary)
    row = await conn.fetchrow(sql("areas_lock"), area.code)
    if if_match is not None and not if_match_allows(if_match, row["version"] if row else 0):
        raise PreconditionFailed(etag(row["version"]) if row else "none")
    new: dict[str, Any] = msgspec.to_builtins(AreaBody(kind=area.kind, name=area.name, boundary=area.boundary))
    if row is None:
        with translate_errors():
            created = await conn.fetchrow(sql("areas_insert"), area.code, area.kind, area.name, area.boundary, *box)
        assert created is not None
        stored, result, old = _from_row(created), "created", None
        operation = "import" if import_ else "create"
    else:
        current = _from_row(row)
        old = msgspec.to_builtins(AreaBody(kind=current.kind, name=current.name, boundary=current.boundary))
        if old == new:
            return current, "unchanged"
        with translate_errors():
            updated = await conn.fetchrow(sql("areas_update"), area.code, area.kind, area.name, area.boundary, *box)
        assert updated is not None
        stored, result = _from_row(updated), "updated"
        operation = "import" if import_ else "replace"
    await changes.record_change(
        conn,
        actor=actor,
        entity="area",
        key=area.code,
        operation=operation,
        version=stored.version,
        old=old,
        new=new,
    )
    return stored, result  # type: ignore[return-value]


async def put_area(
    conn: Connection, area: Area, *, actor: str, if_match: str | None = None
) -> tuple[StoredArea, WriteResult]:
    check_area(area)
    return await write_area(conn, area, actor=actor, if_match=if_match)


async def existing_codes(conn: Connection, codes: list[str]) -> set[str]:
    return {r["code"] for r in await conn.fetch(sql("areas_existing_codes"), codes)}


async def codes_containing(conn: Connection, point: Point) -> tuple[str, ...]:
    rows = await conn.fetch(sql("areas_near_point"), point.lon, point.lat)
    return tuple(a.code for a in map(_from_row, rows) if contains(a.boundary, point))


async def all_areas(conn: Connection) -> list[Area]:
    return [plain(_from_row(r)) for r in await conn.fetch(sql("areas_all"))]
