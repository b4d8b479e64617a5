"""Migrations: applied in order, recorded, idempotent, append-only, and safe for replicas starting together."""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from service.settings import PROJECT_ROOT
from service.store.db import connect
from service.store.migrate import MigrationError, discover, migrate
from tests.conftest import _with_database

SCHEMA = PROJECT_ROOT / "schema"


@pytest.fixture
async def empty_database(admin_dsn: str) -> AsyncIterator[str]:
    name = f"pathways_m_{secrets.token_hex(4)}"
    admin = await connect(admin_dsn)
    await admin.execute(f'create database "{name}"')
    try:
        yield _with_database(admin_dsn, name)
    finally:
        await admin.execute(f'drop database if exists "{name}" with (force)')
        await admin.close()


async def test_migrations_are_applied_in_order_and_recorded(empty_database: str) -> None:
    conn = await connect(empty_database)
    try:
        applied = await migrate(conn, SCHEMA)
        assert [m.version for m in applied] == [m.version for m in discover(SCHEMA)]
        rows = await conn.fetch("select version, name from schema_migrations order by version")
        assert [(r["version"], r["name"]) for r in rows] == [(m.version, m.name) for m in applied]
        assert await migrate(conn, SCHEMA) == []
    finally:
        await conn.close()


async def test_two_replicas_migrating_at_once_apply_each_migration_once(empty_database: str) -> None:
    a, b = await connect(empty_database), await connect(empty_database)
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
    conn = await connect(empty_database)
    try:
        await migrate(conn, schema)
        first = sorted(schema.glob("0001_*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited\n")
        with pytest.raises(MigrationError, match="append-only"):
            await migrate(conn, schema)
    finally:
        await conn.close()


async def test_stored_times_without_a_zone_or_at_the_ends_of_the_calendar_are_repaired_with_a_change_record(
    empty_database: str, tmp_path: Path
) -> None:
    """Migration 0005: what earlier versions accepted (an `until` with no zone, dates in year 1 or 9999) is read as
    Europe/London and clamped into range, so every stored service decodes and searches can never fail on it."""
    early = tmp_path / "schema"
    early.mkdir()
    for path in sorted(SCHEMA.glob("000[1-4]_*.sql")):
        shutil.copy(path, early / path.name)
    conn = await connect(empty_database)
    try:
        await migrate(conn, early)
        rows = {
            "naive": ({"status": "full", "until": "2026-07-01T10:00:00", "note": ""}, None),
            "year-one": ({"status": "full", "until": "0001-01-01T00:00:00+14:00", "note": ""}, None),
            "year-9999": ({"status": "full", "until": "9999-12-31T23:59:59-23:59", "note": ""}, None),
            "verified-late": (None, {"verified_at": "9999-12-31T23:59:59-23:59", "verified_by": "x"}),
            "fine": (
                {"status": "full", "until": "2026-07-01T10:00:00Z", "note": ""},
                {"verified_at": "2026-01-01T00:00:00+01:00", "verified_by": "x"},
            ),
        }
        for slug, (capacity, verification) in rows.items():
            unknown = {"status": "unknown", "until": None, "note": ""}
            body: dict[str, Any] = {"slug": slug, "capacity": capacity or unknown}
            body["verification"] = verification
            await conn.execute(
                "insert into services (id, slug, name, kind, status, contexts, needs, search_text, body) "
                "values (gen_random_uuid(), $1, $1, 'other', 'active', '{}', '{}', $1, $2::jsonb)",
                slug,
                body,
            )
        await migrate(conn, SCHEMA)
        got = {
            r["slug"]: (r["until"], r["verified"], r["version"])
            for r in await conn.fetch(
                "select slug, version, (body #>> '{capacity,until}') as until, "
                "(body #>> '{verification,verified_at}') as verified from services"
            )
        }
        # 10:00 in London in July is 09:00 UTC; far past clamps to 2000; far future to at most 120 hours ahead.
        assert got["naive"][0].startswith("2026-07-01T09:00:00") and got["naive"][2] == 2
        assert got["year-one"][0].startswith("2000-01-01T00:00:00") and got["year-one"][2] == 2
        latest = dt.datetime.now(dt.UTC) + dt.timedelta(hours=120, minutes=1)
        assert dt.datetime.fromisoformat(got["year-9999"][0]) <= latest
        assert dt.datetime.fromisoformat(got["verified-late"][1]) <= dt.datetime.now(dt.UTC)
        assert got["fine"] == ("2026-07-01T10:00:00Z", "2026-01-01T00:00:00+01:00", 1)
        changes = await conn.fetch("select actor, entity_key, fields from changes order by id")
        assert len(changes) == 4 and {c["actor"] for c in changes} == {"migration:0005_aware_datetimes"}
        fields = changes[0]["fields"]
        assert fields and {"field", "old", "new"} <= set(fields[0])
    finally:
        await conn.close()


async def test_referral_moments_stored_exactly_by_earlier_versions_are_cut_to_the_hour(
    empty_database: str, tmp_path: Path
) -> None:
    """Migration 0010: a referral's last change and its history's moments were kept to the microsecond; they are
    kept to the hour, as its made_at always was, and nothing finer can be stored again."""
    early = tmp_path / "schema"
    early.mkdir()
    for path in sorted(SCHEMA.glob("000[1-9]_*.sql")):
        shutil.copy(path, early / path.name)
    conn = await connect(empty_database)
    try:
        await migrate(conn, early)
        exact = dt.datetime(2026, 3, 29, 1, 47, 12, 345678, tzinfo=dt.UTC)
        referral = await conn.fetchval(
            "insert into referrals (id, service_id, service_slug, service_name, context, made_at, age_band, gender, "
            "repeat_contact, outcome, version, recorded_by, updated_at) values (gen_random_uuid(), "
            "gen_random_uuid(), 's', 'S', 'custody', '2026-03-29T01:00:00Z', '25_34', 'female', 'no', 'accepted', 2, "
            "'t', $1) returning id",
            exact,
        )
        for version, at in ((1, exact - dt.timedelta(minutes=50)), (2, exact)):
            await conn.execute(
                "insert into referral_events (referral_id, version, at, actor, outcome) "
                "values ($1, $2, $3, 't', 'made')",
                referral,
                version,
                at,
            )
        await migrate(conn, SCHEMA)
        hour = dt.datetime(2026, 3, 29, 1, tzinfo=dt.UTC)
        assert await conn.fetchval("select updated_at from referrals") == hour
        assert [r["at"] for r in await conn.fetch("select at from referral_events order by version")] == [
            hour - dt.timedelta(hours=1),
            hour,
        ]
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("update referrals set updated_at = $1", exact)
        with pytest.raises(asyncpg.CheckViolationError):
            await conn.execute("update referral_events set at = $1", exact)
    finally:
        await conn.close()
