"""Loading the demo directory into an empty database."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

from service.domain.errors import InvalidInput
from service.domain.model import Taxonomies
from service.store.changes import directory_version
from service.store.db import Connection
from service.store.directory import ImportReport, import_directory
from service.store.keys import create_key
from service.store.postcodes import count_centroids, import_centroids
from service.store.sql import sql

DEMO_ACTOR = "demo-loader"
DEMO_POSTCODE_FILES = ("outcodes.csv", "postcode_sectors.csv")
"""Hand-made centroids for the demo areas, in the public layout, beside the demo directory."""
_DEMO_LOCK = 7_411_350_114


async def load_demo_if_empty(conn: Connection, demo_file: str | Path, vocab: Taxonomies) -> ImportReport | None:
    """Import the demo directory when nothing has ever been written; replicas starting together load it once."""
    async with conn.transaction():
        await conn.execute("set local lock_timeout = 0")  # a replica starting alongside waits for the loader
        await conn.execute("select pg_advisory_xact_lock($1)", _DEMO_LOCK)
        if await directory_version(conn) != 0:
            return None
        data = await asyncio.to_thread(Path(demo_file).read_bytes)
        report = await import_directory(conn, data, actor=DEMO_ACTOR, vocab=vocab)
        if await count_centroids(conn) == 0:
            for name in DEMO_POSTCODE_FILES:
                path = Path(demo_file).parent / name
                if path.is_file():
                    await import_centroids(conn, await asyncio.to_thread(path.read_text, encoding="utf-8"))
        return report


DEMO_KEYS: tuple[tuple[str, str, str | None, str | None], ...] = (
    ("Demo admin", "admin", None, None),
    ("Demo Humberside editor", "editor", "E23000012", None),
    ("Demo Hull s136 suite", "provider", None, "hull-place-of-safety"),
)
"""The keys a first demo start makes (PATHWAYS_DEMO_KEYS, which `make run` sets): name, role, area, service."""


async def create_demo_keys(conn: Connection) -> list[tuple[str, str]]:
    """One key of each kind a person signs in with, for the demo directory just loaded: (what it is, the key).
    The keys are shown once, like any other; those whose area or service the demo lacks are not made."""
    made = []
    for name, role, area, slug in DEMO_KEYS:
        services: tuple[uuid.UUID, ...] = ()
        if slug is not None:
            found = await conn.fetchval(sql("services_id_by_slug"), slug)
            if found is None:
                continue
            services = (found,)
        try:
            created = await create_key(
                conn,
                name=name,
                role=role,  # type: ignore[arg-type]
                area_codes=(area,) if area else (),
                service_ids=services,
                created_by=DEMO_ACTOR,
            )
        except InvalidInput:
            continue
        made.append((f"{name} ({role})", created.key))
    return made
