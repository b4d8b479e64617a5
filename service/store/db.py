"""The pool, the JSON codec, the database's lifecycle, and the one place driver errors become domain errors."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
import msgspec

from service.domain.errors import Conflict, NotFound, invalid
from service.settings import Settings
from service.store.embedded import EmbeddedPostgres
from service.store.sql import sql

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # A plain connection or one lent by the pool: the store accepts either.
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
    Pool: TypeAlias = asyncpg.Pool[asyncpg.Record]
else:
    Connection = asyncpg.Connection
    Pool = asyncpg.Pool


def _encode_json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


async def _init_connection(conn: Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(name, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


async def create_pool(dsn: str, min_size: int = 1, max_size: int = 10) -> Pool:
    pool = await asyncpg.create_pool(dsn, min_size=min_size, max_size=max_size, init=_init_connection)
    assert pool is not None
    return pool


@dataclass(frozen=True)
class Database:
    pool: Pool
    dsn: str
    embedded: bool


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[Database]:
    """The configured PostgreSQL, or an embedded one in settings.data_dir when DATABASE_URL is unset."""
    embedded: EmbeddedPostgres | None = None
    dsn = settings.database_url
    if dsn is None:
        embedded = EmbeddedPostgres(settings.data_dir)
        dsn = await asyncio.to_thread(embedded.start)
    try:
        pool = await create_pool(dsn, settings.pool_min_size, settings.pool_max_size)
        try:
            yield Database(pool=pool, dsn=dsn, embedded=embedded is not None)
        finally:
            await pool.close()
    finally:
        if embedded is not None:
            await asyncio.to_thread(embedded.stop)


async def fetch_by_id_or_slug(conn: Connection, entity: str, key: str) -> asyncpg.Record:
    """One service or site row by its UUID, else by its slug; NotFound when neither matches."""
    try:
        row = await conn.fetchrow(sql(f"{entity}s_get_by_id"), uuid.UUID(key))
    except ValueError:
        row = await conn.fetchrow(sql(f"{entity}s_get_by_slug"), key)
    if row is None:
        raise NotFound(entity, key)
    return row


_UNIQUE_FIELD = re.compile(r"^(?:services|sites|areas)_(\w+?)_key$")


@contextmanager
def translate_errors() -> Iterator[None]:
    """Driver errors that reach here are input the domain checks missed; name the field, never 500."""
    try:
        yield
    except asyncpg.UniqueViolationError as e:
        match = _UNIQUE_FIELD.match(e.constraint_name or "")
        field = match.group(1) if match else "id"
        raise Conflict(field, f"another record already has this {field}") from e
    except asyncpg.CheckViolationError as e:
        raise invalid(e.column_name or e.constraint_name or "body", "value not allowed") from e
    except (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError) as e:
        raise invalid(getattr(e, "column_name", None) or "body", str(e)) from e
