"""Numbered, append-only migrations from schema/NNNN_name.sql, applied in order under an advisory lock."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from service.store.db import Connection
from service.store.sql import sql

# pg_advisory_lock key: any fixed bigint, the same in every replica.
MIGRATION_LOCK = 7_411_350_113
MIGRATION_TIMEOUT = 3600.0
"""Seconds the client waits for one migration (or for another replica's)."""
_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


class MigrationError(RuntimeError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(schema_dir: str | Path) -> list[Migration]:
    migrations: list[Migration] = []
    for path in sorted(Path(schema_dir).glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path.name}: migrations are named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(versions) + 1)):
        raise MigrationError(f"migration numbers must run 1, 2, 3 … without gaps; found {versions}")
    return migrations


async def applied_versions(conn: Connection) -> dict[int, str]:
    exists = await conn.fetchval("select to_regclass('schema_migrations') is not null")
    if not exists:
        return {}
    rows = await conn.fetch("select version, checksum from schema_migrations")
    return {r["version"]: r["checksum"] for r in rows}


async def pending(conn: Connection, schema_dir: str | Path) -> list[Migration]:
    done = await applied_versions(conn)
    return [m for m in discover(schema_dir) if m.version not in done]


async def migrate(conn: Connection, schema_dir: str | Path) -> list[Migration]:
    """Apply what is missing, each in its own transaction; two replicas starting together queue on the lock."""
    migrations = discover(schema_dir)
    # A migration may take longer than a request should, and a replica may wait for another's migrations: the
    # session's statement and lock timeouts do not apply here (the pool's defaults come back on RESET ALL).
    await conn.execute("set statement_timeout = 0; set lock_timeout = 0", timeout=MIGRATION_TIMEOUT)
    await conn.execute("select pg_advisory_lock($1)", MIGRATION_LOCK, timeout=MIGRATION_TIMEOUT)
    try:
        await conn.execute(sql("migrations_table"))
        done = await applied_versions(conn)
        for m in migrations:
            if m.version in done and done[m.version] != m.checksum:
                raise MigrationError(
                    f"migration {m.version:04d}_{m.name} changed after it was applied; migrations are append-only"
                )
        applied: list[Migration] = []
        for m in migrations:
            if m.version in done:
                continue
            async with conn.transaction():
                await conn.execute(m.sql, timeout=MIGRATION_TIMEOUT)
                await conn.execute(sql("migrations_record"), m.version, m.name, m.checksum)
            applied.append(m)
        return applied
    finally:
        await conn.execute("select pg_advisory_unlock($1)", MIGRATION_LOCK)
        await conn.execute("reset statement_timeout; reset lock_timeout")
