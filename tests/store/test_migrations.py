"""Migrations: applied in order, recorded, idempotent, append-only, and safe for replicas starting together."""

from __future__ import annotations

import asyncio
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from service.settings import PROJECT_ROOT
from service.store.migrate import MigrationError, discover, migrate
from tests.conftest import _with_database

SCHEMA = PROJECT_ROOT / "schema"


@pytest.fixture
async def empty_database(admin_dsn: str) -> AsyncIterator[str]:
    name = f"pathways_m_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'create database "{name}"')
    try:
        yield _with_database(admin_dsn, name)
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def test_migrations_are_applied_in_order_and_recorded(empty_database: str) -> None:
    conn = await asyncpg.connect(empty_database)
    try:
        applied = await migrate(conn, SCHEMA)
        assert [m.version for m in applied] == [m.version for m in discover(SCHEMA)]
        rows = await conn.fetch("select version, name from schema_migrations order by version")
        assert [(r["version"], r["name"]) for r in rows] == [(m.version, m.name) for m in applied]
        assert await migrate(conn, SCHEMA) == []
    finally:
        await conn.close()


async def test_two_replicas_migrating_at_once_apply_each_migration_once(empty_database: str) -> None:
    a, b = await asyncpg.connect(empty_database), await asyncpg.connect(empty_database)
    try:
        first, second = await asyncio.gather(migrate(a, SCHEMA), migrate(b, SCHEMA))
        assert sorted(len(x) for x in (first, second)) == [0, len(discover(SCHEMA))]
        assert await a.fetchval("select count(*) from schema_migrations") == len(discover(SCHEMA))
    finally:
        await a.close()
        await b.close()


async def test_an_applied_migration_that_was_edited_is_refused(empty_database: str, tmp_path: Path) -> None:
    schema = tmp_path / "schema"
    shutil.copytree(SCHEMA, schema)
    conn = await asyncpg.connect(empty_database)
    try:
        await migrate(conn, schema)
        first = sorted(schema.glob("0001_*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match="append-only"):
            await migrate(conn, schema)
    finally:
        await conn.close()
